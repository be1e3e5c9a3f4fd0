"""Contracts as documents: JSON Schema export, a compatibility check for CI, AsyncAPI 3.0."""

from sqs_contracts.schema.asyncapi import asyncapi_document, render_asyncapi, write_asyncapi
from sqs_contracts.schema.compat import Finding, Mode, Report, check_compatibility
from sqs_contracts.schema.discover import find_tasks
from sqs_contracts.schema.export import (
    contract_schema,
    contract_schemas,
    envelope_schema,
    export_schemas,
    load_schemas,
    outdated_files,
)

__all__ = [
    "Finding",
    "Mode",
    "Report",
    "asyncapi_document",
    "check_compatibility",
    "contract_schema",
    "contract_schemas",
    "envelope_schema",
    "export_schemas",
    "find_tasks",
    "load_schemas",
    "outdated_files",
    "render_asyncapi",
    "write_asyncapi",
]
