"""Queue lifecycle and attributes, on every backend."""

from __future__ import annotations

import json

import pytest
from backends import Backend, count, receive, sqs_error
from botocore.exceptions import ClientError

from sqs_contracts.sessions import is_nonexistent_queue


def test_create_queue_returns_url_and_arn(backend: Backend) -> None:
    name = backend.unique("named")
    url = backend.session.create_queue(QueueName=name)["QueueUrl"]
    backend.created.append(url)
    assert url.endswith(f"/{name}")
    assert backend.session.get_queue_url(QueueName=name)["QueueUrl"] == url
    arn = backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    assert arn["Attributes"]["QueueArn"].startswith("arn:aws:sqs:us-east-1:")
    assert arn["Attributes"]["QueueArn"].endswith(f":{name}")


def test_create_queue_is_idempotent_with_same_attributes(backend: Backend) -> None:
    name = backend.unique("idem")
    attrs = {"VisibilityTimeout": "5"}
    first = backend.session.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    backend.created.append(first)
    second = backend.session.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    assert first == second


def test_create_queue_with_other_attributes_fails(backend: Backend) -> None:
    name = backend.unique("clash")
    url = backend.session.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5"})
    backend.created.append(url["QueueUrl"])
    with pytest.raises(ClientError) as excinfo:
        backend.session.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "6"})
    assert sqs_error(excinfo) == "QueueAlreadyExists"
    assert excinfo.value.response["Error"]["QueryErrorCode"] == "QueueNameExists"


@pytest.mark.parametrize("name", ["has space", "x" * 81, "dot.ted", "sl/ash"])
def test_invalid_queue_names_are_refused(backend: Backend, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        backend.session.create_queue(QueueName=name)
    assert sqs_error(excinfo) == "InvalidParameterValue"


def test_fifo_queue_name_needs_fifo_suffix(backend: Backend) -> None:
    with pytest.raises(ClientError) as excinfo:
        backend.session.create_queue(
            QueueName=backend.unique("nosuffix"), Attributes={"FifoQueue": "true"}
        )
    assert sqs_error(excinfo) == "InvalidParameterValue"
    url = backend.make_queue("suffixed", fifo=True)
    assert url.endswith(".fifo")
    if backend.is_memory:
        # moto creates a standard queue named x.fifo; SQS refuses the name without FifoQueue.
        with pytest.raises(ClientError) as excinfo:
            backend.session.create_queue(QueueName=backend.unique("std", fifo=True))
        assert sqs_error(excinfo) == "InvalidParameterValue"


def test_unknown_queue_is_nonexistent(backend: Backend) -> None:
    url = backend.make_queue("gone")
    name = url.rsplit("/", 1)[1]
    backend.session.delete_queue(QueueUrl=url)
    calls = [
        lambda: backend.session.get_queue_url(QueueName=name),
        lambda: backend.session.send_message(QueueUrl=url, MessageBody="x"),
        lambda: backend.session.receive_message(QueueUrl=url),
        lambda: backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: backend.session.purge_queue(QueueUrl=url),
        lambda: backend.session.delete_queue(QueueUrl=url),
    ]
    for call in calls:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert sqs_error(excinfo) == "AWS.SimpleQueueService.NonExistentQueue"
        assert excinfo.value.response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
        assert is_nonexistent_queue(excinfo.value)


def test_list_queues_by_prefix(backend: Backend) -> None:
    prefix = backend.unique("lst")
    urls = {backend.make_queue(f"{prefix}-a"), backend.make_queue(f"{prefix}-b")}
    other = backend.make_queue("unlisted")
    listed = backend.session.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    assert set(listed) == urls
    assert other not in listed
    assert "QueueUrls" not in backend.session.list_queues(QueueNamePrefix=backend.unique("none"))


def test_default_queue_attributes(backend: Backend) -> None:
    url = backend.make_queue("defaults")
    attrs = backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["DelaySeconds"] == "0"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "0"
    assert abs(float(attrs["CreatedTimestamp"]) - backend.now()) < 60
    assert "LastModifiedTimestamp" in attrs
    assert "FifoQueue" not in attrs


def test_fifo_queue_attributes(backend: Backend) -> None:
    url = backend.make_queue("fifoattrs", fifo=True)
    attrs = backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["QueueArn"].endswith(".fifo")


def test_selected_and_unknown_attribute_names(backend: Backend) -> None:
    url = backend.make_queue("selected", attributes={"VisibilityTimeout": "7"})
    attrs = backend.session.get_queue_attributes(
        QueueUrl=url, AttributeNames=["VisibilityTimeout", "QueueArn"]
    )["Attributes"]
    assert set(attrs) == {"VisibilityTimeout", "QueueArn"}
    assert attrs["VisibilityTimeout"] == "7"
    with pytest.raises(ClientError) as excinfo:
        backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    assert sqs_error(excinfo) == "InvalidAttributeName"


def test_set_queue_attributes(backend: Backend) -> None:
    url = backend.make_queue("settable")
    backend.session.set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "2"}
    )
    attrs = backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["VisibilityTimeout"], attrs["DelaySeconds"]) == ("45", "2")
    if backend.is_memory:
        # moto stores any attribute name and value; SQS checks both.
        with pytest.raises(ClientError) as excinfo:
            backend.session.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "901"})
        assert sqs_error(excinfo) == "InvalidAttributeValue"
        with pytest.raises(ClientError) as excinfo:
            backend.session.set_queue_attributes(QueueUrl=url, Attributes={"Bogus": "1"})
        assert sqs_error(excinfo) == "InvalidAttributeName"


@pytest.mark.parametrize("max_receive_count", [3, "3"])
def test_redrive_policy_accepts_int_or_str_count(
    backend: Backend, max_receive_count: int | str
) -> None:
    dlq = backend.make_queue("dlq")
    arn = backend.session.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    target = arn["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": max_receive_count})
    url = backend.make_queue("src", attributes={"RedrivePolicy": policy})
    got = backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    parsed = json.loads(got["Attributes"]["RedrivePolicy"])
    assert parsed["deadLetterTargetArn"] == target
    assert int(parsed["maxReceiveCount"]) == 3


def test_redrive_to_missing_queue_is_refused(backend: Backend) -> None:
    missing = "arn:aws:sqs:us-east-1:123456789012:" + backend.unique("nodlq")
    policy = json.dumps({"deadLetterTargetArn": missing, "maxReceiveCount": 2})
    with pytest.raises(ClientError) as excinfo:
        backend.make_queue("orphan", attributes={"RedrivePolicy": policy})
    if backend.is_memory:
        # moto answers NonExistentQueue; SQS says the RedrivePolicy parameter is invalid.
        assert sqs_error(excinfo) == "InvalidParameterValue"


def test_purge_queue(backend: Backend) -> None:
    url = backend.make_queue("purge")
    for i in range(3):
        backend.session.send_message(QueueUrl=url, MessageBody=f"m{i}")
    assert len(receive(backend, url)) == 1
    backend.session.purge_queue(QueueUrl=url)
    assert count(backend, url) == 0
    assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 0
    assert receive(backend, url, MaxNumberOfMessages=10) == []


def test_approximate_counts(backend: Backend) -> None:
    url = backend.make_queue("counts")
    backend.session.send_message(QueueUrl=url, MessageBody="a")
    backend.session.send_message(QueueUrl=url, MessageBody="b")
    backend.session.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert len(receive(backend, url)) == 1
    assert count(backend, url) == 1
    assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 1
    assert count(backend, url, "ApproximateNumberOfMessagesDelayed") == 1


def test_delete_queue_removes_it(backend: Backend) -> None:
    prefix = backend.unique("del")
    url = backend.make_queue(prefix)
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    backend.session.delete_queue(QueueUrl=url)
    assert url not in backend.session.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
