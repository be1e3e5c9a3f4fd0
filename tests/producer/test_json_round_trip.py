"""What a producer sends as JSON, a consumer reads back unchanged, or ``.delay()`` raises.

SQS consumers decode with orjson: NaN, Infinity and lone surrogates cannot be read back, and
SQS refuses U+FFFE/U+FFFF in a body; integers beyond 64 bits must not come back as floats.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from backends import Backend
from pydantic import Field

from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue
from sqs_contracts.batching import BatchMessages
from sqs_contracts.codecs import JSONCodec, OrjsonCodec
from sqs_contracts.errors import UnsendableValue

CODECS = ["json", "orjson"]


class Payment(Task, queue="payments"):
    amount: float = 0.0
    extra: Any = None
    note: str = ""
    lines: list[dict[str, Any]] = Field(default_factory=list)


def _env(session: Any, codec: str, prefix: str = "") -> SQSEnv:
    env = SQSEnv(session, codec=codec, queue_prefix=prefix)
    create_standard_queue(env, "payments")
    return env


def _waiting(env: SQSEnv) -> int:
    attrs = env.session.get_queue_attributes(
        QueueUrl=env.queue("payments").url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


UNSENDABLE: list[tuple[dict[str, Any], str, str]] = [
    ({"amount": math.nan}, "amount", "NaN or Infinity"),
    ({"amount": -math.inf}, "amount", "NaN or Infinity"),
    ({"extra": {"rates": [1.0, math.inf]}}, "extra.rates[1]", "NaN or Infinity"),
    ({"lines": [{"price": math.nan}]}, "lines[0].price", "NaN or Infinity"),
    ({"note": "caf\ud800"}, "note", "lone surrogate"),
    ({"extra": {"k\udfff": 1}}, "extra", "lone surrogate"),
]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(("kwargs", "field", "reason"), UNSENDABLE)
def test_delay_refuses_what_a_consumer_cannot_read_back(
    codec: str, kwargs: dict[str, Any], field: str, reason: str
) -> None:
    env = _env(MemorySession(), codec)
    with pytest.raises(UnsendableValue) as excinfo:
        Payment(**kwargs).delay(env=env)
    error = excinfo.value
    assert (error.job_name, error.queue_name, error.field) == ("Payment", "payments", field)
    message = str(error)
    assert f"job 'Payment' for queue 'payments': field {field!r}" in message
    assert reason in message
    assert _waiting(env) == 0


@pytest.mark.parametrize("codec", CODECS)
def test_batch_blocks_raise_at_the_bad_delay_and_send_the_rest(codec: str) -> None:
    env = _env(MemorySession(), codec)
    with env.batch():
        Payment(amount=1).delay(env=env)
        with pytest.raises(UnsendableValue, match="field 'amount'"):
            Payment(amount=math.nan).delay(env=env)
        Payment(amount=2).delay(env=env)
    assert _waiting(env) == 2


@pytest.mark.parametrize("codec", CODECS)
def test_add_job_and_function_tasks_name_the_field(codec: str) -> None:
    env = _env(MemorySession(), codec)
    queue = env.queue("payments")
    # No processor known: the keyword arguments are sent as given, and still checked.
    with pytest.raises(UnsendableValue, match="job 'refund' for queue 'payments': field 'sum'"):
        queue.add_job("refund", sum=math.inf)

    @queue.processor("charge")
    def charge(total: float, memo: Any = None) -> None: ...

    with pytest.raises(UnsendableValue, match=r"job 'charge' .*field 'total'"):
        charge.delay(total=math.nan)
    with pytest.raises(UnsendableValue, match=r"job 'charge' .*field 'memo\.x'"):
        charge.delay(total=1.0, memo={"x": "\udc80"})
    assert _waiting(env) == 0


def test_batch_read_function_tasks_name_the_field() -> None:
    env = SQSEnv(MemorySession())
    create_standard_queue(env, "batched")
    queue = env.queue("batched", batching_policy=BatchMessages(5))

    @queue.processor("totals")
    def totals(items: list[dict[str, Any]]) -> None: ...

    with pytest.raises(UnsendableValue, match=r"job 'totals' .*field 'value'"):
        totals.delay(value=math.nan)


@pytest.mark.parametrize("codec", CODECS)
def test_job_context_values_are_checked_too(codec: str) -> None:
    env = _env(MemorySession(), codec)
    env.context["ratio"] = math.nan
    with pytest.raises(UnsendableValue, match=r"field 'JobContext\.ratio'"):
        Payment().delay(env=env)


BIG_INTEGERS = [2**64, 2**64 - 1, -(2**63) - 1, 2**100, -(10**30)]


@pytest.mark.parametrize("codec", CODECS)
def test_integers_beyond_64_bits_arrive_exactly(backend: Backend, codec: str) -> None:
    env = _env(backend.session, codec, backend.unique("rt") + "-")
    backend.created.append(env.queue("payments").url)
    seen: list[Payment] = []

    @env.handler(Payment)
    def handle(task: Payment) -> None:
        seen.append(task)

    for value in BIG_INTEGERS:
        Payment(extra=value, lines=[{"n": value}]).delay(env=env)
    for _ in range(10):
        env.queue("payments").process_batch(wait_seconds=0)
        if len(seen) == len(BIG_INTEGERS):
            break
    assert sorted(task.extra for task in seen) == sorted(BIG_INTEGERS)
    assert all(type(task.extra) is int for task in seen)
    assert all(task.lines == [{"n": task.extra}] for task in seen)


@pytest.mark.parametrize("codec", CODECS)
def test_noncharacters_are_sent_escaped_and_read_back(backend: Backend, codec: str) -> None:
    # SQS (and MemorySession) refuse U+FFFE and U+FFFF in a body: orjson wrote them raw.
    env = _env(backend.session, codec, backend.unique("nc") + "-")
    backend.created.append(env.queue("payments").url)
    note = "a\ufffeb\uffffc"
    with env.batch():
        for n in range(3):
            Payment(amount=n, note=note, extra={note: note}).delay(env=env)
    Payment(amount=3, note=note).delay(env=env)
    bodies: list[str] = []
    for _ in range(10):
        bodies.extend(m["Body"] for m in env.queue("payments").get_raw_messages(0))
        if len(bodies) == 4:
            break
    assert len(bodies) == 4
    for body in bodies:
        assert "\ufffe" not in body
        assert "\uffff" not in body
        assert JSONCodec.deserialize(body)["note"] == note


def test_decoding_is_exact_and_still_refuses_nan() -> None:
    for value in [*BIG_INTEGERS, 2**63, -(2**63), 12345678901234567890.5]:
        assert JSONCodec.deserialize(OrjsonCodec.serialize({"v": value})) == {"v": value}
    # A long digit run inside a string takes the exact decoder too, with the same result.
    assert JSONCodec.deserialize('{"id": "12345678901234567890"}') == {"id": "12345678901234567890"}
    for body in ('{"id": 12345678901234567890, "n": NaN}', '{"n": NaN}', '{"n": -Infinity}'):
        with pytest.raises(ValueError):
            JSONCodec.deserialize(body)


JSON_VALUES: list[Any] = [
    {},
    {"a": 1, "b": [1, 2.5, None, True, False], "c": {"d": 'é😀\n\t"\\'}},
    {"big": 2**70, "neg": -(2**64), "f": 1e300, "tiny": 5e-324},
    {"nested": [[[]], {"x": {}}], "keys": {"1": 1, "": 0}},
    [1, "top-level list"],
    "a string",
    3,
]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_json_codec_writes_what_json_dumps_writes(value: Any) -> None:
    assert JSONCodec.serialize(value) == json.dumps(value)


def test_json_codec_refuses_unknown_types_as_json_dumps_does() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        JSONCodec.serialize({"when": object()})
    shared = {"k": 1}
    assert JSONCodec.serialize({"a": shared, "b": shared}) == json.dumps({"a": shared, "b": shared})


@pytest.mark.parametrize("codec", [JSONCodec, OrjsonCodec])
def test_a_cyclic_payload_is_refused_as_circular_not_with_a_recursion_error(
    codec: type[JSONCodec],
) -> None:
    cyclic: dict[str, Any] = {"note": "caf\u00e9"}
    cyclic["self"] = [cyclic]
    with pytest.raises(ValueError, match="Circular reference"):
        codec.serialize(cyclic)
