"""sqs-workers compatible import path for codecs (``sqs_workers.codecs``)."""

from sqs_contracts.wire.codecs import (
    CONTENT_TYPES_CODECS,
    DEFAULT_CONTENT_TYPE,
    PICKLE_CONTENT_TYPES,
    PICKLE_PY2_COMPAT_PROTO,
    Codec,
    JSONCodec,
    OrjsonCodec,
    PickleCodec,
    PickleCompatCodec,
    UnknownCodec,
    get_codec,
    is_json_mode,
    register_codec,
    resolve_encoder,
)

__all__ = [
    "CONTENT_TYPES_CODECS",
    "DEFAULT_CONTENT_TYPE",
    "PICKLE_CONTENT_TYPES",
    "PICKLE_PY2_COMPAT_PROTO",
    "Codec",
    "JSONCodec",
    "OrjsonCodec",
    "PickleCodec",
    "PickleCompatCodec",
    "UnknownCodec",
    "get_codec",
    "is_json_mode",
    "register_codec",
    "resolve_encoder",
]
