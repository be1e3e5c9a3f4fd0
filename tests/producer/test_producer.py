"""The producer half: contracts, codecs, context, send batching and FIFO options."""

from __future__ import annotations

import enum
import threading
import uuid
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from sqs_contracts import (
    JobContext,
    MessageTooLarge,
    SendBatchError,
    SQSEnv,
    Task,
    create_fifo_queue,
    create_standard_queue,
)
from sqs_contracts.errors import HandlerError, NoCurrentEnv, QueueConfigError
from sqs_contracts.sessions.base import SQSSession


class CountingSession:
    """Wraps a session, counts calls per operation and can fail some batch entries."""

    def __init__(self, inner: SQSSession, fail_entries: int = 0, fail_times: int = 0) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.batch_sizes: list[int] = []
        self.batch_bytes: list[int] = []
        self.fail_entries = fail_entries
        self.fail_times = fail_times
        self._lock = threading.Lock()  # batch blocks send from several threads at once

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(**kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] += 1
            return method(**kwargs)

        return call

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        with self._lock:
            self.calls["send_message_batch"] += 1
            self.batch_sizes.append(len(Entries))
            self.batch_bytes.append(sum(len(e["MessageBody"]) for e in Entries))
            fail = bool(self.fail_times and self.fail_entries)
            if fail:
                self.fail_times -= 1
        if fail:
            failing, passing = Entries[: self.fail_entries], Entries[self.fail_entries :]
            response: dict[str, Any] = {"Successful": []}
            if passing:
                response = self.inner.send_message_batch(QueueUrl=QueueUrl, Entries=passing)
            response.setdefault("Failed", []).extend(
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
                for e in failing
            )
            return response
        return self.inner.send_message_batch(QueueUrl=QueueUrl, Entries=Entries)


class Color(str, enum.Enum):
    red = "red"
    blue = "blue"


class Address(BaseModel):
    street: str
    zip_code: str


class RichJob(Task, queue="rich", name="rich_job"):
    when: datetime
    ident: uuid.UUID
    amount: Decimal
    color: Color
    address: Address
    tags: list[str] = Field(default_factory=list)
    note: str | None = None


class Small(Task, queue="small"):
    to: str
    subject: str = "hello"


class Order(Task, queue="orders.fifo", name="order"):
    order_id: int


class Big(Task, queue="big"):
    blob: str


def make_env(backend: Any, **kwargs: Any) -> SQSEnv:
    return SQSEnv(backend.session, queue_prefix=backend.unique("p") + "-", **kwargs)


def receive_all(env: SQSEnv, queue_name: str) -> list[dict[str, Any]]:
    queue = env.queue(queue_name)
    out: list[dict[str, Any]] = []
    while messages := queue.get_raw_messages(0):
        out.extend(messages)
    return out


def test_wrong_field_raises_at_construction() -> None:
    with pytest.raises(ValidationError) as info:
        Small(to=123, subject="x")  # type: ignore[arg-type]
    assert "to" in str(info.value)


def test_job_name_defaults_to_class_name_and_can_be_pinned() -> None:
    assert Small.job_name() == "Small"
    assert RichJob.job_name() == "rich_job"
    assert RichJob.queue_name() == "rich"


def test_no_env_error_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import weakref

    from sqs_contracts.contracts import binding

    monkeypatch.setattr(binding, "_created", weakref.WeakSet())
    with pytest.raises(NoCurrentEnv, match="activate"):
        Small(to="a").delay()


@pytest.mark.parametrize("codec", ["json", "orjson", "pickle", "pickle_compat"])
def test_every_codec_round_trips(backend: Any, codec: str) -> None:
    env = make_env(backend, codec=codec, allowed_content_types=["json", "pickle", "pickle_compat"])
    create_standard_queue(env, "rich")
    got: list[RichJob] = []
    env.handler(RichJob)(got.append)
    job = RichJob(
        when=datetime(2026, 5, 17, 8, 30, tzinfo=timezone.utc),
        ident=uuid.UUID(int=7),
        amount=Decimal("12.50"),
        color=Color.blue,
        address=Address(street="Main", zip_code="01234"),
        tags=["a", "b"],
    )
    assert job.delay(env=env)
    result = env.queue("rich").process_batch(wait_seconds=1)
    assert result.succeeded_count() == 1
    assert got == [job]


def test_json_body_carries_every_field_by_alias(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "small")
    Small(to="a@example.com").delay(env=env)
    (message,) = receive_all(env, "small")
    assert message["Body"] == '{"to": "a@example.com", "subject": "hello"}'
    attributes = message["MessageAttributes"]
    assert attributes["JobName"]["StringValue"] == "Small"
    assert attributes["ContentType"]["StringValue"] == "json"
    assert attributes["JobContext"]["StringValue"] == "{}"


def test_batch_of_25_makes_3_send_message_batch_calls(backend: Any) -> None:
    counting = CountingSession(backend.session)
    env = SQSEnv(counting, queue_prefix=backend.unique("p") + "-")
    create_standard_queue(env, "small")
    with env.batch():
        for i in range(25):
            assert Small(to=f"u{i}").delay(env=env) is None
    assert counting.calls["send_message_batch"] == 3
    assert sorted(counting.batch_sizes) == [5, 10, 10]  # requests run in parallel
    assert counting.calls["send_message"] == 0
    assert len(receive_all(env, "small")) == 25


def test_batches_stay_under_one_mebibyte(backend: Any) -> None:
    counting = CountingSession(backend.session)
    env = SQSEnv(counting, queue_prefix=backend.unique("p") + "-")
    create_standard_queue(env, "big")
    blob = "x" * 110_000  # nine fit in 1 MiB, ten do not
    with Big.batch(env=env):
        for _ in range(9):
            Big(blob=blob).delay(env=env)
        assert counting.calls["send_message_batch"] == 0
        Big(blob=blob).delay(env=env)  # the nine leave before the tenth is added
    assert sorted(counting.batch_sizes) == [1, 9]
    assert all(size <= 1_048_576 for size in counting.batch_bytes)


def test_oversized_job_raises_before_any_call(backend: Any) -> None:
    counting = CountingSession(backend.session)
    env = SQSEnv(counting, queue_prefix=backend.unique("p") + "-")
    create_standard_queue(env, "big")
    env.queue("big").settings  # noqa: B018 - read once, so the count below is only sends
    with pytest.raises(MessageTooLarge) as info:
        Big(blob="y" * 1_048_577).delay(env=env)
    assert info.value.size > 1_048_576
    assert "Big" in str(info.value)
    assert "1,048,576" in str(info.value)
    assert counting.calls["send_message"] == 0


def test_queue_maximum_message_size_is_the_limit(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "big", maximum_message_size=2048)
    with pytest.raises(MessageTooLarge, match="2,048"):
        Big(blob="z" * 3000).delay(env=env)


def test_batch_partial_failure_is_retried(backend: Any) -> None:
    counting = CountingSession(backend.session, fail_entries=3, fail_times=1)
    env = SQSEnv(counting, queue_prefix=backend.unique("p") + "-")
    create_standard_queue(env, "small")
    with env.batch():
        for i in range(10):
            Small(to=f"u{i}").delay(env=env)
    assert counting.batch_sizes == [10, 3]
    assert len(receive_all(env, "small")) == 10


def test_batch_failure_that_persists_is_raised_with_job_names(backend: Any) -> None:
    counting = CountingSession(backend.session, fail_entries=2, fail_times=10)
    env = SQSEnv(counting, queue_prefix=backend.unique("p") + "-")
    create_standard_queue(env, "small")
    with pytest.raises(SendBatchError) as info, env.batch():
        for i in range(4):
            Small(to=f"u{i}").delay(env=env)
    assert len(info.value.errors) == 2
    assert "Small" in str(info.value)
    assert len(receive_all(env, "small")) == 2


def test_block_that_raises_still_sends_what_was_enqueued(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "small")
    with pytest.raises(RuntimeError), env.batch():
        Small(to="kept").delay(env=env)
        raise RuntimeError("caller failed")
    assert [m["Body"] for m in receive_all(env, "small")] == ['{"to": "kept", "subject": "hello"}']


def test_batch_buffer_is_per_thread(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "small")
    sent_outside: list[str | None] = []
    with env.batch():
        Small(to="buffered").delay(env=env)
        thread = threading.Thread(target=lambda: sent_outside.append(Small(to="t").delay(env=env)))
        thread.start()
        thread.join()
        assert sent_outside[0] is not None  # the other thread was not batching
    assert len(receive_all(env, "small")) == 2


def test_context_arrives_with_both_apis(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "small")
    seen: list[dict[str, Any]] = []

    @env.handler(Small, pass_context=True)
    def handle(task: Small, context: JobContext) -> None:
        seen.append({**context, "_to": task.to, "_count": context.receive_count})

    env.context["tenant"] = "acme"
    with env.context(request_id="r-1"):
        Small(to="a").delay(env=env)
    Small(to="b").delay(env=env)
    env.context.clear()
    Small(to="c").delay(env=env)
    env.queue("small").process_batch(wait_seconds=1)
    by_to = {s.pop("_to"): s for s in seen}
    assert by_to["a"] == {"tenant": "acme", "request_id": "r-1", "_count": 1}
    assert by_to["b"] == {"tenant": "acme", "_count": 1}
    assert by_to["c"] == {"_count": 1}


def test_run_calls_the_handler_in_process(backend: Any) -> None:
    env = make_env(backend)
    env.handler(Small)(lambda task: task.to.upper())
    assert Small(to="abc").run(env=env) == "ABC"


def test_activate_picks_the_env(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "small")
    SQSEnv(backend.session, queue_prefix="never-created-")
    with env.activate():
        assert Small(to="a").delay()
    assert len(receive_all(env, "small")) == 1


def test_fifo_deduplication_drops_the_duplicate(backend: Any) -> None:
    env = make_env(backend)
    create_fifo_queue(env, "orders.fifo")
    Order(order_id=1).delay(env=env, group_id="g", deduplication_id="o1")
    Order(order_id=1).delay(env=env, group_id="g", deduplication_id="o1")
    Order(order_id=2).delay(env=env, group_id="g", deduplication_id="o2")
    bodies = [m["Body"] for m in receive_all(env, "orders.fifo")]
    assert bodies == ['{"order_id": 1}', '{"order_id": 2}']


def test_fifo_content_based_dedup_and_default_group(backend: Any) -> None:
    env = make_env(backend)
    create_fifo_queue(env, "orders.fifo", content_based_deduplication=True)
    Order(order_id=5).delay(env=env)
    Order(order_id=5).delay(env=env)
    (message,) = receive_all(env, "orders.fifo")
    assert message["Attributes"]["MessageGroupId"] == "default"


def test_fifo_refuses_per_message_delay(backend: Any) -> None:
    env = make_env(backend)
    create_fifo_queue(env, "orders.fifo", content_based_deduplication=True)
    with pytest.raises(QueueConfigError, match="FIFO"):
        Order(order_id=1).delay(env=env, delay_seconds=10)


def test_dedup_id_on_standard_queue_is_refused(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "small")
    with pytest.raises(QueueConfigError, match="FIFO"):
        Small(to="a").delay(env=env, deduplication_id="x")


@pytest.mark.parametrize("option", ["group_id", "deduplication_id"])
def test_group_and_deduplication_ids_must_be_strings(backend: Any, option: str) -> None:
    # The library checks them: the boto3 client it builds skips botocore's own check.
    env = make_env(backend)
    create_fifo_queue(env, "orders.fifo", content_based_deduplication=True)
    options: dict[str, Any] = {option: 5}
    with pytest.raises(QueueConfigError, match=f"'order' .*{option} must be a string, got int 5"):
        Order(order_id=1).delay(env=env, **options)
    assert receive_all(env, "orders.fifo") == []


def test_delay_seconds_delays_the_message(backend: Any) -> None:
    env = make_env(backend)
    create_standard_queue(env, "small")
    Small(to="later").delay(env=env, delay_seconds=1)
    assert receive_all(env, "small") == []
    backend.advance(1.5)
    assert len(receive_all(env, "small")) == 1


def test_queue_configured_twice_differently_raises(backend: Any) -> None:
    from sqs_contracts.batching import BatchMessages

    env = make_env(backend)
    env.queue("small")
    assert env.queue("small") is env.queue("small")
    with pytest.raises(QueueConfigError, match="batching_policy"):
        env.queue("small", batching_policy=BatchMessages(5))


def test_handler_for_the_wrong_contract_is_a_type_error(backend: Any) -> None:
    env = make_env(backend)

    def handle(task: Order) -> None: ...

    with pytest.raises(HandlerError, match="Order"):
        env.handler(Small)(handle)
    with pytest.raises(TypeError):
        env.handler(Small, pass_context=True)(lambda task: None)


def test_missing_queue_error_names_the_queue(backend: Any) -> None:
    from sqs_contracts import QueueNotFound

    env = make_env(backend)
    with pytest.raises(QueueNotFound, match="small"):
        Small(to="a").delay(env=env)
