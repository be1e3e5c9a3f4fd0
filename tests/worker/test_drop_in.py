"""sqs-workers code runs unchanged: boto3 message attributes, batch reads past ten, errors.

Raw processors, custom processors and dead-letter push-backs receive ``sqs_contracts.Message``
records, which read like boto3's ``sqs.Message``; SQS errors still are ``ClientError``s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from backends import Backend
from botocore.exceptions import ClientError
from sqs_workers import codecs as sqs_workers_codecs

from sqs_contracts import AccessDenied, Message, QueueNotFound, RawQueue, TransientError
from sqs_contracts.batching import BatchMessages
from sqs_contracts.deadletter_queue import DeadLetterQueue
from sqs_contracts.processors import Processor
from sqs_contracts.sessions import BotoSession
from sqs_contracts.sessions.errors import SQSServiceError, service_error, translate

from .helpers import after, make_env, make_queue, receive_all, run_worker


def test_raw_processor_reads_boto3_attributes(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw")
    raw = env.queue("raw", RawQueue)
    seen: list[tuple[str, str, str]] = []

    @raw.raw_processor()
    def handle(message: Any) -> None:
        seen.append(
            (
                message.body,
                message.message_attributes["Source"]["StringValue"],
                message.attributes["ApproximateReceiveCount"],
            )
        )
        assert message.message_id
        assert message.receipt_handle
        assert message["Body"] == message.body

    raw.add_raw_job(
        "hello", message_attributes={"Source": {"DataType": "String", "StringValue": "s3"}}
    )
    run_worker(env, "raw", policy=after(1))
    assert seen == [("hello", "s3", "1")]


def test_get_raw_messages_gives_message_records(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    queue = env.queue("jobs")
    queue.add_job("ping", n=1)

    [message] = queue.get_raw_messages(0)
    assert isinstance(message, Message)
    assert message.message_attributes["JobName"]["StringValue"] == "ping"
    assert message["MessageAttributes"]["JobName"]["StringValue"] == "ping"
    assert message.md5_of_body == message["MD5OfBody"]
    with pytest.raises(TypeError):
        message["Body"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize("codec", ["json", "pickle", "pickle_compat"])
def test_codec_round_trip_read_through_get_raw_messages(backend: Backend, codec: str) -> None:
    env = make_env(backend, codec=codec)
    make_queue(backend, env, "jobs")
    queue = env.queue("jobs")
    queue.add_job("ping", n=7, label="x")

    [message] = queue.get_raw_messages(0)
    content_type = message.message_attributes["ContentType"]["StringValue"]
    decoded = sqs_workers_codecs.get_codec(content_type).deserialize(message.body)
    assert decoded == {"n": 7, "label": "x"}


def test_custom_processor_reads_boto3_attributes(backend: Backend) -> None:
    bodies: list[str] = []

    class Recording(Processor):
        def process_message(self, message: Mapping[str, Any]) -> Any:
            assert isinstance(message, Message)
            bodies.append(message.body)
            return super().process_message(message)

    env = make_env(backend, processor_maker=Recording)
    make_queue(backend, env, "jobs")
    queue = env.queue("jobs")
    handled: list[int] = []

    @queue.processor("ping")
    def ping(n: int) -> None:
        handled.append(n)

    ping.delay(n=3)
    run_worker(env, "jobs", policy=after(1))
    assert handled == [3]
    assert bodies == ['{"n": 3}']


def test_dead_letter_push_back_is_read_as_a_boto3_message(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw")
    make_queue(backend, env, "raw_dead")
    upstream = env.queue("raw", RawQueue)
    dead = env.queue("raw_dead", DeadLetterQueue.maker(upstream))
    dead.add_raw_job("lost", message_attributes={"Why": {"DataType": "String", "StringValue": "x"}})

    run_worker(env, "raw_dead", policy=after(1))
    backend.advance(2)  # the push-back has a 1 s delay
    [pushed] = receive_all(env, "raw")
    assert pushed.body == "lost"  # type: ignore[attr-defined]
    assert pushed.message_attributes["Why"]["StringValue"] == "x"  # type: ignore[attr-defined]


def test_process_batch_past_ten_hands_every_job_to_one_call(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "batched")
    queue = env.queue("batched", batching_policy=BatchMessages(batch_size=45))
    calls: list[int] = []

    @queue.processor("item")
    def item(messages: Sequence[dict[str, Any]]) -> None:
        calls.append(len(messages))

    with queue.add_batch():
        for n in range(42):
            item.delay(n=n)

    result = queue.process_batch()
    if not backend.is_memory:
        # moto may answer a short poll with fewer messages than are visible; the rest follow.
        while sum(calls) < 42:
            queue.process_batch()
    assert calls == [42] if backend.is_memory else sum(calls) == 42
    assert result.succeeded_count() == calls[0]


def test_sqs_errors_are_client_errors_with_their_code(backend: Backend) -> None:
    env = make_env(backend)
    with pytest.raises(QueueNotFound) as info:
        env.queue("missing").url  # noqa: B018
    assert isinstance(info.value, ClientError)
    assert info.value.response["Error"]["Code"] in {
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
    assert "does not exist" in str(info.value)
    assert "queue create" in str(info.value)
    assert isinstance(info.value.__cause__, QueueNotFound)


def test_sessions_raise_the_library_errors(backend: Backend) -> None:
    with pytest.raises(QueueNotFound):
        backend.session.get_queue_url(QueueName=backend.unique("nope"))
    url = backend.make_queue("err")
    with pytest.raises(SQSServiceError) as info:
        backend.session.change_message_visibility(
            QueueUrl=url, ReceiptHandle="not-a-handle", VisibilityTimeout=5
        )
    assert isinstance(info.value, ClientError)


def test_an_unreachable_endpoint_is_a_transient_error() -> None:
    # A port nothing listens on: 127.0.0.1:9 (discard) is closed on this machine.
    session = BotoSession.create(endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
    session.client.meta.config.retries = {"max_attempts": 0}  # type: ignore[attr-defined]
    with pytest.raises(TransientError) as info:
        session.list_queues()
    assert "cannot reach" in str(info.value)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("InvalidClientTokenId", 403, AccessDenied),
        ("SignatureDoesNotMatch", 403, AccessDenied),
        ("AccessDenied", 403, AccessDenied),
        ("ThrottlingException", 400, TransientError),
        ("InternalError", 500, TransientError),
        ("AWS.SimpleQueueService.NonExistentQueue", 400, QueueNotFound),
        ("InvalidParameterValue", 400, SQSServiceError),
    ],
)
def test_error_codes_map_to_the_library_errors(
    code: str, status: int, expected: type[Exception]
) -> None:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    error = translate(ClientError(response, "ReceiveMessage"), "ReceiveMessage")  # type: ignore[arg-type]
    assert type(error) is expected
    assert isinstance(error, ClientError)
    assert type(service_error(response, "ReceiveMessage")) is expected


def test_a_forbidden_status_alone_is_not_access_denied() -> None:
    # SQS answers PurgeQueueInProgress with HTTP 403: waiting fixes it, credentials do not.
    response: dict[str, Any] = {
        "Error": {"Code": "AWS.SimpleQueueService.PurgeQueueInProgress", "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    error = service_error(response, "PurgeQueue")
    assert not isinstance(error, AccessDenied)
    assert error.code == "AWS.SimpleQueueService.PurgeQueueInProgress"


def test_an_unparsed_xml_answer_is_classified_by_the_code_inside_it() -> None:
    # moto answers a JSON request's refused credentials in XML, which botocore cannot parse.
    body = "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>no</Message>"
    response: dict[str, Any] = {
        "Error": {"Code": "403", "Message": body + "</Error></ErrorResponse>"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    assert isinstance(service_error(response, "ReceiveMessage"), AccessDenied)
