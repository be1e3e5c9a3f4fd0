"""Redrive: messages received more than maxReceiveCount times move to the dead-letter queue."""

from __future__ import annotations

import json

import pytest
from backends import Backend, count, receive, sqs_error
from botocore.exceptions import ClientError

ATTRS = {"JobName": {"DataType": "String", "StringValue": "job"}}


def _queues(backend: Backend, *, fifo: bool = False, max_count: int | str = 2) -> tuple[str, str]:
    dlq = backend.make_queue("dlq", fifo=fifo)
    arn = backend.session.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": max_count}
    attributes = {"RedrivePolicy": json.dumps(policy), "VisibilityTimeout": "0"}
    if fifo:
        attributes["ContentBasedDeduplication"] = "true"
    return backend.make_queue("src", fifo=fifo, attributes=attributes), dlq


@pytest.mark.parametrize("max_count", [2, "2"])
def test_message_moves_after_max_receive_count(backend: Backend, max_count: int | str) -> None:
    src, dlq = _queues(backend, max_count=max_count)
    sent = backend.session.send_message(QueueUrl=src, MessageBody="poison", MessageAttributes=ATTRS)
    for attempt in (1, 2):
        (msg,) = receive(backend, src, AttributeNames=["ApproximateReceiveCount"])
        assert msg["Attributes"]["ApproximateReceiveCount"] == str(attempt)
    assert receive(backend, src) == []
    assert count(backend, src) == 0
    (dead,) = receive(
        backend, dlq, AttributeNames=["All"], MessageAttributeNames=["All"], VisibilityTimeout=0
    )
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"
    assert dead["MessageAttributes"] == ATTRS
    # The count covers receives "across all queues": two in the source, one here.
    assert dead["Attributes"]["ApproximateReceiveCount"] == "3"


def test_deleted_message_is_not_redriven(backend: Backend) -> None:
    src, dlq = _queues(backend, max_count=1)
    backend.session.send_message(QueueUrl=src, MessageBody="fine")
    (msg,) = receive(backend, src)
    backend.session.delete_message(QueueUrl=src, ReceiptHandle=msg["ReceiptHandle"])
    assert receive(backend, src) == []
    assert count(backend, dlq) == 0


def test_fifo_redrive_keeps_the_group_moving(backend: Backend) -> None:
    src, dlq = _queues(backend, fifo=True, max_count=1)
    backend.session.send_message(QueueUrl=src, MessageBody="first", MessageGroupId="g")
    backend.session.send_message(QueueUrl=src, MessageBody="second", MessageGroupId="g")
    (msg,) = receive(backend, src)
    assert msg["Body"] == "first"
    (nxt,) = receive(backend, src)
    assert nxt["Body"] == "second"
    (dead,) = receive(backend, dlq, AttributeNames=["MessageGroupId"])
    assert dead["Body"] == "first"
    assert dead["Attributes"]["MessageGroupId"] == "g"


def test_dead_letter_queue_type_must_match(backend: Backend) -> None:
    standard = backend.make_queue("stddlq")
    arn = backend.session.get_queue_attributes(QueueUrl=standard, AttributeNames=["QueueArn"])
    policy = json.dumps(
        {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
    )
    with pytest.raises(ClientError) as excinfo:
        backend.make_queue("fifosrc", fifo=True, attributes={"RedrivePolicy": policy})
    assert sqs_error(excinfo) == "InvalidParameterCombination"


def test_redrive_policy_can_be_set_later_and_removed(backend: Backend) -> None:
    dlq = backend.make_queue("laterdlq")
    arn = backend.session.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    src = backend.make_queue("latersrc", attributes={"VisibilityTimeout": "0"})
    policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "1"}
    backend.session.set_queue_attributes(
        QueueUrl=src, Attributes={"RedrivePolicy": json.dumps(policy)}
    )
    backend.session.send_message(QueueUrl=src, MessageBody="x")
    assert len(receive(backend, src)) == 1
    assert receive(backend, src) == []
    assert len(receive(backend, dlq)) == 1
    backend.session.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    attrs = backend.session.get_queue_attributes(QueueUrl=src, AttributeNames=["All"])
    assert "RedrivePolicy" not in attrs["Attributes"]
