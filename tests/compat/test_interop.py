"""sqs-workers 0.7.3 and sqs_contracts share live queues (a moto server on 127.0.0.1).

Jobs enqueued by one are processed by the other, in every content type both speak, with
the job context and with FIFO group and deduplication ids; a dead-letter queue filled by
one is pushed back upstream by the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import sqs_workers
from sqs_workers.backoff_policies import IMMEDIATE_RETURN as WORKERS_IMMEDIATE_RETURN
from sqs_workers.deadletter_queue import DeadLetterQueue as WorkersDeadLetterQueue

from sqs_contracts import (
    IMMEDIATE_RETURN,
    JobContext,
    SQSEnv,
    Task,
    create_fifo_queue,
    create_standard_queue,
    delete_queue,
)
from sqs_contracts.deadletter_queue import DeadLetterQueue

REGION = "us-east-1"
KWARGS: dict[str, Any] = {
    "to": "a@example.com",
    "n": 3,
    "tags": ["x", "y"],
    "extra": {"k": [1, 2]},
    "none": None,
}
CONTEXT = {"remote_addr": "1.2.3.4", "request_id": "r-1"}


@pytest.fixture
def workers_env(moto_endpoint: str) -> sqs_workers.SQSEnv:
    """An sqs-workers env on the moto server, as its users inject an endpoint."""
    return sqs_workers.SQSEnv(
        sqs_client=boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION),
        sqs_resource=boto3.resource("sqs", endpoint_url=moto_endpoint, region_name=REGION),
    )


@pytest.fixture
def env(moto_endpoint: str) -> SQSEnv:
    """Our env on the same server, accepting every content type sqs-workers writes."""
    return SQSEnv(
        endpoint_url=moto_endpoint,
        region_name=REGION,
        allowed_content_types=["json", "pickle", "pickle_compat"],
    )


@pytest.fixture
def make_queue(env: SQSEnv) -> Iterator[Callable[..., str]]:
    """Create uniquely named queues (deleted after the test); returns their names."""
    created: list[str] = []

    def make(prefix: str = "interop", *, fifo: bool = False, **kwargs: Any) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        if fifo:
            create_fifo_queue(env, name, **kwargs)
        else:
            create_standard_queue(env, name, **kwargs)
        created.append(name)
        return name

    yield make
    for name in created:
        delete_queue(env, name)


def _drain(process: Callable[[], Any], want: int, seen: list[Any], rounds: int = 20) -> None:
    for _ in range(rounds):
        if len(seen) >= want:
            return
        process()
    assert len(seen) >= want, f"processed {len(seen)} of {want}"


# -- sqs-workers produces, sqs_contracts consumes ------------------------------------------------


@pytest.mark.parametrize("content_type", ["json", "pickle", "pickle_compat"])
def test_sqs_workers_jobs_run_by_function_processors(
    workers_env: sqs_workers.SQSEnv,
    env: SQSEnv,
    make_queue: Callable[..., str],
    content_type: str,
) -> None:
    name = make_queue()
    workers_env.codec = content_type
    producer = workers_env.queue(name)

    @producer.processor("send_email")
    def send_email_producer(
        to: str, n: int, tags: list[str], extra: dict[str, Any], none: Any
    ) -> None:
        raise AssertionError("the producer side never runs it")

    with workers_env.context(**CONTEXT):
        producer.add_job("send_email", **KWARGS)
        send_email_producer.delay(**KWARGS)

    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []
    queue = env.queue(name)

    @queue.processor("send_email", pass_context=True)
    def send_email(
        to: str, n: int, tags: list[str], extra: dict[str, Any], none: Any, context: JobContext
    ) -> None:
        seen.append(({"to": to, "n": n, "tags": tags, "extra": extra, "none": none}, dict(context)))

    _drain(lambda: queue.process_batch(wait_seconds=1), 2, seen)
    assert seen == [(KWARGS, CONTEXT)] * 2


@pytest.mark.parametrize("content_type", ["json", "pickle_compat"])
def test_sqs_workers_jobs_run_by_typed_contracts(
    workers_env: sqs_workers.SQSEnv,
    env: SQSEnv,
    make_queue: Callable[..., str],
    content_type: str,
) -> None:
    name = make_queue()

    class SendEmail(Task, queue=name, name="send_email"):
        to: str
        n: int
        tags: list[str]
        extra: dict[str, Any]
        none: str | None = None
        subject: str = "default subject"  # a field sqs-workers' producer does not know yet

    seen: list[tuple[SendEmail, JobContext]] = []

    @env.handler(SendEmail, pass_context=True)
    def send_email(task: SendEmail, context: JobContext) -> None:
        seen.append((task, context))

    with workers_env.context(**CONTEXT):
        workers_env.queue(name).add_job("send_email", _content_type=content_type, **KWARGS)

    _drain(lambda: env.queue(name).process_batch(wait_seconds=1), 1, seen)
    task, context = seen[0]
    assert task == SendEmail(**KWARGS)
    assert task.subject == "default subject"
    assert dict(context) == CONTEXT
    assert context.job_name == "send_email"
    assert context.receive_count == 1


def test_sqs_workers_fifo_jobs_keep_group_order_and_ids(
    workers_env: sqs_workers.SQSEnv, env: SQSEnv, make_queue: Callable[..., str]
) -> None:
    name = make_queue("interop-orders", fifo=True)
    workers_env.codec = "json"
    producer = workers_env.queue(name)
    for i in range(5):
        producer.add_job("place", _group_id="cust-1", _deduplication_id=f"o{i}", order_id=i)
    producer.add_job("place", _group_id="cust-1", _deduplication_id="o0", order_id=0)  # a duplicate
    producer.add_job("place", order_id=99, _deduplication_id="o99")  # group "default"

    seen: list[tuple[int, str | None]] = []
    queue = env.queue(name)

    @queue.processor("place", pass_context=True)
    def place(order_id: int, context: JobContext) -> None:
        seen.append((order_id, context.group_id))

    _drain(lambda: queue.process_batch(wait_seconds=1), 6, seen)
    assert [s for s in seen if s[1] == "cust-1"] == [(i, "cust-1") for i in range(5)]
    assert (99, "default") in seen
    assert len(seen) == 6


# -- sqs_contracts produces, sqs-workers consumes ------------------------------------------------


@pytest.mark.parametrize("codec", ["json", "orjson", "pickle_compat"])
def test_our_jobs_run_by_an_sqs_workers_worker(
    workers_env: sqs_workers.SQSEnv,
    moto_endpoint: str,
    make_queue: Callable[..., str],
    codec: str,
) -> None:
    name = make_queue()
    producer_env = SQSEnv(endpoint_url=moto_endpoint, region_name=REGION, codec=codec)

    class SendEmail(Task, queue=name, name="send_email"):
        to: str
        n: int
        tags: list[str]
        extra: dict[str, Any]
        none: str | None = None

    @producer_env.processor(name, "notify")
    def notify(user_id: int, channel: str = "email") -> None: ...

    with producer_env.activate(), producer_env.context(**CONTEXT):
        SendEmail(**KWARGS).delay()
        notify.delay(7)
        with producer_env.batch():
            for i in range(12):
                notify.delay(i, channel="sms")

    seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    consumer = workers_env.queue(name)

    @consumer.processor("send_email", pass_context=True)
    def send_email(context: Any, **kwargs: Any) -> None:
        seen.append(("send_email", kwargs, context.to_dict()))

    @consumer.processor("notify", pass_context=True)
    def notify_consumer(user_id: int, channel: str, context: Any) -> None:
        seen.append(("notify", {"user_id": user_id, "channel": channel}, context.to_dict()))

    _drain(lambda: consumer.process_batch(wait_seconds=1), 14, seen)
    assert ("send_email", KWARGS, CONTEXT) in seen
    assert ("notify", {"user_id": 7, "channel": "email"}, CONTEXT) in seen
    sms = sorted(s[1]["user_id"] for s in seen if s[1].get("channel") == "sms")
    assert sms == list(range(12))
    assert all(s[2] == CONTEXT for s in seen)


# -- dead-letter queues ------------------------------------------------------------------------


def test_dead_letters_of_sqs_workers_pushed_back_by_us(
    workers_env: sqs_workers.SQSEnv, env: SQSEnv, make_queue: Callable[..., str]
) -> None:
    dead = make_queue("interop-dead")
    name = make_queue(redrive_policy=env.redrive_policy(dead, 1))
    workers_env.codec = "pickle_compat"
    upstream = workers_env.queue(name, backoff_policy=WORKERS_IMMEDIATE_RETURN)
    attempts: list[int] = []
    failing = [True]

    @upstream.processor("flaky")
    def flaky(x: int) -> None:
        attempts.append(x)
        if failing[0]:
            raise RuntimeError("not yet")

    with workers_env.context(**CONTEXT):
        flaky.delay(x=1)
    upstream.process_batch(wait_seconds=1)  # fails once: the next receive redrives it
    assert upstream.process_batch(wait_seconds=0).total_count() == 0
    assert attempts == [1]

    ours = env.queue(dead, DeadLetterQueue.maker(env.queue(name)))
    assert ours.process_batch(wait_seconds=1).succeeded_count() == 1
    failing[0] = False
    _drain(lambda: upstream.process_batch(wait_seconds=2), 2, attempts)
    assert attempts == [1, 1]


def test_our_dead_letters_pushed_back_by_sqs_workers(
    workers_env: sqs_workers.SQSEnv, env: SQSEnv, make_queue: Callable[..., str]
) -> None:
    dead = make_queue("interop-dead")
    name = make_queue(redrive_policy=env.redrive_policy(dead, 1))
    queue = env.queue(name, backoff_policy=IMMEDIATE_RETURN)
    seen: list[tuple[int, dict[str, Any]]] = []
    failing = [True]

    @queue.processor("flaky", pass_context=True)
    def flaky(x: int, context: JobContext) -> None:
        seen.append((x, dict(context)))
        if failing[0]:
            raise RuntimeError("not yet")

    with env.context(**CONTEXT):
        flaky.delay(x=1)
    queue.process_batch(wait_seconds=1)
    assert queue.process_batch(wait_seconds=0).total_count() == 0
    assert len(seen) == 1

    maker = WorkersDeadLetterQueue.maker(workers_env.queue(name))  # type: ignore[no-untyped-call]
    pusher = workers_env.queue(dead, maker)
    assert pusher.process_batch(wait_seconds=1).succeeded_count() == 1
    failing[0] = False
    _drain(lambda: queue.process_batch(wait_seconds=2), 2, seen)
    assert seen == [(1, CONTEXT), (1, CONTEXT)]
