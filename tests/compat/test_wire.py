"""The wire format, byte for byte: what sqs-workers 0.7.3 writes, we read and write the same.

The expected bytes are written out literally below, and also captured from sqs-workers'
own ``JobQueue.add_job`` (with a recording queue, no server), so a change on either side
shows up here.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from typing import Any

import pytest
import sqs_workers
from pydantic import BaseModel

from sqs_contracts.codecs import CONTENT_TYPES_CODECS, OrjsonCodec
from sqs_contracts.wire.context import JobContext, received_context
from sqs_contracts.wire.envelope import decode_message, encode_job, job_message, message_size

JOB_NAME = "send_email"
KWARGS: dict[str, Any] = {
    "to": "a@example.com",
    "n": 3,
    "tags": ["x", "y"],
    "ok": True,
    "none": None,
}
CONTEXT: dict[str, Any] = {"remote_addr": "1.2.3.4", "request_id": 7}
ALL_TYPES = ["json", "pickle", "pickle_compat"]

JSON_BODY = '{"to": "a@example.com", "n": 3, "tags": ["x", "y"], "ok": true, "none": null}'
JSON_CONTEXT = '{"remote_addr": "1.2.3.4", "request_id": 7}'
# base64url(zlib(pickle protocol 2)); the zlib step is what the library of the platform does.
PICKLE_COMPAT_BODY = (
    "eJxrYKotZNCIYGJgYCjJL2SM4AUyEh1SKxJzC3JS9ZLzcwuZIhiBYnmFzN7MESwgZYnpxYUssYWsGmCJikI2MF1ZyJ"
    "4KNiY_u5CjA6wyLz8vtZDTr1QPAI6qFsE="
)
PICKLE_COMPAT_CONTEXT = (
    "eJxrYKotZNCI4GZgYChKzc0vSY1PTEkpKmSMYAeKGOoZ6RnrmRQyRXCB5QtLU4tL4jNTCpm92Uv1ALvdDxo="
)
PICKLE_COMPAT_RAW_BODY = (
    b"\x80\x02}q\x00(X\x02\x00\x00\x00toq\x01X\r\x00\x00\x00a@example.comq\x02X\x01\x00\x00"
    b"\x00nq\x03K\x03X\x04\x00\x00\x00tagsq\x04]q\x05(X\x01\x00\x00\x00xq\x06X\x01\x00\x00"
    b"\x00yq\x07eX\x02\x00\x00\x00okq\x08\x88X\x04\x00\x00\x00noneq\tNu."
)
PICKLE_COMPAT_RAW_CONTEXT = (
    b"\x80\x02}q\x00(X\x0b\x00\x00\x00remote_addrq\x01X\x07\x00\x00\x001.2.3.4q\x02X\n\x00"
    b"\x00\x00request_idq\x03K\x07u."
)

EXPECTED = {
    "json": (JSON_BODY, JSON_CONTEXT),
    "pickle_compat": (PICKLE_COMPAT_BODY, PICKLE_COMPAT_CONTEXT),
}


def _attributes(content_type: str, context: str) -> dict[str, dict[str, str]]:
    return {
        "ContentType": {"StringValue": content_type, "DataType": "String"},
        "JobContext": {"StringValue": context, "DataType": "String"},
        "JobName": {"StringValue": JOB_NAME, "DataType": "String"},
    }


class _RecordingQueue:
    """Stands in for the boto3 Queue resource sqs-workers sends through."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        self.sent.append(kwargs)
        return {"MessageId": f"m{len(self.sent)}"}


@pytest.fixture(scope="module")
def written() -> dict[str, dict[str, Any]]:
    """What sqs-workers 0.7.3 sends for the known job, by content type."""
    env = sqs_workers.SQSEnv(sqs_client=object(), sqs_resource=object())
    queue = env.queue("emails")
    recorder = _RecordingQueue()
    queue._queue = recorder  # skip GetQueueUrl: nothing is sent anywhere
    with env.context(**CONTEXT):
        for content_type in ALL_TYPES:
            queue.add_job(JOB_NAME, _content_type=content_type, **KWARGS)
    return dict(zip(ALL_TYPES, recorder.sent, strict=True))


def _same_zlib(compressed_b64: str, raw: bytes) -> bool:
    return base64.urlsafe_b64encode(zlib.compress(raw)).decode() == compressed_b64


@pytest.mark.parametrize("content_type", ["json", "pickle_compat"])
def test_sqs_workers_writes_the_literal_bytes(
    written: dict[str, dict[str, Any]], content_type: str
) -> None:
    body, context = EXPECTED[content_type]
    sent = written[content_type]
    assert set(sent) == {"MessageBody", "MessageAttributes"}
    if content_type == "pickle_compat":
        # The pickle bytes are fixed; the zlib stream is fixed for a given zlib build.
        raw = zlib.decompress(base64.urlsafe_b64decode(sent["MessageBody"]))
        assert raw == PICKLE_COMPAT_RAW_BODY
        raw_context = sent["MessageAttributes"]["JobContext"]["StringValue"]
        assert zlib.decompress(base64.urlsafe_b64decode(raw_context)) == PICKLE_COMPAT_RAW_CONTEXT
        if not _same_zlib(body, PICKLE_COMPAT_RAW_BODY):
            pytest.skip(f"zlib {zlib.ZLIB_RUNTIME_VERSION} compresses differently")
    assert sent["MessageBody"] == body
    assert sent["MessageAttributes"] == _attributes(content_type, context)


@pytest.mark.parametrize("content_type", ALL_TYPES)
def test_decode_what_sqs_workers_wrote(
    written: dict[str, dict[str, Any]], content_type: str
) -> None:
    sent = written[content_type]
    message = {
        "MessageId": "m1",
        "Body": sent["MessageBody"],
        "MessageAttributes": sent["MessageAttributes"],
    }
    job = decode_message(message, ALL_TYPES)
    assert job.job_name == JOB_NAME
    assert job.content_type == content_type
    assert job.payload == KWARGS
    assert list(job.payload) == list(KWARGS)
    assert job.context == CONTEXT


@pytest.mark.parametrize("content_type", ["json", "pickle_compat"])
def test_decode_the_literal_bytes(content_type: str) -> None:
    body, context = EXPECTED[content_type]
    message = {"Body": body, "MessageAttributes": _attributes(content_type, context)}
    job = decode_message(message, [content_type])
    assert (job.job_name, job.payload, job.context) == (JOB_NAME, KWARGS, CONTEXT)


class _SendEmail(BaseModel):
    to: str
    n: int
    tags: list[str]
    ok: bool
    none: str | None


@pytest.mark.parametrize("content_type", ALL_TYPES)
@pytest.mark.parametrize("payload_kind", ["dict", "model"])
def test_encode_job_writes_the_same_bytes(
    written: dict[str, dict[str, Any]], content_type: str, payload_kind: str
) -> None:
    codec = CONTENT_TYPES_CODECS[content_type]
    payload: Any = dict(KWARGS) if payload_kind == "dict" else _SendEmail(**KWARGS)
    message = encode_job(JOB_NAME, payload, CONTEXT, content_type, codec)
    sent = written[content_type]
    assert message.body == sent["MessageBody"]
    assert message.attributes == sent["MessageAttributes"]
    assert message.send_kwargs() == {
        "MessageBody": sent["MessageBody"],
        "MessageAttributes": sent["MessageAttributes"],
    }


@pytest.mark.parametrize("content_type", ["json", "pickle_compat"])
def test_encode_job_writes_the_literal_bytes(content_type: str) -> None:
    body, context = EXPECTED[content_type]
    if content_type == "pickle_compat" and not _same_zlib(body, PICKLE_COMPAT_RAW_BODY):
        pytest.skip(f"zlib {zlib.ZLIB_RUNTIME_VERSION} compresses differently")
    codec = CONTENT_TYPES_CODECS[content_type]
    message = encode_job(JOB_NAME, KWARGS, CONTEXT, content_type, codec)
    assert message.body == body
    assert message.attributes == _attributes(content_type, context)


def test_orjson_writes_json_that_sqs_workers_reads() -> None:
    # orjson is compact: other bytes, the same values under the same content type.
    message = encode_job(JOB_NAME, _SendEmail(**KWARGS), CONTEXT, "json", OrjsonCodec)
    assert message.body == json.dumps(KWARGS, separators=(",", ":"))
    decoded = sqs_workers.codecs.get_codec("json").deserialize(message.body)
    assert decoded == KWARGS
    assert message.attributes["ContentType"]["StringValue"] == "json"


@pytest.fixture(scope="module")
def written_without_context() -> dict[str, dict[str, Any]]:
    """What sqs-workers 0.7.3 sends for the known job when no context is set."""
    env = sqs_workers.SQSEnv(sqs_client=object(), sqs_resource=object())
    queue = env.queue("emails")
    recorder = _RecordingQueue()
    queue._queue = recorder
    for content_type in ALL_TYPES:
        queue.add_job(JOB_NAME, _content_type=content_type, **KWARGS)
    return dict(zip(ALL_TYPES, recorder.sent, strict=True))


@pytest.mark.parametrize("content_type", ALL_TYPES)
def test_empty_context_round_trips_as_sqs_workers_writes_it(
    written_without_context: dict[str, dict[str, Any]], content_type: str
) -> None:
    sent = written_without_context[content_type]
    codec = CONTENT_TYPES_CODECS[content_type]
    message = encode_job(JOB_NAME, _SendEmail(**KWARGS), {}, content_type, codec)
    assert message.attributes == sent["MessageAttributes"]
    received = {"Body": sent["MessageBody"], "MessageAttributes": sent["MessageAttributes"]}
    job = decode_message(received, ALL_TYPES)
    assert job.context == {}
    assert job.payload == KWARGS


def test_orjson_writes_the_empty_context_as_json_does() -> None:
    message = encode_job(JOB_NAME, _SendEmail(**KWARGS), {}, "json", OrjsonCodec)
    assert message.attributes["JobContext"]["StringValue"] == "{}"


class _TaggingCodec:
    """A codec registered in place of ``json`` that marks every object it decodes."""

    json_mode = True

    @classmethod
    def serialize(cls, message: Any) -> str:
        return json.dumps(message)

    @classmethod
    def deserialize(cls, serialized: str) -> Any:
        return {**json.loads(serialized), "decoded_by": "tagging"}


def test_a_codec_registered_for_json_decodes_the_empty_context_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(CONTENT_TYPES_CODECS, "json", _TaggingCodec)
    message = {"Body": JSON_BODY, "MessageAttributes": _attributes("json", "{}")}
    job = decode_message(message, ["json"])
    assert job.context == {"decoded_by": "tagging"}


@pytest.mark.parametrize("version", [None, 1, 2, 12345])
@pytest.mark.parametrize(
    ("name", "body", "context"),
    [("send_email", JSON_BODY, "{}"), ("envoi_é", '{"to": "zoë 😀"}', '{"k": "ü"}')],
)
def test_job_message_counts_its_bytes_as_sqs_does(
    name: str, body: str, context: str, version: int | None
) -> None:
    message = job_message(name, body, context, "json", version=version)
    expected = len(body.encode()) + sum(
        len(k.encode()) + len(a["DataType"].encode()) + len(a["StringValue"].encode())
        for k, a in message.attributes.items()
    )
    assert message.size == expected == message_size(message.body, message.attributes)


def test_received_context_is_the_job_context_the_constructor_makes() -> None:
    values: dict[str, Any] = {
        "data": {"k": 1},
        "queue_name": "emails",
        "job_name": JOB_NAME,
        "message_id": "m1",
        "receive_count": 3,
        "sent_timestamp": 1.5,
        "group_id": "g",
        "version": 2,
    }
    made = received_context(**values)
    assert made == JobContext(**values)
    assert vars(made) == vars(JobContext(**values))
    assert [f.name for f in dataclasses.fields(JobContext)] == list(values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.queue_name = "other"  # type: ignore[misc]


def test_received_message_gives_its_metadata_to_the_job_context() -> None:
    message = {
        "MessageId": "m1",
        "Body": JSON_BODY,
        "MessageAttributes": _attributes("json", JSON_CONTEXT),
        "Attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1500",
            "MessageGroupId": "g",
        },
    }
    context = decode_message(message, ["json"]).job_context("emails")
    assert context == JobContext(
        data=CONTEXT,
        queue_name="emails",
        job_name=JOB_NAME,
        message_id="m1",
        receive_count=2,
        sent_timestamp=1.5,
        group_id="g",
        version=1,
    )
