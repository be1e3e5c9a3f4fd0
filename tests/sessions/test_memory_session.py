"""MemorySession only: its clocks, long polling in real time, and rules moto does not check."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqs_contracts.sessions import (
    Clock,
    ManualClock,
    MemorySession,
    SQSSession,
    SystemClock,
    is_nonexistent_queue,
)


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            out["result"] = fn()
        except Exception as exc:
            out["error"] = exc
        out["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock()
    assert clock.time() == 1_700_000_000.0
    clock.advance(2.5)
    assert clock.time() == 1_700_000_002.5
    clock.set(1_800_000_000.0)
    assert clock.time() == 1_800_000_000.0
    with pytest.raises(ValueError, match="seconds >= 0"):
        clock.advance(-1)
    assert isinstance(clock, Clock)
    assert isinstance(SystemClock(), Clock)
    assert abs(SystemClock().time() - time.time()) < 1


def test_session_shape() -> None:
    session = MemorySession()
    assert isinstance(session, SQSSession)
    assert isinstance(session.clock, SystemClock)
    assert session.client("sqs") is session
    with pytest.raises(ValueError, match="only provides 'sqs'"):
        session.client("s3")
    url = session.create_queue(QueueName="q")["QueueUrl"]
    assert url == "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    # Other SQS host names for the same account and queue resolve to the same queue.
    session.send_message(QueueUrl="https://queue.amazonaws.com/123456789012/q", MessageBody="x")
    assert session.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "x"


def test_error_response_shape() -> None:
    session = MemorySession()
    with pytest.raises(ClientError) as excinfo:
        session.get_queue_url(QueueName="missing")
    error = excinfo.value.response["Error"]
    assert error == {
        "Code": "AWS.SimpleQueueService.NonExistentQueue",
        "Message": "The specified queue does not exist.",
        "QueryErrorCode": "QueueDoesNotExist",
        "Type": "Sender",
    }
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert excinfo.value.operation_name == "GetQueueUrl"


def test_long_poll_wakes_when_manual_time_makes_a_message_visible() -> None:
    clock = ManualClock()
    session = MemorySession(clock)
    url = session.create_queue(QueueName="q")["QueueUrl"]
    session.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    thread, out = _in_thread(lambda: session.receive_message(QueueUrl=url, WaitTimeSeconds=10))
    time.sleep(0.2)
    clock.advance(60)
    thread.join(5)
    assert out["result"]["Messages"][0]["Body"] == "later"
    assert out["elapsed"] < 3


class _SlowFirstRead(ManualClock):
    """A manual clock whose first read on one thread stalls, so an advance lands right after it."""

    def __init__(self) -> None:
        super().__init__()
        self.slow_thread: threading.Thread | None = None
        self.read = threading.Event()

    def time(self) -> float:
        now = super().time()
        if threading.current_thread() is self.slow_thread and not self.read.is_set():
            self.read.set()
            time.sleep(0.1)
        return now


def test_long_poll_sees_an_advance_between_its_look_and_its_wait() -> None:
    clock = _SlowFirstRead()
    session = MemorySession(clock)
    url = session.create_queue(QueueName="q")["QueueUrl"]
    session.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=60)
    out: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        out["result"] = session.receive_message(QueueUrl=url, WaitTimeSeconds=5)
        out["elapsed"] = time.monotonic() - started

    clock.slow_thread = threading.Thread(target=poll, daemon=True)
    clock.slow_thread.start()
    assert clock.read.wait(5)
    clock.advance(60)  # the poll read the old time and has not started waiting yet
    clock.slow_thread.join(10)
    assert len(out["result"]["Messages"]) == 1
    assert out["elapsed"] < 2


def test_long_poll_with_manual_clock_still_ends_in_real_time() -> None:
    session = MemorySession(ManualClock())
    url = session.create_queue(QueueName="q")["QueueUrl"]
    started = time.monotonic()
    assert "Messages" not in session.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 <= time.monotonic() - started < 3


def test_long_poll_wakes_on_a_send_from_another_thread() -> None:
    session = MemorySession(SystemClock())
    url = session.create_queue(QueueName="q")["QueueUrl"]
    thread, out = _in_thread(lambda: session.receive_message(QueueUrl=url, WaitTimeSeconds=10))
    time.sleep(0.2)
    session.send_message(QueueUrl=url, MessageBody="now")
    thread.join(5)
    assert out["result"]["Messages"][0]["Body"] == "now"
    assert out["elapsed"] < 2


def test_long_poll_wakes_when_a_delay_ends_in_real_time() -> None:
    session = MemorySession(SystemClock())
    url = session.create_queue(QueueName="q")["QueueUrl"]
    session.send_message(QueueUrl=url, MessageBody="soon", DelaySeconds=1)
    started = time.monotonic()
    got = session.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    assert got["Messages"][0]["Body"] == "soon"
    assert 0.8 <= time.monotonic() - started < 3


def test_long_poll_fails_when_the_queue_is_deleted() -> None:
    session = MemorySession(SystemClock())
    url = session.create_queue(QueueName="q")["QueueUrl"]
    thread, out = _in_thread(lambda: session.receive_message(QueueUrl=url, WaitTimeSeconds=10))
    time.sleep(0.2)
    session.delete_queue(QueueUrl=url)
    thread.join(5)
    assert is_nonexistent_queue(out["error"])
    assert out["elapsed"] < 2


def test_queue_attribute_values_are_checked() -> None:
    session = MemorySession(ManualClock())
    bad: list[tuple[dict[str, str], str]] = [
        ({"DelaySeconds": "901"}, "InvalidAttributeValue"),
        ({"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
        ({"MaximumMessageSize": "1023"}, "InvalidAttributeValue"),
        ({"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"),
        ({"ReceiveMessageWaitTimeSeconds": "x"}, "InvalidAttributeValue"),
        ({"Bogus": "1"}, "InvalidAttributeName"),
        ({"ContentBasedDeduplication": "true"}, "InvalidAttributeName"),
        ({"FifoQueue": "false"}, "InvalidAttributeName"),
        ({"RedrivePolicy": "{not json"}, "InvalidParameterValue"),
        ({"RedrivePolicy": json.dumps({"maxReceiveCount": 2})}, "InvalidParameterValue"),
    ]
    for attributes, code in bad:
        with pytest.raises(ClientError) as excinfo:
            session.create_queue(QueueName="q", Attributes=attributes)
        assert _code(excinfo) == code, attributes
    assert "QueueUrls" not in session.list_queues()


def test_message_attributes_are_checked() -> None:
    session = MemorySession(ManualClock())
    url = session.create_queue(QueueName="q")["QueueUrl"]
    bad = [
        {"a": {"DataType": "String", "StringValue": ""}},
        {"a": {"DataType": "Number", "StringValue": "abc"}},
        {"a": {"DataType": "Binary", "BinaryValue": b""}},
        {"a": {"DataType": "Wrong", "StringValue": "x"}},
        {"AWS.reserved": {"DataType": "String", "StringValue": "x"}},
        {"bad name": {"DataType": "String", "StringValue": "x"}},
        {f"a{i}": {"DataType": "String", "StringValue": "x"} for i in range(11)},
    ]
    for attributes in bad:
        with pytest.raises(ClientError) as excinfo:
            session.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
        assert _code(excinfo) == "InvalidParameterValue", attributes
    with pytest.raises(ClientError) as excinfo:
        session.send_message(QueueUrl=url, MessageBody="")
    assert _code(excinfo) == "MissingParameter"
    with pytest.raises(ClientError) as excinfo:
        session.receive_message(QueueUrl=url, VisibilityTimeout=-1)
    assert _code(excinfo) == "InvalidParameterValue"


def test_fifo_delete_with_an_expired_handle_fails() -> None:
    clock = ManualClock()
    session = MemorySession(clock)
    attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "5"}
    url = session.create_queue(QueueName="q.fifo", Attributes=attrs)["QueueUrl"]
    session.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    handle = session.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock.advance(6)
    with pytest.raises(ClientError) as excinfo:
        session.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert _code(excinfo) == "InvalidParameterValue"
    assert "expired" in excinfo.value.response["Error"]["Message"]


def test_dead_lettered_message_names_its_source() -> None:
    session = MemorySession(ManualClock())
    dlq = session.create_queue(QueueName="dlq")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq",
                         "maxReceiveCount": 1})  # fmt: skip
    src = session.create_queue(
        QueueName="src", Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "0"}
    )["QueueUrl"]
    session.send_message(QueueUrl=src, MessageBody="x")
    session.receive_message(QueueUrl=src)
    assert "Messages" not in session.receive_message(QueueUrl=src)
    (dead,) = session.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    assert (
        dead["Attributes"]["DeadLetterQueueSourceArn"] == "arn:aws:sqs:us-east-1:123456789012:src"
    )


def test_list_queues_pages() -> None:
    session = MemorySession(ManualClock())
    urls = [session.create_queue(QueueName=f"q{i}")["QueueUrl"] for i in range(5)]
    first = session.list_queues(MaxResults=2)
    assert first["QueueUrls"] == urls[:2]
    second = session.list_queues(MaxResults=2, NextToken=first["NextToken"])
    third = session.list_queues(MaxResults=2, NextToken=second["NextToken"])
    assert second["QueueUrls"] + third["QueueUrls"] == urls[2:]
    assert "NextToken" not in third
