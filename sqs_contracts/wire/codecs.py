"""Codecs: how a job's keyword arguments become a message body, by content type.

``json`` writes exactly what sqs-workers writes (stdlib formatting), ``orjson`` writes compact
JSON faster under the same ``json`` content type, and ``pickle``/``pickle_compat`` are
base64url(zlib(pickle)) with the default protocol and protocol 2. Both JSON encoders refuse
what a JSON consumer cannot read back (NaN, Infinity, lone surrogates), naming the field.
"""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol

import orjson

from sqs_contracts.sessions.errors import SQSError
from sqs_contracts.wire.json_safety import check_sendable, escape_noncharacters

DEFAULT_CONTENT_TYPE = "json"
"""The content type of new jobs unless ``SQSEnv(codec=...)`` says otherwise."""

PICKLE_PY2_COMPAT_PROTO = 2
PICKLE_CONTENT_TYPES = frozenset({"pickle", "pickle_compat"})
"""Content types that run code when decoded; a worker refuses them unless allowed."""


class Codec(Protocol):
    """Turns a payload (a dict of keyword arguments) into a message body and back."""

    @classmethod
    def serialize(cls, message: Any) -> str:
        """Encode a payload to a body string."""
        ...

    @classmethod
    def deserialize(cls, serialized: str) -> Any:
        """Decode a body string to a payload."""
        ...


# orjson decodes an integer outside [-2**63, 2**64) as a float, changing its value; such a
# float has a magnitude of at least 2**63, and the stdlib decodes those bodies exactly.
_INT64 = 2.0**63


def _has_huge_float(values: Iterable[Any]) -> bool:
    for value in values:
        kind = type(value)
        if kind is float:
            if not -_INT64 < value < _INT64:
                return True
        elif kind is dict:
            if _has_huge_float(value.values()):
                return True
        elif kind is list and _has_huge_float(value):
            return True
    return False


# json.dumps builds a new encoder whenever an option is given; one shared encoder keeps the
# stdlib's formatting (byte for byte what sqs-workers writes) at the cost of a plain dumps.
_STRICT_JSON = json.JSONEncoder(allow_nan=False)


def _stdlib_encoder() -> Callable[[Any], str]:
    """``_STRICT_JSON.encode`` without building the C encoder on every call."""
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _STRICT_JSON.encode
    # Without the markers dict it keeps no state between calls, so threads may share it; a
    # cycle then ends in RecursionError, which the stdlib's own encoder turns into its error.
    encode = make(
        None, _STRICT_JSON.default, json.encoder.encode_basestring_ascii, None,
        ": ", ", ", False, False, False,
    )  # fmt: skip

    def dumps(message: Any) -> str:
        try:
            return "".join(encode(message, 0))
        except RecursionError:
            return _STRICT_JSON.encode(message)

    return dumps


_dumps = _stdlib_encoder()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class JSONCodec:
    """JSON, formatted as ``json.dumps`` does, so bodies match sqs-workers byte for byte."""

    content_type: ClassVar[str] = "json"
    json_mode: ClassVar[bool] = True

    @classmethod
    def serialize(cls, message: Any) -> str:
        """Encode with ``json.dumps``; raise ``UnsendableValue`` on NaN or a lone surrogate."""
        try:
            body = _dumps(message)
        except ValueError:
            check_sendable(message)
            raise
        if "\\ud" in body:  # ensure_ascii writes every surrogate as an escape
            check_sendable(message)
        return body

    @classmethod
    def deserialize(cls, serialized: str) -> Any:
        """Decode any JSON exactly: orjson for speed, the stdlib for integers beyond 64 bits."""
        decoded = orjson.loads(serialized)
        if type(decoded) is dict and _has_huge_float(decoded.values()):
            return json.loads(serialized, parse_constant=_refuse_constant)
        return decoded


class OrjsonCodec(JSONCodec):
    """Compact JSON written by orjson: same ``json`` content type, any JSON decoder reads it."""

    @classmethod
    def serialize(cls, message: Any) -> str:
        """Encode with orjson (the stdlib past 64-bit integers); refuse NaN, lone surrogates."""
        try:
            body = orjson.dumps(message).decode()
        except orjson.JSONEncodeError:
            check_sendable(message)
            # Only integers orjson cannot write are left: the stdlib writes them exactly.
            body = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        if "null" in body:  # orjson writes NaN and Infinity as null
            check_sendable(message)
        return escape_noncharacters(body)


class PickleCodec:
    """base64url(zlib(pickle)) with the default pickle protocol; runs code when decoded."""

    content_type: ClassVar[str] = "pickle"
    json_mode: ClassVar[bool] = False
    protocol: ClassVar[int] = pickle.DEFAULT_PROTOCOL

    @classmethod
    def serialize(cls, message: Any) -> str:
        """Pickle, compress and base64url-encode."""
        data = zlib.compress(pickle.dumps(message, protocol=cls.protocol))
        return base64.urlsafe_b64encode(data).decode("latin1")

    @classmethod
    def deserialize(cls, serialized: str) -> Any:
        """Decode, decompress and unpickle (trusted producers only)."""
        data = zlib.decompress(base64.urlsafe_b64decode(serialized.encode("latin1")))
        return pickle.loads(data)


class PickleCompatCodec(PickleCodec):
    """Pickle protocol 2, the sqs-workers default content type ``pickle_compat``."""

    content_type: ClassVar[str] = "pickle_compat"
    protocol: ClassVar[int] = PICKLE_PY2_COMPAT_PROTO


CONTENT_TYPES_CODECS: dict[str, type[Codec]] = {
    "json": JSONCodec,
    "pickle": PickleCodec,
    "pickle_compat": PickleCompatCodec,
}
"""The content types a consumer can decode, by name."""

_ENCODERS: dict[str, tuple[str, type[Codec]]] = {"orjson": ("json", OrjsonCodec)}


class UnknownCodec(SQSError, KeyError):
    """A codec or content type name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


def register_codec(content_type: str, codec: type[Codec]) -> None:
    """Register a codec under a new content type, for producers and consumers alike."""
    CONTENT_TYPES_CODECS[content_type] = codec


def get_codec(content_type: str) -> type[Codec]:
    """Return the codec that decodes a content type."""
    try:
        return CONTENT_TYPES_CODECS[content_type]
    except KeyError:
        raise UnknownCodec(
            f"unknown content type {content_type!r}; known: {sorted(CONTENT_TYPES_CODECS)} "
            f"(register new ones with sqs_contracts.codecs.register_codec)"
        ) from None


def resolve_encoder(name: str) -> tuple[str, type[Codec]]:
    """Map a codec name (``json``, ``orjson``, ``pickle``...) to (content type, codec)."""
    if name in _ENCODERS:
        return _ENCODERS[name]
    return name, get_codec(name)


def is_json_mode(codec: type[Codec]) -> bool:
    """Tell whether a codec wants JSON-mode values (strings for datetimes, UUIDs...)."""
    return bool(getattr(codec, "json_mode", False))
