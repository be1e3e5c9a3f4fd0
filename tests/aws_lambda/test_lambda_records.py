"""Lambda's SQS events at the edge: records in AWS's documented shape become Messages, events
that are not SQS events are refused naming what came, and one bad record fails alone."""

from __future__ import annotations

import base64
import copy
import logging
import re
from typing import Any

import pytest

from sqs_contracts import JobContext, MemorySession, Message, SQSEnv
from sqs_contracts.testing.lambda_events import lambda_event
from sqs_contracts.wire.lambda_records import (
    InvalidRecord,
    NotAnSQSEvent,
    QueueArn,
    message_from_record,
    record_from_message,
)

from .contracts import Note
from .helpers import (
    DOCUMENTED_ARN,
    FakeContext,
    aws_record,
    invoke,
    job_attributes,
    string_attribute,
)

FIFO_ARN = "arn:aws:sqs:us-east-2:123456789012:fifo.fifo"


def _env(prefix: str = "prod-") -> tuple[SQSEnv, list[tuple[Note, JobContext]]]:
    """An env on a MemorySession with a context-taking handler for ``Note`` (queue notes)."""
    env = SQSEnv(MemorySession(), queue_prefix=prefix)
    seen: list[tuple[Note, JobContext]] = []

    @env.handler(Note, pass_context=True)
    def handle(task: Note, context: JobContext) -> None:
        seen.append((task, context))
        if task.text == "fail":
            raise RuntimeError("the handler failed on purpose")

    return env, seen


def test_a_documented_standard_record_becomes_the_message_receive_would_return() -> None:
    record = aws_record(
        message_attributes={"myAttribute": string_attribute("myValue")}, receive_count=3
    )

    message = message_from_record(record)

    assert isinstance(message, Message)
    assert message["MessageId"] == message.message_id == "059f36b4-87a3-44ab-83d2-661975830a7d"
    assert message["ReceiptHandle"] == record["receiptHandle"]
    assert message["Body"] == message.body == "Test message."
    assert message["MD5OfBody"] == "e4e68fb7bd0e697a0ae8f1bb342846b3"
    assert message["Attributes"] == record["attributes"]
    assert message.receive_count == 3
    assert message["MessageAttributes"] == {
        "myAttribute": {"DataType": "String", "StringValue": "myValue"}
    }


def test_a_record_without_message_attributes_has_none() -> None:
    record = aws_record()
    del record["messageAttributes"]
    assert message_from_record(record).message_attributes == {}
    assert message_from_record(aws_record()).message_attributes == {}


def test_binary_and_number_attributes_arrive_as_receive_returns_them() -> None:
    record = aws_record(
        message_attributes={
            "blob": {
                "binaryValue": base64.b64encode(b"\x00\xffdata").decode(),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
            "size": {**string_attribute("12"), "dataType": "Number"},
        }
    )
    attributes = message_from_record(record).message_attributes
    assert attributes["blob"] == {"DataType": "Binary", "BinaryValue": b"\x00\xffdata"}
    assert attributes["size"] == {"DataType": "Number", "StringValue": "12"}


def test_a_documented_fifo_record_keeps_its_group_and_sequence() -> None:
    record = aws_record("11d6ee51-4cc7-4302-9e22-7cd8afdaadf5", arn=FIFO_ARN, group="1")
    message = message_from_record(record)
    assert message.attributes["MessageGroupId"] == "1"
    assert message.attributes["SequenceNumber"] == "18849496460467696128"
    assert QueueArn.parse(record["eventSourceARN"]).fifo


def test_a_record_survives_the_round_trip_through_the_message() -> None:
    record = aws_record(
        message_attributes={
            **job_attributes("Note"),
            "blob": {
                "binaryValue": base64.b64encode(b"\x01\x02").decode(),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        group="g1",
    )
    assert record_from_message(message_from_record(record), DOCUMENTED_ARN) == record


def test_queue_arns_and_urls() -> None:
    arn = QueueArn.parse("arn:aws:sqs:eu-west-1:111122223333:prod-orders.fifo")
    assert (arn.partition, arn.region, arn.account, arn.name, arn.fifo) == (
        "aws",
        "eu-west-1",
        "111122223333",
        "prod-orders.fifo",
        True,
    )
    assert str(arn) == "arn:aws:sqs:eu-west-1:111122223333:prod-orders.fifo"
    aws = QueueArn.from_url("https://sqs.eu-west-1.amazonaws.com/111122223333/prod-orders.fifo")
    assert aws == arn
    local = QueueArn.from_url("http://127.0.0.1:5000/123456789012/notes")
    assert str(local) == "arn:aws:sqs:us-east-1:123456789012:notes"
    for bad in ["", "my-queue", "arn:aws:sns:us-east-2:123456789012:topic", None, 42]:
        with pytest.raises(InvalidRecord, match="not an SQS queue ARN"):
            QueueArn.parse(bad)
    with pytest.raises(ValueError, match="pass queue_arn="):
        QueueArn.from_url("not a url")


def test_lambda_event_needs_to_know_the_queue() -> None:
    plain = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}"}
    with pytest.raises(ValueError, match="'m1' does not say which queue"):
        lambda_event([plain])
    event = lambda_event([Message(plain, "https://sqs.us-east-2.amazonaws.com/123/q")])
    assert event["Records"][0]["eventSourceARN"] == "arn:aws:sqs:us-east-2:123:q"
    assert event["Records"][0]["awsRegion"] == "us-east-2"


API_GATEWAY = {
    "resource": "/",
    "path": "/",
    "httpMethod": "POST",
    "headers": {},
    "requestContext": {"requestId": "r"},
    "body": "{}",
}
S3 = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "s3": {}}]}
SNS = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "hi"}}]}


@pytest.mark.parametrize(
    ("event", "named"),
    [
        (API_GATEWAY, "httpMethod"),
        (API_GATEWAY, "API Gateway"),
        (S3, "'aws:s3'"),
        (SNS, "'aws:sns'"),
        ({"detail-type": "Scheduled Event", "source": "aws.events"}, "EventBridge"),
        ({}, "keys []"),
        ({"Records": "nope"}, "keys [Records]"),
        ([aws_record()], "a list, not a dict"),
        (None, "a NoneType, not a dict"),
        ({"Records": ["text"]}, "record 0 of the event is a str"),
        ({"Records": [aws_record(), {**aws_record(), "messageId": ""}]}, "record 1"),
        ({"Records": [{k: v for k, v in aws_record().items() if k != "messageId"}]}, "messageId"),
    ],
)
def test_an_event_that_is_not_an_sqs_event_raises_naming_what_came(event: Any, named: str) -> None:
    env, seen = _env()
    handler = env.lambda_handler()
    with pytest.raises(NotAnSQSEvent) as excinfo:
        handler(event, FakeContext())
    assert named in str(excinfo.value)
    assert seen == []


def test_an_empty_event_reports_nothing() -> None:
    env, _ = _env()
    assert env.lambda_handler()({"Records": []}, FakeContext()) == {"batchItemFailures": []}


def test_hand_built_records_run_the_typed_handlers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sqs_contracts")
    env, seen = _env()
    arn = "arn:aws:sqs:us-east-2:123456789012:prod-notes"
    records = [
        aws_record(
            "id-1",
            body='{"n": 1, "text": "hello"}',
            arn=arn,
            receive_count=3,
            message_attributes=job_attributes("Note", '{"request_id": "r-1"}'),
        ),
        aws_record("id-2", body='{"n": 2}', arn=arn, message_attributes=job_attributes("Note")),
        # The documented record without message attributes is not a job of this library.
        aws_record("id-3", arn=arn),
    ]

    failed = invoke(env.lambda_handler(), {"Records": records})

    assert failed == ["id-3"]
    assert [task for task, _ in seen] == [Note(n=1, text="hello"), Note(n=2)]
    context = seen[0][1]
    assert (context.message_id, context.receive_count, context.queue_name) == ("id-1", 3, "notes")
    assert context["request_id"] == "r-1"
    assert "message has no JobName attribute" in caplog.text


def test_the_backoff_sees_the_receive_count_of_the_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counts: list[int] = []

    class CountingBackoff:
        def get_visibility_timeout(self, message: Any) -> int:
            counts.append(Message.of(message).receive_count)
            return 0

    env = SQSEnv(MemorySession(), queue_prefix="prod-", backoff_policy=CountingBackoff())

    @env.handler(Note)
    def handle(task: Note) -> None:
        raise RuntimeError("the handler failed on purpose")

    record = aws_record(
        "id-7",
        body='{"n": 7}',
        arn="arn:aws:sqs:us-east-2:123456789012:prod-notes",
        receive_count=4,
        message_attributes=job_attributes("Note"),
    )
    assert invoke(env.lambda_handler(), {"Records": [record]}) == ["id-7"]
    assert counts == [4]
    # The queue does not exist on this session: the change fails, is logged, and the record
    # is reported all the same.
    assert "could not change the visibility of 1 failed messages of queue notes" in caplog.text


def test_one_malformed_record_fails_alone(caplog: pytest.LogCaptureFixture) -> None:
    env, seen = _env()
    arn = "arn:aws:sqs:us-east-2:123456789012:prod-notes"
    good = aws_record("good", body='{"n": 1}', arn=arn, message_attributes=job_attributes("Note"))
    bad_binary = copy.deepcopy(good) | {"messageId": "bad-binary"}
    bad_binary["messageAttributes"]["blob"] = {"binaryValue": "%%%", "dataType": "Binary"}
    no_type = copy.deepcopy(good) | {"messageId": "no-type"}
    no_type["messageAttributes"]["JobName"] = {"stringValue": "Note"}
    bad_body = good | {"messageId": "bad-body", "body": 42}
    bad_arn = good | {"messageId": "bad-arn", "eventSourceARN": "prod-notes"}
    bad_attributes = good | {"messageId": "bad-attributes", "attributes": ["x"]}
    records = [bad_binary, no_type, good, bad_body, bad_arn, bad_attributes]

    failed = invoke(env.lambda_handler(), {"Records": records})

    assert failed == ["bad-binary", "no-type", "bad-body", "bad-arn", "bad-attributes"]
    assert [task for task, _ in seen] == [Note(n=1)]
    for message_id, reason in [
        ("bad-binary", "'blob': binary value is not base64"),
        ("no-type", "'JobName' has no dataType"),
        ("bad-body", "'body' is a int"),
        ("bad-arn", "'prod-notes' is not an SQS queue ARN"),
        ("bad-attributes", "'attributes' is a list"),
    ]:
        assert f"record {message_id} of the event cannot be read: " in caplog.text
        assert reason in caplog.text


@pytest.mark.parametrize(
    ("arn_name", "prefix", "why"),
    [
        ("prod-unknown", "prod-", "not registered"),
        ("staging-notes", "prod-", "another prefix"),
        ("prod-idle", "prod-", "a queue without handlers"),
    ],
)
def test_a_record_from_a_queue_without_handlers_is_reported_and_logged(
    caplog: pytest.LogCaptureFixture, arn_name: str, prefix: str, why: str
) -> None:
    env, seen = _env(prefix)
    env.queue("idle")  # known to the env (a producer's queue), but nothing handles it
    arn = f"arn:aws:sqs:us-east-2:123456789012:{arn_name}"
    lost = aws_record("lost", body='{"n": 1}', arn=arn, message_attributes=job_attributes("Note"))
    good = aws_record(
        "good",
        body='{"n": 2}',
        arn="arn:aws:sqs:us-east-2:123456789012:prod-notes",
        message_attributes=job_attributes("Note"),
    )

    failed = invoke(env.lambda_handler(), {"Records": [lost, good]})

    assert failed == ["lost"], why
    assert [task for task, _ in seen] == [Note(n=2)]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(
        f"records from queue {arn_name!r}" in r.getMessage() and "['notes']" in r.getMessage()
        for r in errors
    ), caplog.text


def test_options_are_checked_when_the_handler_is_built() -> None:
    env, _ = _env()
    with pytest.raises(ValueError, match=re.escape("concurrency=...) must be >= 1, got 0")):
        env.lambda_handler(concurrency=0)
    negative = re.escape("time_margin_seconds=...) must be >= 0, got -1")
    with pytest.raises(ValueError, match=negative):
        env.lambda_handler(time_margin_seconds=-1)
