"""Batch requests: limits, sizes and partial failures."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from backends import Backend, count, receive, sqs_error
from botocore.exceptions import ClientError


def test_send_batch(backend: Backend) -> None:
    url = backend.make_queue("batch")
    attrs = {"JobName": {"DataType": "String", "StringValue": "job"}}
    entries = [
        {"Id": f"e{i}", "MessageBody": f"body-{i}", "MessageAttributes": attrs} for i in range(10)
    ]
    result = backend.session.send_message_batch(QueueUrl=url, Entries=entries)
    assert result.get("Failed", []) == []
    assert sorted(ok["Id"] for ok in result["Successful"]) == sorted(e["Id"] for e in entries)
    for ok in result["Successful"]:
        body = f"body-{ok['Id'][1:]}"
        assert ok["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
        assert ok["MD5OfMessageAttributes"]
    assert count(backend, url) == 10


def _batch_call(backend: Backend, url: str, kind: str, entries: list[dict[str, Any]]) -> None:
    if kind == "send":
        sends = [{"Id": e["Id"], "MessageBody": "x"} for e in entries]
        backend.session.send_message_batch(QueueUrl=url, Entries=sends)
    elif kind == "delete":
        deletes = [{"Id": e["Id"], "ReceiptHandle": f"h-{e['Id']}"} for e in entries]
        backend.session.delete_message_batch(QueueUrl=url, Entries=deletes)
    else:
        changes = [
            {"Id": e["Id"], "ReceiptHandle": f"h-{e['Id']}", "VisibilityTimeout": 5}
            for e in entries
        ]
        backend.session.change_message_visibility_batch(QueueUrl=url, Entries=changes)


@pytest.mark.parametrize("kind", ["send", "delete", "change"])
def test_batch_shape_limits(backend: Backend, kind: str) -> None:
    url = backend.make_queue("limits")
    if kind == "change" and not backend.is_memory:
        # moto checks nothing in ChangeMessageVisibilityBatch; SQS applies the same rules as
        # to the other batches, so only the per-entry failures are common ground.
        result = backend.session.change_message_visibility_batch(
            QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": "h", "VisibilityTimeout": 5}]
        )
        assert result["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
        return
    cases = [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        (
            [{"Id": str(i)} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        ([{"Id": "same"}, {"Id": "same"}], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        ([{"Id": "not valid!"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    ]
    if kind == "delete" and not backend.is_memory:
        # moto checks neither the entry count nor the ids in DeleteMessageBatch; SQS does.
        cases = [cases[0], cases[2]]
    for entries, code in cases:
        with pytest.raises(ClientError) as excinfo:
            _batch_call(backend, url, kind, entries)
        assert sqs_error(excinfo) == code
    assert count(backend, url) == 0


def test_batch_request_over_one_mib(backend: Backend) -> None:
    url = backend.make_queue("toolong")
    entries = [{"Id": i, "MessageBody": "x" * 600_000} for i in ("a", "b")]
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message_batch(QueueUrl=url, Entries=entries)
    assert sqs_error(excinfo) == "AWS.SimpleQueueService.BatchRequestTooLong"
    with pytest.raises(ClientError) as excinfo:
        backend.session.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x" * 1_048_577}]
        )
    assert sqs_error(excinfo) == "AWS.SimpleQueueService.BatchRequestTooLong"
    assert count(backend, url) == 0


def test_batch_entry_over_queue_maximum(backend: Backend) -> None:
    url = backend.make_queue("entrysize", attributes={"MaximumMessageSize": "1024"})
    entries = [{"Id": "big", "MessageBody": "x" * 1025}, {"Id": "ok", "MessageBody": "y"}]
    result = None
    if backend.is_memory:
        result = backend.session.send_message_batch(QueueUrl=url, Entries=entries)
    else:
        # moto fails the whole request; SQS fails only the oversized entry.
        with pytest.raises(ClientError) as excinfo:
            backend.session.send_message_batch(QueueUrl=url, Entries=entries)
        assert sqs_error(excinfo) == "InvalidParameterValue"
    bodies = [m["Body"] for m in receive(backend, url, MaxNumberOfMessages=10)]
    assert "x" * 1025 not in bodies
    if backend.is_memory:
        assert result is not None
        assert bodies == ["y"]
        assert [ok["Id"] for ok in result["Successful"]] == ["ok"]
        (failed,) = result["Failed"]
        assert (failed["Id"], failed["Code"], failed["SenderFault"]) == (
            "big",
            "InvalidParameterValue",
            True,
        )


def test_batch_entry_with_invalid_characters(backend: Backend) -> None:
    url = backend.make_queue("entrychars")
    entries = [{"Id": "bad", "MessageBody": "nul\x00"}, {"Id": "ok", "MessageBody": "fine"}]
    result = backend.session.send_message_batch(QueueUrl=url, Entries=entries)
    assert "ok" in [ok["Id"] for ok in result["Successful"]]
    if backend.is_memory:
        # moto accepts any character; SQS fails the entry with InvalidMessageContents.
        (failed,) = result["Failed"]
        assert (failed["Id"], failed["Code"]) == ("bad", "InvalidMessageContents")


def test_delete_batch_reports_bad_handles(backend: Backend) -> None:
    url = backend.make_queue("delbatch")
    for i in range(3):
        backend.session.send_message(QueueUrl=url, MessageBody=f"m{i}")
    got = receive(backend, url, MaxNumberOfMessages=10)
    while len(got) < 3:
        got += receive(backend, url, MaxNumberOfMessages=10)
    entries = [{"Id": f"m{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    entries.append({"Id": "bad", "ReceiptHandle": "garbage"})
    result = backend.session.delete_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(ok["Id"] for ok in result["Successful"]) == ["m0", "m1", "m2"]
    (failed,) = result["Failed"]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == (
        "bad",
        "ReceiptHandleIsInvalid",
        True,
    )
    assert count(backend, url, "ApproximateNumberOfMessagesNotVisible") == 0


def test_change_visibility_batch_reports_bad_handles(backend: Backend) -> None:
    url = backend.make_queue("chgbatch")
    backend.session.send_message(QueueUrl=url, MessageBody="x")
    (msg,) = receive(backend, url)
    result = backend.session.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "ReceiptHandle": msg["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
        ],
    )
    assert [ok["Id"] for ok in result["Successful"]] == ["good"]
    (failed,) = result["Failed"]
    assert (failed["Id"], failed["Code"]) == ("bad", "ReceiptHandleIsInvalid")
    (again,) = receive(backend, url)
    assert again["MessageId"] == msg["MessageId"]
