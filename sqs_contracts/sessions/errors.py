"""The library's errors for SQS calls, and the translation of botocore's errors into them.

Every session raises these, so nothing above ``sessions`` imports botocore. The errors for
SQS answers also subclass botocore's ``ClientError`` (keeping ``response`` and
``operation_name``), so code written for sqs-workers that catches ``ClientError`` still works.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)


class SQSError(Exception):
    """Base class of the library's errors."""


class QueueConfigError(SQSError, ValueError):
    """A queue was configured in a way SQS or the library does not accept."""


class EndpointConfigError(SQSError, ValueError):
    """The SQS endpoint cannot be reached as configured (no region, no credentials)."""


class SQSServiceError(SQSError, ClientError):
    """An error answer from SQS; ``code`` is SQS's error code, ``__cause__`` the original."""

    def __init__(
        self, error_response: Mapping[str, Any], operation_name: str, detail: str | None = None
    ) -> None:
        ClientError.__init__(self, dict(error_response), operation_name)  # type: ignore[arg-type]
        self.detail = detail

    def __str__(self) -> str:
        return self.detail or ClientError.__str__(self)

    def __reduce__(self) -> Any:
        return (type(self), (self.response, self.operation_name, self.detail))

    @property
    def code(self) -> str:
        """SQS's error code, such as ``AWS.SimpleQueueService.NonExistentQueue``."""
        return str(self.response.get("Error", {}).get("Code", ""))


class QueueNotFound(SQSServiceError, LookupError):
    """The queue does not exist on the SQS endpoint the env talks to."""


class AccessDenied(SQSServiceError, PermissionError):
    """The credentials are missing, invalid or lack permission: waiting will not fix it."""


class TransientError(SQSServiceError):
    """Throttling, a server error or a lost connection: the same call may succeed later."""


class SQSBatchError(SQSError):
    """Some entries of a batch request failed; ``errors`` holds SQS's ``Failed`` entries."""

    def __init__(self, errors: Sequence[Mapping[str, Any]], message: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(message or f"{len(self.errors)} batch entries failed: {self.errors}")


class SendBatchError(SQSBatchError):
    """Messages of a ``SendMessageBatch`` still failed after the retries; none were dropped."""

    def __init__(self, queue_name: str, errors: Sequence[Mapping[str, Any]]) -> None:
        names = ", ".join(
            f"{e.get('JobName', '?')} (id {e.get('Id')}: {e.get('Code')} {e.get('Message', '')})"
            for e in errors
        )
        super().__init__(
            errors,
            f"{len(errors)} message(s) could not be sent to queue {queue_name!r} after "
            f"retrying: {names}; they were not sent, re-enqueue them or check the queue",
        )
        self.queue_name = queue_name


NONEXISTENT_QUEUE_CODES = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
)
"""Under the JSON protocol SQS answers a missing queue with either code."""

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "MissingAuthenticationToken",
        "InvalidSecurity",
        "KMS.AccessDeniedException",
    }
)
"""Codes that mean the caller is not allowed: retrying cannot help."""

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "AWS.SimpleQueueService.RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "KmsThrottled",
        "KMS.ThrottlingException",
        "RequestTimeout",
    }
)
"""Codes that mean "not now": retrying later can succeed."""

_CONNECTION_ERRORS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)


_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")


def _codes(response: Mapping[str, Any]) -> set[str]:
    """The error's codes: botocore's, the query-compatible one, and the one inside an XML
    answer botocore could not parse (moto answers a JSON request's auth failure in XML)."""
    error = response.get("Error", {})
    codes = {str(error.get("Code", "")), str(error.get("QueryErrorCode", ""))}
    codes.update(_XML_CODE.findall(str(error.get("Message", ""))))
    return codes - {""}


def _error_class(response: Mapping[str, Any]) -> type[SQSServiceError]:
    codes = _codes(response)
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if codes & NONEXISTENT_QUEUE_CODES:
        return QueueNotFound
    # By code: SQS answers PurgeQueueInProgress, among others, with a 403 as well; a 403
    # whose code could not be read at all is taken as refused credentials.
    if codes & ACCESS_DENIED_CODES or (status == 403 and all(c.isdigit() for c in codes)):
        return AccessDenied
    if codes & THROTTLING_CODES or status >= 500:
        return TransientError
    return SQSServiceError


def service_error(
    response: Mapping[str, Any], operation_name: str, detail: str | None = None
) -> SQSServiceError:
    """The library error for an SQS error answer: its class chosen by code and status."""
    return _error_class(response)(response, operation_name, detail)


def _synthetic(
    code: str, message: str, operation: str, cls: type[SQSServiceError]
) -> SQSServiceError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}
    return cls(response, operation, f"{operation}: {message}")


def _described(exc: Exception) -> tuple[str, str, type[SQSServiceError]] | None:
    """The code, message and class of a botocore error that is not an SQS answer."""
    if isinstance(exc, _CONNECTION_ERRORS):
        return (
            "ConnectionError",
            f"cannot reach the SQS endpoint ({exc}); retried while it lasts",
            TransientError,
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (
            "NoCredentials",
            f"{exc}: configure AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            f"a profile or a role)",
            AccessDenied,
        )
    if isinstance(exc, BotoCoreError) and not isinstance(exc, NoRegionError):
        return "ClientFailure", str(exc), TransientError
    return None


def translate(exc: Exception, operation_name: str) -> Exception:
    """Translate a botocore error into the library's; anything else is returned unchanged."""
    if isinstance(exc, SQSError):
        return exc
    if isinstance(exc, ClientError):
        return service_error(exc.response, exc.operation_name or operation_name)
    if isinstance(exc, NoRegionError):
        return EndpointConfigError(
            f"{operation_name}: no AWS region is configured: set AWS_DEFAULT_REGION or pass "
            f"SQSEnv(region_name=...)"
        )
    described = _described(exc)
    if described is None:
        return exc
    code, message, cls = described
    return _synthetic(code, message, operation_name, cls)


def error_code(exc: BaseException) -> str:
    """Return the SQS error code an exception carries ("" when it carries none)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_nonexistent_queue(exc: BaseException) -> bool:
    """Tell whether an exception says the queue does not exist."""
    return isinstance(exc, QueueNotFound) or error_code(exc) in NONEXISTENT_QUEUE_CODES
