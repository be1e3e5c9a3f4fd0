"""Visibility timeouts, receipt handles, deletes and visibility changes."""

from __future__ import annotations

import pytest
from backends import Backend, count, receive, sqs_error
from botocore.exceptions import ClientError


def test_visibility_timeout_hides_then_returns(backend: Backend) -> None:
    url = backend.make_queue("vis", attributes={"VisibilityTimeout": "1"})
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (first,) = receive(backend, url, AttributeNames=["ApproximateReceiveCount"])
    assert receive(backend, url) == []
    assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 1
    backend.advance(1.5)
    (second,) = receive(backend, url, AttributeNames=["ApproximateReceiveCount"])
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"


def test_receive_overrides_visibility_timeout(backend: Backend) -> None:
    url = backend.make_queue("visoverride")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    assert len(receive(backend, url, VisibilityTimeout=1)) == 1
    backend.advance(1.5)
    assert len(receive(backend, url)) == 1
    backend.advance(1.5)
    assert receive(backend, url) == []


def test_change_visibility_to_zero_releases(backend: Backend) -> None:
    url = backend.make_queue("release")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(backend, url)
    backend.session.change_message_visibility(
        QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
    )
    (again,) = receive(backend, url, AttributeNames=["All"])
    assert again["MessageId"] == msg["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_change_visibility_extends(backend: Backend) -> None:
    url = backend.make_queue("extend", attributes={"VisibilityTimeout": "1"})
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(backend, url)
    backend.session.change_message_visibility(
        QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=60
    )
    backend.advance(1.5)
    assert receive(backend, url) == []
    backend.session.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 0


def test_visibility_timeout_limit_is_twelve_hours(backend: Backend) -> None:
    url = backend.make_queue("cap")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError) as excinfo:
        backend.session.receive_message(QueueUrl=url, VisibilityTimeout=43_201)
    assert sqs_error(excinfo) == "InvalidParameterValue"
    (msg,) = receive(backend, url)
    handle = msg["ReceiptHandle"]
    backend.session.change_message_visibility(
        QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_000
    )
    with pytest.raises(ClientError) as excinfo:
        backend.session.change_message_visibility(
            QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_201
        )
    assert sqs_error(excinfo) == "InvalidParameterValue"
    if backend.is_memory:
        # The cap counts from the receive: after 300 s only 42 900 s are left.
        backend.advance(300)
        with pytest.raises(ClientError) as excinfo:
            backend.session.change_message_visibility(
                QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_000
            )
        assert sqs_error(excinfo) == "InvalidParameterValue"
        backend.session.change_message_visibility(
            QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=42_900
        )


def test_first_receive_timestamp_is_kept(backend: Backend) -> None:
    url = backend.make_queue("firstrecv")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (first,) = receive(backend, url, AttributeNames=["All"], VisibilityTimeout=0)
    backend.advance(0.2)
    (second,) = receive(backend, url, AttributeNames=["All"])
    assert (
        second["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    )
    assert second["Attributes"]["SentTimestamp"] == first["Attributes"]["SentTimestamp"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"


def test_delete_message(backend: Backend) -> None:
    url = backend.make_queue("delete")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(backend, url, VisibilityTimeout=1)
    backend.session.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert count(backend, url) == 0
    assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 0
    # Deleting again with the same (latest) handle succeeds, as in SQS.
    backend.session.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])


def test_garbage_receipt_handle_is_invalid(backend: Backend) -> None:
    url = backend.make_queue("garbage")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError) as excinfo:
        backend.session.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert sqs_error(excinfo) == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError) as excinfo:
        backend.session.change_message_visibility(
            QueueUrl=url, ReceiptHandle="garbage", VisibilityTimeout=5
        )
    assert sqs_error(excinfo) == "ReceiptHandleIsInvalid"


def test_stale_receipt_handle(backend: Backend) -> None:
    url = backend.make_queue("stale")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (old,) = receive(backend, url, VisibilityTimeout=0)
    (new,) = receive(backend, url, VisibilityTimeout=30)
    assert new["ReceiptHandle"] != old["ReceiptHandle"]
    backend.session.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    if backend.is_memory:
        # SQS documents that an older handle "succeeds, but the message will not be
        # deleted"; moto deletes the message anyway.
        assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 1
    backend.session.delete_message(QueueUrl=url, ReceiptHandle=new["ReceiptHandle"])
    assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 0


def test_change_visibility_of_deleted_message_fails(backend: Backend) -> None:
    url = backend.make_queue("chgdeleted")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(backend, url)
    backend.session.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    with pytest.raises(ClientError) as excinfo:
        backend.session.change_message_visibility(
            QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=5
        )
    if backend.is_memory:
        # moto says ReceiptHandleIsInvalid; SQS says the message "does not exist or is not
        # available for visibility timeout change" (InvalidParameterValue).
        assert sqs_error(excinfo) == "InvalidParameterValue"


def test_receipt_handle_of_another_queue_is_invalid(backend: Backend) -> None:
    first = backend.make_queue("one")
    second = backend.make_queue("two")
    backend.session.send_message(QueueUrl=first, MessageBody="x")
    backend.session.send_message(QueueUrl=second, MessageBody="y")
    (msg,) = receive(backend, first)
    assert len(receive(backend, second)) == 1
    with pytest.raises(ClientError) as excinfo:
        backend.session.delete_message(QueueUrl=second, ReceiptHandle=msg["ReceiptHandle"])
    assert sqs_error(excinfo) == "ReceiptHandleIsInvalid"
    backend.session.delete_message(QueueUrl=first, ReceiptHandle=msg["ReceiptHandle"])
    assert count(backend, first, "ApproximateNumberOfMessagesNotVisible") == 0
    assert count(backend, second, "ApproximateNumberOfMessagesNotVisible") == 1
