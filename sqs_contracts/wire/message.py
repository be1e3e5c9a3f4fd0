"""Message: one received SQS message, the same read-only record everywhere a user sees one.

It is a ``Mapping`` with SQS's keys (``message["Body"]``, ``["MessageAttributes"]``...) and
also has boto3's ``sqs.Message`` attribute names (``.body``, ``.message_id``...), so raw
processors written for sqs-workers, which received boto3 messages, run unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, overload

from sqs_contracts.wire.payload_pointer import PayloadPointer

_EMPTY: Mapping[str, Any] = {}


class Message(Mapping[str, Any]):
    """A received SQS message: SQS's keys as a read-only mapping, and boto3's attribute names."""

    __slots__ = ("_data", "payload_error", "pointer", "queue_url")

    def __init__(
        self,
        data: Mapping[str, Any],
        queue_url: str | None = None,
        *,
        pointer: PayloadPointer | None = None,
        payload_error: Exception | None = None,
    ) -> None:
        self._data: Mapping[str, Any] = data
        self.queue_url = queue_url
        """The URL of the queue it was received from, when known."""
        self.pointer = pointer
        """Where the body was stored in S3, when it came as a pointer and was resolved."""
        self.payload_error = payload_error
        """Why the body of a pointer message could not be read (the message is then invalid)."""

    def as_sent(self) -> Message:
        """The message as it is on the queue: the pointer body and size attribute of a
        resolved payload, and no pointer remembered (so deleting it keeps the S3 object)."""
        pointer = self.pointer
        if pointer is None:
            return self
        data = dict(self._data)
        data["Body"] = pointer.body()
        data["MessageAttributes"] = {**self.message_attributes, **pointer.attributes()}
        return Message(data, self.queue_url)

    @classmethod
    def of(cls, message: Mapping[str, Any], queue_url: str | None = None) -> Message:
        """Return ``message`` itself when it is a ``Message``, else wrap the dict."""
        if isinstance(message, Message):
            return message
        return cls(message, queue_url)

    # -- the mapping ---------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    @overload
    def get(self, key: str) -> Any: ...

    @overload
    def get(self, key: str, default: Any) -> Any: ...

    def get(self, key: str, default: Any = None) -> Any:
        """The value of an SQS key, or ``default``."""
        return self._data.get(key, default)

    def __repr__(self) -> str:
        body = self._data.get("Body", "")
        return f"Message(id={self.message_id!r}, body={body[:60]!r})"

    def to_dict(self) -> dict[str, Any]:
        """A shallow copy of the SQS fields as a plain dict."""
        return dict(self._data)

    # -- boto3's names ---------------------------------------------------------------------------

    @property
    def body(self) -> str:
        """The message body."""
        return str(self._data.get("Body", ""))

    @property
    def message_id(self) -> str:
        """SQS's ``MessageId``."""
        return str(self._data.get("MessageId", ""))

    @property
    def receipt_handle(self) -> str:
        """The receipt handle of this receive."""
        return str(self._data.get("ReceiptHandle", ""))

    @property
    def md5_of_body(self) -> str | None:
        """SQS's MD5 digest of the body."""
        return self._data.get("MD5OfBody")

    @property
    def md5_of_message_attributes(self) -> str | None:
        """SQS's MD5 digest of the message attributes, when there are any."""
        return self._data.get("MD5OfMessageAttributes")

    @property
    def attributes(self) -> Mapping[str, str]:
        """System attributes (``ApproximateReceiveCount``, ``SentTimestamp``...)."""
        return self._data.get("Attributes") or _EMPTY

    @property
    def message_attributes(self) -> Mapping[str, Mapping[str, Any]]:
        """Message attributes: name -> ``{"DataType", "StringValue" | "BinaryValue"}``."""
        return self._data.get("MessageAttributes") or _EMPTY

    @property
    def receive_count(self) -> int:
        """``ApproximateReceiveCount`` as an int (1 when absent or not a number)."""
        try:
            return int(self.attributes.get("ApproximateReceiveCount", 1))
        except (TypeError, ValueError):
            return 1


def fields_of(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """The SQS fields of a received message, to read: a ``Message``'s own mapping, else the
    mapping itself (it spares the decoding path a Python call per key it reads)."""
    return message._data if type(message) is Message else message
