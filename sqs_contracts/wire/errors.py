"""Errors of the wire format: a message that cannot become a job, or a job SQS would refuse
(too large, too many attributes) or JSON consumers could not read back."""

from __future__ import annotations

from sqs_contracts.sessions.errors import SQSError


class MessageTooLarge(SQSError, ValueError):
    """A single job encodes to more bytes than its queue accepts."""

    def __init__(self, job_name: str, queue_name: str, size: int, limit: int) -> None:
        self.job_name, self.queue_name, self.size, self.limit = job_name, queue_name, size, limit
        super().__init__(
            f"job {job_name!r} for queue {queue_name!r} encodes to {size:,} bytes (body + "
            f"attributes), over the queue's limit of {limit:,} bytes; send a reference "
            f"(an S3 key, a database id) instead of the data, or raise MaximumMessageSize"
        )

    def __reduce__(self) -> tuple[type[MessageTooLarge], tuple[str, str, int, int]]:
        return (type(self), (self.job_name, self.queue_name, self.size, self.limit))


class TooManyAttributes(SQSError, ValueError):
    """A message would carry more message attributes than the 10 SQS accepts."""

    def __init__(self, job_name: str, queue_name: str, names: list[str], added: list[str]) -> None:
        self.job_name, self.queue_name, self.names, self.added = job_name, queue_name, names, added
        by_middleware = f"; middleware added {added}" if added else ""
        super().__init__(
            f"job {job_name!r} for queue {queue_name!r} would carry {len(names)} message "
            f"attributes ({', '.join(names)}){by_middleware}, over SQS's limit of 10; send "
            f"fewer attributes of your own, or drop the middleware that adds them"
        )

    def __reduce__(self) -> tuple[type[TooManyAttributes], tuple[str, str, list[str], list[str]]]:
        return (type(self), (self.job_name, self.queue_name, self.names, self.added))


class InvalidMessage(SQSError):
    """A received message cannot become a job: bad encoding, unknown type or invalid payload."""

    def __init__(self, reason: str, *, job_name: str | None = None) -> None:
        self.reason, self.job_name = reason, job_name
        super().__init__(reason)


class ContentTypeNotAllowed(InvalidMessage):
    """A message uses a content type (such as pickle) that this consumer does not accept."""


class UnsendableValue(SQSError, ValueError):
    """A job's value that a JSON consumer cannot read back as it was sent (NaN, a lone
    surrogate): raised when the job is enqueued, naming the job and the field."""

    def __init__(
        self,
        field: str,
        value: object,
        reason: str,
        job_name: str | None = None,
        queue_name: str | None = None,
    ) -> None:
        self.field, self.value, self.reason = field, value, reason
        self.job_name, self.queue_name = job_name, queue_name
        super().__init__(field, value, reason, job_name, queue_name)

    def __str__(self) -> str:
        where = f"job {self.job_name!r}" if self.job_name else "a job"
        if self.queue_name:
            where += f" for queue {self.queue_name!r}"
        field = f"field {self.field!r}" if self.field else "its payload"
        return f"{where}: {field} = {self.value!r:.60} cannot be sent: {self.reason}"

    def located(self, job_name: str, queue_name: str | None = None) -> UnsendableValue:
        """The same error naming the job (and queue) it was raised for."""
        return UnsendableValue(
            self.field,
            self.value,
            self.reason,
            job_name=job_name,
            queue_name=queue_name or self.queue_name,
        )

    def under(self, prefix: str) -> UnsendableValue:
        """The same error with its field path under ``prefix`` (``JobContext``...)."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return UnsendableValue(field, self.value, self.reason, job_name=self.job_name)
