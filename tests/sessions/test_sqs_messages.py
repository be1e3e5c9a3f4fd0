"""Sending and receiving: bodies, attributes, checksums, sizes, delays, polling, retention."""

from __future__ import annotations

import hashlib
import time

import pytest
from backends import Backend, count, receive, sqs_error
from botocore.exceptions import ClientError

from sqs_contracts.sessions.memory_attributes import md5_of_attributes

ATTRIBUTES = {
    "a": {"DataType": "String", "StringValue": "x"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    "n": {"DataType": "Number", "StringValue": "1.5"},
    "c": {"DataType": "String.custom", "StringValue": "y"},
}
# What moto (and SQS) answer as MD5OfMessageAttributes for ATTRIBUTES.
ATTRIBUTES_MD5 = "3aaa9311adfe43c58a4342f975df48f0"


def test_send_and_receive_round_trip(backend: Backend) -> None:
    url = backend.make_queue("rt")
    body = '{"to": "a@example.com", "emoji": "\U0001f600", "tab": "\t"}'
    sent = backend.session.send_message(QueueUrl=url, MessageBody=body)
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    (msg,) = receive(backend, url)
    assert msg["Body"] == body
    assert msg["MessageId"] == sent["MessageId"]
    assert msg["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert msg["ReceiptHandle"]
    assert "Attributes" not in msg
    assert "MessageAttributes" not in msg


def test_message_attributes_round_trip_with_aws_md5(backend: Backend) -> None:
    url = backend.make_queue("attrs")
    sent = backend.session.send_message(
        QueueUrl=url, MessageBody="hello", MessageAttributes=ATTRIBUTES
    )
    assert sent["MD5OfMessageAttributes"] == ATTRIBUTES_MD5
    assert md5_of_attributes(ATTRIBUTES) == ATTRIBUTES_MD5
    (msg,) = receive(backend, url, MessageAttributeNames=["All"])
    assert msg["MD5OfMessageAttributes"] == ATTRIBUTES_MD5
    assert msg["MessageAttributes"] == ATTRIBUTES
    assert isinstance(msg["MessageAttributes"]["b"]["BinaryValue"], bytes)


def test_each_message_keeps_the_attributes_it_was_sent_with(backend: Backend) -> None:
    url = backend.make_queue("attrsets")
    changed = {**ATTRIBUTES, "a": {"DataType": "String", "StringValue": "z"}}
    as_bytearray = {
        **ATTRIBUTES,
        "b": {"DataType": "Binary", "BinaryValue": bytearray(b"\x00\x01")},
    }
    renamed = {"A": ATTRIBUTES["a"], **{k: v for k, v in ATTRIBUTES.items() if k != "a"}}
    reused = {name: dict(attr) for name, attr in ATTRIBUTES.items()}
    sets = [ATTRIBUTES, changed, ATTRIBUTES, as_bytearray, renamed, ATTRIBUTES, reused]
    for i, attrs in enumerate(sets):
        backend.session.send_message(QueueUrl=url, MessageBody=str(i), MessageAttributes=attrs)
    # What the caller does to its dict after the send changes nothing that was sent.
    reused["a"]["StringValue"] = "later"
    expected = [{**attrs, "b": ATTRIBUTES["b"]} for attrs in sets[:-1]] + [ATTRIBUTES]
    got = {}
    for _ in range(len(sets)):
        (msg,) = receive(backend, url, MessageAttributeNames=["All"])
        got[int(msg["Body"])] = msg
    for i, attrs in enumerate(expected):
        assert got[i]["MessageAttributes"] == attrs, i
        assert got[i]["MD5OfMessageAttributes"] == md5_of_attributes(attrs), i


def test_changing_a_received_message_changes_nothing_on_the_queue(backend: Backend) -> None:
    url = backend.make_queue("answers")
    backend.session.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=ATTRIBUTES)
    (msg,) = receive(backend, url, MessageAttributeNames=["All"], VisibilityTimeout=0)
    msg["MessageAttributes"]["a"]["StringValue"] = "changed"
    msg["MessageAttributes"]["n"] = {"DataType": "Number", "StringValue": "2"}
    (again,) = receive(backend, url, MessageAttributeNames=["All"])
    assert again["MessageAttributes"] == ATTRIBUTES
    assert again["MD5OfMessageAttributes"] == ATTRIBUTES_MD5


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["All"], {"job.name", "job.ctx", "other"}),
        ([".*"], {"job.name", "job.ctx", "other"}),
        (["other"], {"other"}),
        (["job.*"], {"job.name", "job.ctx"}),
        (["job.name", "missing"], {"job.name"}),
        (["missing"], set()),
        ([], set()),
    ],
)
def test_message_attribute_name_filters(
    backend: Backend, names: list[str], expected: set[str]
) -> None:
    url = backend.make_queue("filters")
    attrs = {
        name: {"DataType": "String", "StringValue": name.upper()}
        for name in ("job.name", "job.ctx", "other")
    }
    backend.session.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attrs)
    (msg,) = receive(backend, url, MessageAttributeNames=names)
    got = msg.get("MessageAttributes", {})
    assert set(got) == expected
    if expected:
        assert msg["MD5OfMessageAttributes"] == md5_of_attributes({k: attrs[k] for k in expected})
    else:
        assert "MD5OfMessageAttributes" not in msg


def test_system_attributes(backend: Backend) -> None:
    url = backend.make_queue("sysattrs")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(backend, url, AttributeNames=["All"], VisibilityTimeout=0)
    attrs = msg["Attributes"]
    assert {"SenderId", "SentTimestamp", "ApproximateReceiveCount"} <= set(attrs)
    assert attrs["ApproximateReceiveCount"] == "1"
    sent_ms = int(attrs["SentTimestamp"])
    assert abs(sent_ms / 1000 - backend.now()) < 60
    assert int(attrs["ApproximateFirstReceiveTimestamp"]) >= sent_ms
    assert "SequenceNumber" not in attrs
    (again,) = receive(backend, url, MessageSystemAttributeNames=["SentTimestamp"])
    assert again["Attributes"] == {"SentTimestamp": attrs["SentTimestamp"]}


def test_unicode_bodies_and_invalid_characters(backend: Backend) -> None:
    url = backend.make_queue("chars")
    for body in ["caf\u00e9", "\U0001f680 rocket", "line\nbreak\r\n", "\ue000\ufffd"]:
        backend.session.send_message(QueueUrl=url, MessageBody=body)
    bodies = set()
    for _ in range(4):
        bodies.update(m["Body"] for m in receive(backend, url, MaxNumberOfMessages=10))
    assert "\U0001f680 rocket" in bodies
    if backend.is_memory:
        # moto accepts any character; SQS refuses those outside its XML-safe set.
        for bad in ["nul\x00", "bell\x07", "\ufffe"]:
            with pytest.raises(ClientError) as excinfo:
                backend.session.send_message(QueueUrl=url, MessageBody=bad)
            assert sqs_error(excinfo) == "InvalidMessageContents"


def test_message_over_one_mib_is_refused(backend: Backend) -> None:
    url = backend.make_queue("huge")
    backend.session.send_message(QueueUrl=url, MessageBody="x" * 1_048_576)
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message(QueueUrl=url, MessageBody="x" * 1_048_577)
    # SQS (and moto) answer InvalidParameterValue "Message must be shorter than ...".
    assert sqs_error(excinfo) == "InvalidParameterValue"


def test_queue_maximum_message_size_counts_attributes(backend: Backend) -> None:
    url = backend.make_queue("small", attributes={"MaximumMessageSize": "1024"})
    backend.session.send_message(QueueUrl=url, MessageBody="x" * 1024)
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert sqs_error(excinfo) == "InvalidParameterValue"
    if backend.is_memory:
        # moto counts only the body; SQS counts attribute names, types and values too.
        attrs = {"abc": {"DataType": "String", "StringValue": "y" * 30}}
        with pytest.raises(ClientError) as excinfo:
            backend.session.send_message(
                QueueUrl=url, MessageBody="x" * 1000, MessageAttributes=attrs
            )
        assert sqs_error(excinfo) == "InvalidParameterValue"


def test_per_message_delay(backend: Backend) -> None:
    url = backend.make_queue("delay")
    backend.session.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    assert receive(backend, url) == []
    assert count(backend, url, "ApproximateNumberOfMessagesDelayed") == 1
    backend.advance(1.5)
    (msg,) = receive(backend, url)
    assert msg["Body"] == "later"


def test_queue_delay(backend: Backend) -> None:
    url = backend.make_queue("qdelay", attributes={"DelaySeconds": "1"})
    backend.session.send_message(QueueUrl=url, MessageBody="later")
    backend.session.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
    assert [m["Body"] for m in receive(backend, url, MaxNumberOfMessages=10)] == ["now"]
    backend.advance(1.5)
    assert [m["Body"] for m in receive(backend, url)] == ["later"]


@pytest.mark.parametrize("delay", [901, -1])
def test_delay_out_of_range(backend: Backend, delay: int) -> None:
    url = backend.make_queue("baddelay")
    if delay < 0 and not backend.is_memory:
        # moto accepts a negative DelaySeconds; SQS does not, so only 901 is checked there.
        delay = 901
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=delay)
    assert sqs_error(excinfo) == "InvalidParameterValue"


@pytest.mark.parametrize(
    "kwargs",
    [{"MaxNumberOfMessages": 0}, {"MaxNumberOfMessages": 11}, {"WaitTimeSeconds": 21}],
)
def test_receive_parameters_are_checked(backend: Backend, kwargs: dict[str, int]) -> None:
    url = backend.make_queue("params")
    with pytest.raises(ClientError) as excinfo:
        backend.session.receive_message(QueueUrl=url, **kwargs)  # type: ignore[arg-type]
    assert sqs_error(excinfo) == "InvalidParameterValue"


def test_receive_returns_at_most_max_messages(backend: Backend) -> None:
    url = backend.make_queue("many")
    for start in (0, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)]
        backend.session.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(receive(backend, url)) == 1
    got = receive(backend, url, MaxNumberOfMessages=10)
    assert 1 <= len(got) <= 10
    if backend.is_memory:
        assert len(got) == 10


def test_long_poll_returns_at_once_when_messages_wait(backend: Backend) -> None:
    url = backend.make_queue("lp")
    backend.session.send_message(QueueUrl=url, MessageBody="ready")
    started = time.monotonic()
    got = receive(backend, url, WaitTimeSeconds=10)
    assert [m["Body"] for m in got] == ["ready"]
    assert time.monotonic() - started < 5


def test_long_poll_waits_on_an_empty_queue(backend: Backend) -> None:
    url = backend.make_queue("lpempty")
    started = time.monotonic()
    assert receive(backend, url, WaitTimeSeconds=1) == []
    assert time.monotonic() - started >= 0.9


def test_queue_receive_wait_time_is_the_default(backend: Backend) -> None:
    url = backend.make_queue("lpqueue", attributes={"ReceiveMessageWaitTimeSeconds": "1"})
    started = time.monotonic()
    assert receive(backend, url) == []
    assert time.monotonic() - started >= 0.9
    started = time.monotonic()
    assert receive(backend, url, WaitTimeSeconds=0) == []
    assert time.monotonic() - started < 0.9


def test_retention_period(backend: Backend) -> None:
    url = backend.make_queue("retention", attributes={"MessageRetentionPeriod": "60"})
    backend.session.send_message(QueueUrl=url, MessageBody="old")
    assert count(backend, url) == 1
    if backend.is_memory:
        # 60 s is the shortest retention SQS allows: too long to sleep through on a server.
        backend.session.send_message(QueueUrl=url, MessageBody="in flight")
        assert len(receive(backend, url)) == 1
        backend.advance(61)
        assert count(backend, url) == 0
        assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 0
        assert receive(backend, url, MaxNumberOfMessages=10) == []
