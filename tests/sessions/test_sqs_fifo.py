"""FIFO queues: group ordering, group blocking, required ids and deduplication."""

from __future__ import annotations

import pytest
from backends import Backend, count, receive, sqs_error
from botocore.exceptions import ClientError

CONTENT_DEDUP = {"ContentBasedDeduplication": "true"}


def _send(backend: Backend, url: str, body: str, group: str, dedup: str | None = None) -> str:
    kwargs = {"MessageDeduplicationId": dedup} if dedup else {}
    sent = backend.session.send_message(
        QueueUrl=url, MessageBody=body, MessageGroupId=group, **kwargs
    )
    return str(sent["MessageId"])


def _delete(backend: Backend, url: str, messages: list[dict[str, str]]) -> None:
    for msg in messages:
        backend.session.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])


def test_order_within_a_group(backend: Backend) -> None:
    url = backend.make_queue("order", fifo=True, attributes=CONTENT_DEDUP)
    for i in range(6):
        _send(backend, url, f"m{i}", "g")
    seen: list[str] = []
    while len(seen) < 6:
        got = receive(backend, url, MaxNumberOfMessages=4)
        assert got
        seen += [m["Body"] for m in got]
        _delete(backend, url, got)
    assert seen == [f"m{i}" for i in range(6)]


def test_group_is_blocked_while_a_message_is_in_flight(backend: Backend) -> None:
    url = backend.make_queue("blocked", fifo=True, attributes=CONTENT_DEDUP)
    _send(backend, url, "a1", "a")
    _send(backend, url, "a2", "a")
    _send(backend, url, "b1", "b")
    (first,) = receive(backend, url)
    assert first["Body"] == "a1"
    rest = receive(backend, url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in rest] == ["b1"]
    assert receive(backend, url, MaxNumberOfMessages=10) == []
    _delete(backend, url, [first])
    assert [m["Body"] for m in receive(backend, url, MaxNumberOfMessages=10)] == ["a2"]


def test_released_message_comes_back_first(backend: Backend) -> None:
    url = backend.make_queue("release", fifo=True, attributes=CONTENT_DEDUP)
    for i in range(3):
        _send(backend, url, f"m{i}", "g")
    got = receive(backend, url, MaxNumberOfMessages=2)
    assert [m["Body"] for m in got] == ["m0", "m1"]
    for msg in got:
        backend.session.change_message_visibility(
            QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
        )
    again = receive(backend, url, MaxNumberOfMessages=10, AttributeNames=["All"])
    assert [m["Body"] for m in again] == ["m0", "m1", "m2"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_visibility_timeout_unblocks_the_group(backend: Backend) -> None:
    attrs = {**CONTENT_DEDUP, "VisibilityTimeout": "1"}
    url = backend.make_queue("timeout", fifo=True, attributes=attrs)
    _send(backend, url, "m0", "g")
    _send(backend, url, "m1", "g")
    (first,) = receive(backend, url)
    assert receive(backend, url) == []
    backend.advance(1.5)
    (again,) = receive(backend, url, AttributeNames=["ApproximateReceiveCount"])
    assert again["MessageId"] == first["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_group_id_is_required(backend: Backend) -> None:
    url = backend.make_queue("nogroup", fifo=True, attributes=CONTENT_DEDUP)
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message(QueueUrl=url, MessageBody="x")
    assert sqs_error(excinfo) == "MissingParameter"
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}])
    assert sqs_error(excinfo) == "MissingParameter"


def test_deduplication_id_or_content_based_is_required(backend: Backend) -> None:
    url = backend.make_queue("nodedup", fifo=True)
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert sqs_error(excinfo) == "InvalidParameterValue"
    _send(backend, url, "x", "g", dedup="d1")
    assert count(backend, url) == 1


def test_per_message_delay_is_refused(backend: Backend) -> None:
    url = backend.make_queue("fifodelay", fifo=True, attributes=CONTENT_DEDUP)
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=5
        )
    assert sqs_error(excinfo) == "InvalidParameterValue"
    # An explicit zero is allowed.
    backend.session.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=0)
    assert count(backend, url) == 1


def test_duplicate_id_is_accepted_but_not_enqueued(backend: Backend) -> None:
    url = backend.make_queue("dedup", fifo=True)
    first = _send(backend, url, "one", "g", dedup="same")
    second = _send(backend, url, "two", "g", dedup="same")
    assert count(backend, url) == 1
    (msg,) = receive(backend, url, MaxNumberOfMessages=10)
    assert msg["Body"] == "one"
    _delete(backend, url, [msg])
    if backend.is_memory:
        # SQS answers a duplicate with the original MessageId; moto makes up a new one.
        assert second == first
        # After the 5-minute window the same id is a new message.
        backend.advance(301)
        third = _send(backend, url, "three", "g", dedup="same")
        assert third != first
        assert count(backend, url) == 1


def test_content_based_deduplication(backend: Backend) -> None:
    url = backend.make_queue("content", fifo=True, attributes=CONTENT_DEDUP)
    _send(backend, url, "same body", "g1")
    _send(backend, url, "same body", "g2")
    _send(backend, url, "other body", "g1")
    bodies = [m["Body"] for m in receive(backend, url, MaxNumberOfMessages=10)]
    assert sorted(bodies) == ["other body", "same body"]


def test_duplicate_after_delete_is_still_suppressed(backend: Backend) -> None:
    url = backend.make_queue("afterdelete", fifo=True, attributes=CONTENT_DEDUP)
    first = _send(backend, url, "payload", "g")
    (msg,) = receive(backend, url)
    assert msg["MessageId"] == first
    _delete(backend, url, [msg])
    backend.session.send_message(QueueUrl=url, MessageBody="payload", MessageGroupId="g")
    if backend.is_memory:
        # SQS keeps the deduplication id for 5 minutes even after the delete; moto forgets it
        # and delivers the duplicate.
        assert receive(backend, url) == []
        assert count(backend, url) == 0


def test_fifo_system_attributes(backend: Backend) -> None:
    url = backend.make_queue("fifoattrs", fifo=True)
    sent = backend.session.send_message(
        QueueUrl=url, MessageBody="x", MessageGroupId="grp", MessageDeduplicationId="dd"
    )
    (msg,) = receive(backend, url, AttributeNames=["All"])
    attrs = msg["Attributes"]
    assert attrs["MessageGroupId"] == "grp"
    assert attrs["MessageDeduplicationId"] == "dd"
    if backend.is_memory:
        # moto's SequenceNumber is missing or random; SQS's grows with every message.
        assert attrs["SequenceNumber"] == sent["SequenceNumber"]
        later = backend.session.send_message(
            QueueUrl=url, MessageBody="y", MessageGroupId="grp", MessageDeduplicationId="d2"
        )
        assert int(later["SequenceNumber"]) > int(sent["SequenceNumber"])


def test_standard_queue_refuses_deduplication_id(backend: Backend) -> None:
    url = backend.make_queue("stddedup")
    # Standard queues accept MessageGroupId (fair queues).
    backend.session.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="tenant")
    assert count(backend, url) == 1
    if backend.is_memory:
        # moto ignores a MessageDeduplicationId on a standard queue; SQS refuses it.
        with pytest.raises(ClientError) as excinfo:
            backend.session.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
        assert sqs_error(excinfo) == "InvalidParameterValue"
