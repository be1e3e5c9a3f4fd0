"""Message attributes in the in-memory SQS: validation, SQS's MD5 and receive-time filtering."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqs_contracts.sessions.memory_checks import BAD_CHARS, SQSFault, invalid

_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_ATTRIBUTE_TYPE = re.compile(r"(String|Number|Binary)(\..+)?")
MAX_MESSAGE_ATTRIBUTES = 10
"""The most message attributes SQS accepts on one message."""

Attributes = dict[str, dict[str, Any]]
"""Normalized message attributes: name -> {"DataType", "StringValue" | "BinaryValue"}."""


def normalize_message_attributes(
    attributes: Mapping[str, Mapping[str, Any]] | None,
) -> tuple[Attributes, int]:
    """Validate message attributes; return them normalized and their size in bytes."""
    if not attributes:
        return {}, 0
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise invalid(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_MESSAGE_ATTRIBUTES}]."
        )
    result: Attributes = {}
    size = 0
    for name, attr in attributes.items():
        lowered = name.lower()
        if (
            not _ATTRIBUTE_NAME.fullmatch(name)
            or lowered.startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise invalid(f"Message (user) attribute name '{name}' is invalid.")
        data_type = attr.get("DataType")
        if not isinstance(data_type, str) or not _ATTRIBUTE_TYPE.fullmatch(data_type):
            raise invalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        if data_type.startswith("Binary"):
            raw = attr.get("BinaryValue")
            value: bytes = raw.encode() if isinstance(raw, str) else bytes(raw or b"")
            if not value:
                raise _empty_attribute(name, data_type)
            result[name] = {"DataType": data_type, "BinaryValue": value}
            size += len(value)
        else:
            text = attr.get("StringValue")
            if not isinstance(text, str) or not text:
                raise _empty_attribute(name, data_type)
            if data_type.startswith("Number"):
                try:
                    Decimal(text)
                except InvalidOperation:
                    raise invalid(
                        f"Can't cast the value of message (user) attribute '{name}' to a number."
                    ) from None
            elif BAD_CHARS.search(text):
                raise invalid(f"Message (user) attribute '{name}' contains invalid characters.")
            result[name] = {"DataType": data_type, "StringValue": text}
            size += len(text.encode())
        size += len(name.encode()) + len(data_type.encode())
    return result, size


def _empty_attribute(name: str, data_type: str) -> SQSFault:
    return invalid(
        f"The message attribute '{name}' must contain non-empty message attribute value "
        f"for message attribute type '{data_type.split('.', maxsplit=1)[0]}'."
    )


class AttributeCache:
    """Memoized validation and MD5 of message attributes: producers repeat a few sets."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._cache: dict[tuple[Any, ...], tuple[Attributes, int, str | None]] = {}
        self._last: tuple[Attributes, int, str | None] | None = None

    def prepare(
        self, attributes: Mapping[str, Mapping[str, Any]] | None
    ) -> tuple[Attributes, int, str | None]:
        """Return the normalized attributes, their size and their MD5 (None without any)."""
        if not attributes:
            return {}, 0, None
        last = self._last
        # Attributes equal to the last normalized set normalize to it: a producer sends the
        # same set again and again, and one comparison is cheaper than building the key.
        if last is not None and attributes == last[0]:
            return last
        key: tuple[Any, ...] | None
        try:
            key = tuple(
                [
                    (n, a.get("DataType"), a.get("StringValue"), a.get("BinaryValue"))
                    for n, a in attributes.items()
                ]
            )
            hit = self._cache.get(key)
        except (TypeError, AttributeError):  # unhashable or malformed: validate the slow way
            key, hit = None, None
        if hit is not None:
            self._last = hit
            return hit
        attrs, size = normalize_message_attributes(attributes)
        result = (attrs, size, md5_of_attributes(attrs))
        if key is not None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            self._cache[key] = result
        self._last = result
        return result


def md5_of_attributes(attributes: Attributes) -> str:
    """Return SQS's ``MD5OfMessageAttributes`` (AWS's length-prefixed encoding, sorted by name)."""
    digest = hashlib.md5()
    for name in sorted(attributes):
        attr = attributes[name]
        for part in (name.encode(), attr["DataType"].encode()):
            digest.update(len(part).to_bytes(4, "big") + part)
        if "BinaryValue" in attr:
            value = attr["BinaryValue"]
            digest.update(b"\x02" + len(value).to_bytes(4, "big") + value)
        else:
            text = attr["StringValue"].encode()
            digest.update(b"\x01" + len(text).to_bytes(4, "big") + text)
    return digest.hexdigest()


def copy_attributes(attributes: Attributes, names: Sequence[str] | None) -> Attributes:
    """Return the attributes a receive asked for: ``All``/``.*``, exact names or ``prefix.*``."""
    if not names or not attributes:
        return {}
    if "All" in names or ".*" in names:
        return {k: v.copy() for k, v in attributes.items()}
    exact = {n for n in names if not n.endswith(".*")}
    prefixes = tuple(n[:-1] for n in names if n.endswith(".*"))
    return {
        k: dict(v)
        for k, v in attributes.items()
        if k in exact or (prefixes and k.startswith(prefixes))
    }
