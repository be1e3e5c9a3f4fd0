"""The function API kept from sqs-workers: ``@queue.processor`` and its ``AsyncTask``."""

from __future__ import annotations

import json
import warnings
from typing import Any
from unittest import mock

import pytest
from pydantic import BaseModel
from typing_extensions import Unpack

from sqs_contracts import (
    JobContext,
    JobQueue,
    ManualClock,
    MemorySession,
    SQSEnv,
    create_fifo_queue,
    create_standard_queue,
)
from sqs_contracts.async_task import AsyncTask, AsyncTaskDelayArgs, BakedAsyncTask
from sqs_contracts.batching import BatchMessages


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def env(clock: ManualClock) -> SQSEnv:
    sqs = SQSEnv(MemorySession(clock=clock), allowed_content_types=["json", "pickle_compat"])
    create_standard_queue(sqs, "emails")
    return sqs


@pytest.fixture
def queue(env: SQSEnv) -> JobQueue:
    return env.queue("emails")


def _receive(queue: JobQueue) -> list[dict[str, Any]]:
    messages = queue.get_raw_messages(0, 10)
    # Put them back at once, so process_batch() sees them too.
    for message in messages:
        queue.env.session.change_message_visibility(
            QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return messages


def _bodies(queue: JobQueue) -> list[Any]:
    return [json.loads(m["Body"]) for m in _receive(queue)]


def _attribute(message: dict[str, Any], name: str) -> str:
    return str(message["MessageAttributes"][name]["StringValue"])


# -- delay ---------------------------------------------------------------------------------


def test_delay_sends_every_field_and_the_handler_gets_them(queue: JobQueue) -> None:
    calls: list[tuple[str, str, int]] = []

    @queue.processor("send_email")
    def send_email(to: str, subject: str = "Hi", retries: int = 0) -> None:
        calls.append((to, subject, retries))

    message_id = send_email.delay(to="a@example.com", retries=2)
    assert isinstance(message_id, str)
    (message,) = _receive(queue)
    assert message["MessageId"] == message_id
    # Defaults are written: the message carries the producer's values.
    assert json.loads(message["Body"]) == {"to": "a@example.com", "subject": "Hi", "retries": 2}
    assert _attribute(message, "JobName") == "send_email"
    assert _attribute(message, "ContentType") == "json"
    assert _attribute(message, "JobContext") == "{}"
    assert queue.process_batch().succeeded_count() == 1
    assert calls == [("a@example.com", "Hi", 2)]


def test_positional_arguments_are_bound_to_names(queue: JobQueue) -> None:
    @queue.processor("greet")
    def greet(name: str, greeting: str = "hello", *, punct: str = "!") -> None: ...

    greet.delay("bob", "hi", punct="?")
    assert _bodies(queue) == [{"name": "bob", "greeting": "hi", "punct": "?"}]


def test_values_are_validated_and_coerced(queue: JobQueue) -> None:
    @queue.processor("count")
    def count(n: int) -> None: ...

    count.delay(n="5")  # type: ignore[arg-type]
    assert _bodies(queue) == [{"n": 5}]


@pytest.mark.parametrize(
    ("args", "kwargs", "needle"),
    [
        ((), {"wrong_kw": 1, "to": "a"}, "'wrong_kw'"),
        ((), {}, "to: Field required"),
        ((), {"to": "a", "retries": "many"}, "retries:"),
        (("a", 1, 2), {}, "takes 2 positional argument(s) (to, retries) but 3 were given"),
        (("a",), {"to": "b"}, "multiple values for argument 'to'"),
    ],
)
def test_wrong_arguments_raise_type_error_at_delay(
    queue: JobQueue, args: tuple[Any, ...], kwargs: dict[str, Any], needle: str
) -> None:
    @queue.processor("send_email")
    def send_email(to: str, retries: int = 0) -> None: ...

    with pytest.raises(TypeError, match=r"emails\.send_email") as info:
        send_email.delay(*args, **kwargs)
    assert needle in str(info.value)
    with pytest.raises(TypeError):
        send_email.bake(*args, **kwargs)
    assert _receive(queue) == []


def test_control_arguments(env: SQSEnv, queue: JobQueue, clock: ManualClock) -> None:
    @queue.processor("later")
    def later(x: int) -> None: ...

    later.delay(x=1, _delay_seconds=30, _content_type="pickle_compat")
    assert _receive(queue) == []
    clock.advance(31)
    (message,) = _receive(queue)
    assert _attribute(message, "ContentType") == "pickle_compat"
    assert _attribute(message, "JobName") == "later"


def test_fifo_group_and_deduplication_ids(env: SQSEnv) -> None:
    create_fifo_queue(env, "orders.fifo")
    queue = env.queue("orders.fifo")

    @queue.processor("place")
    def place(order_id: int) -> None: ...

    place.delay(order_id=7, _group_id="cust-1", _deduplication_id="o7")
    place.delay(order_id=7, _group_id="cust-1", _deduplication_id="o7")  # deduplicated
    (message,) = queue.get_raw_messages(0, 10)
    assert message["Attributes"]["MessageGroupId"] == "cust-1"
    assert message["Attributes"]["MessageDeduplicationId"] == "o7"


def test_context_travels_with_the_job(env: SQSEnv, queue: JobQueue) -> None:
    received: list[JobContext] = []

    @queue.processor("notify", pass_context=True)
    def notify(user_id: int, context: JobContext) -> None:
        received.append(context)

    with env.context(remote_addr="1.2.3.4"):
        notify.delay(user_id=1)
    (message,) = _receive(queue)
    assert json.loads(message["Body"]) == {"user_id": 1}  # the context is not an argument
    assert json.loads(_attribute(message, "JobContext")) == {"remote_addr": "1.2.3.4"}
    queue.process_batch()
    assert received[0]["remote_addr"] == "1.2.3.4"
    assert received[0].job_name == "notify"
    with pytest.raises(TypeError, match="receives the job context"):
        notify.delay(user_id=1, context={})  # type: ignore[call-arg]


def test_custom_context_var(queue: JobQueue) -> None:
    seen: list[Any] = []

    @queue.processor("ctx", pass_context=True, context_var="meta")
    def ctx(x: int, meta: JobContext) -> None:
        seen.append(meta)

    ctx.delay(x=1)
    queue.process_batch()
    assert isinstance(seen[0], JobContext)


def test_kwargs_handlers_get_their_arguments_flat(queue: JobQueue) -> None:
    calls: list[dict[str, Any]] = []

    @queue.processor("anything")
    def anything(first: int, **kwargs: Any) -> None:
        calls.append({"first": first, **kwargs})

    anything.delay(1, a=1, b="two")
    assert _bodies(queue) == [{"first": 1, "a": 1, "b": "two"}]  # not nested under "kwargs"
    queue.process_batch()
    assert calls == [{"first": 1, "a": 1, "b": "two"}]
    assert anything.run(first=2, c=3) is None
    assert calls[-1] == {"first": 2, "c": 3}


def test_handlers_declaring_the_options_still_work(queue: JobQueue) -> None:
    calls: list[str] = []

    @queue.processor("legacy")
    def legacy(name: str, **_: Unpack[AsyncTaskDelayArgs]) -> None:
        calls.append(name)

    legacy.delay(name="x", _delay_seconds=0)
    assert _bodies(queue) == [{"name": "x"}]
    with pytest.raises(TypeError, match="'other'"):
        legacy.delay(name="x", other=1)  # type: ignore[call-arg]
    queue.process_batch()
    assert calls == ["x"]


def test_old_messages_with_extra_fields_are_accepted(queue: JobQueue) -> None:
    calls: list[int] = []

    @queue.processor("count")
    def count(n: int) -> None:
        calls.append(n)

    # A producer still on the old signature: the removed argument is dropped, as before.
    queue.env.session.send_message(
        QueueUrl=queue.url,
        MessageBody=json.dumps({"n": 1, "removed": True}),
        MessageAttributes={
            "JobName": {"DataType": "String", "StringValue": "count"},
            "ContentType": {"DataType": "String", "StringValue": "json"},
        },
    )
    assert queue.process_batch().succeeded_count() == 1
    assert calls == [1]


def test_add_job_validates_against_the_signature(queue: JobQueue) -> None:
    @queue.processor("count")
    def count(n: int) -> None: ...

    with pytest.raises(TypeError, match="n: Input should be a valid integer"):
        queue.add_job("count", n="many")
    queue.add_job("count", n="3", _delay_seconds=0)
    assert _bodies(queue) == [{"n": 3}]


# -- calling, bake, batch, run -----------------------------------------------------------------


def test_calling_the_task_raises(queue: JobQueue) -> None:
    @queue.processor("send_email")
    def send_email(to: str) -> None:
        """Send one email."""

    assert send_email.__doc__ == "Send one email."
    assert repr(send_email) == "<AsyncTask emails.send_email>"
    assert send_email.processor.__name__ == "send_email"
    with pytest.raises(RuntimeError, match=r"AsyncTask\.run\(.*\) .*AsyncTask\.delay\("):
        send_email(to="a")
    baked = send_email.bake(to="a")
    with pytest.raises(RuntimeError, match=r"\.run\(.*\.delay\("):
        baked()


def test_bake_validates_now_and_delay_returns_the_id(queue: JobQueue) -> None:
    calls: list[tuple[str, int]] = []

    @queue.processor("send_email")
    def send_email(to: str, retries: int = 0) -> int:
        calls.append((to, retries))
        return retries

    baked = send_email.bake("a@example.com", retries="2", _delay_seconds=0)  # type: ignore[arg-type]
    assert isinstance(baked, BakedAsyncTask)
    assert repr(baked) == "BakedAsyncTask(<AsyncTask emails.send_email>, ...)"
    message_id = baked.delay()
    assert isinstance(message_id, str)
    (message,) = _receive(queue)
    assert message["MessageId"] == message_id
    assert json.loads(message["Body"]) == {"to": "a@example.com", "retries": 2}
    assert baked.run() == 2
    assert calls == [("a@example.com", 2)]


def test_batch_sends_in_batches(env: SQSEnv, queue: JobQueue) -> None:
    @queue.processor("count")
    def count(n: int) -> None: ...

    with count.batch():
        ids = [count.delay(n=i) for i in range(12)]
    assert ids == [None] * 12
    received: list[dict[str, Any]] = []
    while messages := queue.get_raw_messages(0, 10):
        received.extend(messages)
    assert sorted(json.loads(m["Body"])["n"] for m in received) == list(range(12))


def test_run_calls_the_handler_with_validated_arguments(env: SQSEnv, queue: JobQueue) -> None:
    @queue.processor("add", pass_context=True)
    def add(a: int, b: int = 1, context: JobContext | None = None) -> tuple[int, Any]:
        assert context is not None
        return a + b, context.get("request_id")

    with env.context(request_id="r1"):
        assert add.run(a="2") == (3, "r1")  # type: ignore[arg-type]
    assert _receive(queue) == []
    with pytest.raises(TypeError, match=r"emails\.add"):
        add.run(c=1)  # type: ignore[call-arg]


def test_reconnecting_replaces_the_processor(queue: JobQueue) -> None:
    calls: list[str] = []

    @queue.processor("job")
    def first(x: int) -> None:
        calls.append("first")

    @queue.processor("job")
    def second(x: int) -> None:
        calls.append("second")

    first.delay(x=1)
    queue.process_batch()
    assert calls == ["second"]
    assert queue.get_processor("job") is second.job_processor


def test_env_processor_shortcut(env: SQSEnv) -> None:
    @env.processor("emails", "ping")
    def ping() -> str:
        return "pong"

    assert isinstance(ping, AsyncTask)
    assert ping.queue is env.queue("emails")
    assert ping.run() == "pong"


# -- signatures ------------------------------------------------------------------------------


def test_star_args_and_positional_only_are_refused(queue: JobQueue) -> None:
    def star(*args: Any) -> None: ...

    def positional_only(a: int, /) -> None: ...

    def wrapper(*args: Any, **kwargs: Any) -> None: ...

    with pytest.raises(TypeError, match=r"\*args cannot receive a job.*functools.wraps"):
        queue.connect_processor("star", star)
    with pytest.raises(TypeError, match="'a' is positional-only"):
        queue.connect_processor("po", positional_only)
    with pytest.raises(TypeError, match=r"\*args"):
        queue.connect_processor("wrapped", wrapper)
    assert "star" not in queue.processors


def test_pass_context_needs_a_parameter(queue: JobQueue) -> None:
    def no_context(x: int) -> None: ...

    with pytest.raises(TypeError, match="no such parameter"):
        queue.connect_processor("nc", no_context, pass_context=True)


def test_reserved_parameter_names_are_refused(queue: JobQueue) -> None:
    def private(_x: int) -> None: ...

    with pytest.raises(TypeError, match="'_x'"):
        queue.connect_processor("private", private)


def test_parameters_named_like_model_methods(queue: JobQueue) -> None:
    calls: list[tuple[Any, ...]] = []

    @queue.processor("shadow")
    def shadow(json: str, copy: int, schema: bool = False) -> None:
        calls.append((json, copy, schema))

    shadow.delay(json="j", copy=1)
    queue.process_batch()
    assert calls == [("j", 1, False)]


def test_a_mock_handler_accepts_anything(queue: JobQueue) -> None:
    handler = mock.Mock()
    task = queue.connect_processor("mocked", handler)
    task.delay(a=1, b=[2])
    queue.process_batch()
    handler.assert_called_once_with(a=1, b=[2])


def test_decorated_handlers_keep_their_signature(queue: JobQueue) -> None:
    import functools

    calls: list[int] = []

    def logged(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapper

    @queue.processor("decorated")
    @logged
    def decorated(n: int) -> None:
        calls.append(n)

    decorated.delay(n="4")
    assert _bodies(queue) == [{"n": 4}]
    queue.process_batch()
    assert calls == [4]


class Address(BaseModel):
    city: str


def test_annotations_resolve_under_future_annotations(queue: JobQueue) -> None:
    # This module uses `from __future__ import annotations`: every annotation is a string.
    seen: list[Any] = []

    @queue.processor("move")
    def move(address: Address, when: int | None = None) -> None:
        seen.append(address)

    move.delay(address={"city": "Oslo"})  # type: ignore[arg-type]
    assert _bodies(queue) == [{"address": {"city": "Oslo"}, "when": None}]
    queue.process_batch()
    assert seen == [Address(city="Oslo")]
    with pytest.raises(TypeError, match=r"address\.city"):
        move.delay(address={})  # type: ignore[arg-type]


def test_unresolvable_annotations_are_not_validated_and_say_so(queue: JobQueue) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        @queue.processor("local")
        def local(thing: NotDefinedAnywhere, n: int) -> None:  # type: ignore[name-defined]  # noqa: F821
            ...

    assert any("'thing'" in str(w.message) for w in caught)
    local.delay(thing="anything", n="1")  # type: ignore[arg-type]
    assert _bodies(queue) == [{"thing": "anything", "n": 1}]


# -- batch read queues ---------------------------------------------------------------------------


class Order(BaseModel):
    order_id: int
    note: str = ""


@pytest.fixture
def batch_queue(env: SQSEnv) -> JobQueue:
    create_standard_queue(env, "orders")
    return env.queue("orders", batching_policy=BatchMessages(4))


def test_batch_handler_receives_lists_of_at_most_n(batch_queue: JobQueue) -> None:
    sizes: list[int] = []
    seen: list[dict[str, Any]] = []

    @batch_queue.processor("orders")
    def orders(messages: list[dict[str, Any]]) -> None:
        sizes.append(len(messages))
        seen.extend(messages)

    for i in range(10):
        orders.delay(order_id=i)  # type: ignore[call-arg]
    while batch_queue.process_batch().total_count():
        pass
    assert sizes
    assert max(sizes) <= 4
    assert sorted(m["order_id"] for m in seen) == list(range(10))
    with pytest.raises(TypeError, match="keyword arguments only"):
        orders.delay([{"order_id": 1}])


def test_batch_handler_of_models(batch_queue: JobQueue) -> None:
    seen: list[Any] = []

    @batch_queue.processor("orders")
    def orders(messages: list[Order]) -> int:
        seen.extend(messages)
        return len(messages)

    orders.delay(order_id="1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="order_id"):
        orders.delay(order_id="one")  # type: ignore[call-arg]
    assert _bodies(batch_queue) == [{"order_id": 1, "note": ""}]
    batch_queue.process_batch()
    assert seen == [Order(order_id=1)]
    assert orders.run(order_id=2) == 1  # type: ignore[call-arg]


def test_batch_handler_with_context(env: SQSEnv, batch_queue: JobQueue) -> None:
    seen: list[dict[str, Any]] = []

    @batch_queue.processor("orders", pass_context=True)
    def orders(messages: list[dict[str, Any]]) -> None:
        seen.extend(messages)

    with env.context(who="me"):
        orders.delay(order_id=1)  # type: ignore[call-arg]
    batch_queue.process_batch()
    assert seen[0]["order_id"] == 1
    assert seen[0]["context"]["who"] == "me"


def test_unannotated_batch_handler_sends_as_given(batch_queue: JobQueue) -> None:
    seen: list[Any] = []

    @batch_queue.processor("raw")
    def raw(messages):  # type: ignore[no-untyped-def]
        seen.extend(messages)

    raw.delay(anything={"goes": 1})  # type: ignore[call-arg]
    batch_queue.process_batch()
    assert seen == [{"anything": {"goes": 1}}]


def test_model_batch_handler_refuses_pass_context(batch_queue: JobQueue) -> None:
    def orders(messages: list[Order], context: Any = None) -> None: ...

    with pytest.raises(TypeError, match="list\\[dict\\]"):
        batch_queue.connect_processor("orders", orders, pass_context=True)


def test_the_mypy_plugin_knows_every_option() -> None:
    from sqs_contracts.mypy import CONTROL_ARGUMENTS

    assert list(CONTROL_ARGUMENTS) == list(AsyncTaskDelayArgs.__annotations__)
