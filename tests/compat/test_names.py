"""Every public name of sqs-workers 0.7.3 imports from the same path under ``sqs_contracts``.

The public names of a submodule are the names it defines at top level (classes, functions,
assignments) without a leading underscore; names it merely imports are not its API.
"""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest
import sqs_workers

SUBMODULES = [
    "async_task",
    "backoff_policies",
    "batching",
    "codecs",
    "context",
    "core",
    "deadletter_queue",
    "exceptions",
    "memory_sqs",
    "processors",
    "queue",
    "shutdown_policies",
    "sqs_env",
    "sqs_manage",
]
# sqs_workers.config (an unused option store) and sqs_workers.utils (its private argument
# binding helpers) are not part of the documented API and have no counterpart.

OMITTED = {
    # Module loggers are not API; ours have their own names.
    "core.logger": "module logger",
    "deadletter_queue.logger": "module logger",
    "memory_sqs.logger": "module logger",
    "processors.logger": "module logger",
    "queue.logger": "module logger",
    "sqs_env.logger": "module logger",
    # Helpers of sqs-workers' Processor that read boto3 Message objects; our processors get
    # Message records and decode them with sqs_contracts.wire.envelope.decode_message.
    "processors.get_job_content_type": "boto3 Message helper",
    "processors.get_job_context": "boto3 Message helper",
    "processors.call_handler": "replaced by validation against the signature model",
    # One stateful IdleShutdown shared by every worker of the process; a fresh policy per
    # worker is sqs_contracts.shutdown_policies.asap_shutdown() (or IdleShutdown(0)).
    "shutdown_policies.ASAP_SHUTDOWN": "shared mutable state",
    # The objects imitating boto3's client and resource; our MemorySession implements the
    # narrow SQSSession interface instead, so these have no counterpart.
    "memory_sqs.MemoryAWS": "boto3 imitation",
    "memory_sqs.MemoryClient": "boto3 imitation",
    "memory_sqs.ServiceResource": "boto3 imitation",
    "memory_sqs.MemoryQueue": "boto3 imitation",
    "memory_sqs.MemoryMessage": "boto3 imitation",
}


def _defined_names(module_name: str) -> list[str]:
    module = importlib.import_module(f"sqs_workers.{module_name}")
    tree = ast.parse(inspect.getsource(module))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


PUBLIC = [(m, n) for m in SUBMODULES for n in _defined_names(m)]
KEPT = [(m, n) for m, n in PUBLIC if f"{m}.{n}" not in OMITTED]


def test_sqs_workers_version() -> None:
    from importlib.metadata import version

    assert version("sqs-workers") == "0.7.3"


@pytest.mark.parametrize("name", sqs_workers.__all__)
def test_top_level_name(name: str) -> None:
    import sqs_contracts

    assert name in sqs_contracts.__all__
    assert getattr(sqs_contracts, name) is not None


@pytest.mark.parametrize(("module", "name"), KEPT, ids=[f"{m}.{n}" for m, n in KEPT])
def test_submodule_name(module: str, name: str) -> None:
    ours = importlib.import_module(f"sqs_contracts.{module}")
    assert hasattr(ours, name), f"sqs_contracts.{module} lacks {name}"


def test_omissions_are_still_in_sqs_workers() -> None:
    # A stale entry would hide a name that sqs-workers no longer has, or a typo.
    public = {f"{m}.{n}" for m, n in PUBLIC}
    assert set(OMITTED) <= public


def test_batching_reachable_from_package() -> None:
    # sqs-workers' own tests do `from sqs_workers import batching`.
    from sqs_contracts import batching

    assert batching.BatchMessages(3).batch_size == 3


def test_same_objects_through_alias_modules() -> None:
    from sqs_contracts import (
        core,
        env,
        errors,
        exceptions,
        memory_sqs,
        queue,
        sessions,
        sqs_env,
        sqs_manage,
    )
    from sqs_contracts.dispatch import results
    from sqs_contracts.queues import job_queue, management

    assert queue.JobQueue is job_queue.JobQueue
    assert sqs_env.SQSEnv is env.SQSEnv
    assert sqs_manage.create_fifo_queue is management.create_fifo_queue
    assert core.BatchProcessingResult is results.BatchProcessingResult
    assert exceptions.SQSError is errors.SQSError
    assert memory_sqs.MemorySession is sessions.MemorySession
    assert queue.SEND_BATCH_SIZE == sqs_workers.queue.SEND_BATCH_SIZE
    assert queue.MAX_MESSAGE_LENGTH == sqs_workers.queue.MAX_MESSAGE_LENGTH
    assert queue.DEFAULT_MESSAGE_GROUP_ID == sqs_workers.queue.DEFAULT_MESSAGE_GROUP_ID


def test_get_job_name_reads_received_messages() -> None:
    from sqs_contracts.core import get_job_name

    message = {"MessageAttributes": {"JobName": {"DataType": "String", "StringValue": "j"}}}
    assert get_job_name(message) == "j"
    assert get_job_name({"Body": "{}"}) is None
