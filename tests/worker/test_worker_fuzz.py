"""Hostile messages thrown at a running worker: no crash or hang, nothing vanishes.

Hypothesis sends random bodies and message attributes (missing, Binary, Number, unknown
names; NaN, huge integers, deep nesting, pickle, near-limit sizes) next to valid jobs, to a
standard, a FIFO and a batch (``BatchMessages``) queue on MemorySession, runs a worker and
accounts for every message: each valid job ran once and was deleted or is still on its
queue, never in a dead-letter queue; each hostile one is on its queue or dead-lettered; no
pickle was ever decoded.
"""

from __future__ import annotations

import base64
import builtins
import json
import pickle
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field

from sqs_contracts import (
    ConstantBackoff,
    ManualClock,
    MemorySession,
    SQSEnv,
    Task,
    create_fifo_queue,
    create_standard_queue,
)
from sqs_contracts.batching import BatchMessages
from sqs_contracts.codecs import PickleCodec
from sqs_contracts.errors import SQSError
from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown

from .helpers import run_worker

QUEUES = ("fz", "fz.fifo", "fzb")
"""A standard queue, a FIFO queue and a standard queue read in batches of three."""
MAX_RECEIVES = 10
"""High enough that reading the queues at the end never redrives a message."""
TOKEN = r"^valid-[0-9a-f]{32}$"
_FLAG = "_sqs_contracts_fuzz_unpickled"


class FuzzJob(Task, queue="fz"):
    token: str = Field(pattern=TOKEN)
    n: int = 0


class FuzzFifoJob(Task, queue="fz.fifo"):
    token: str = Field(pattern=TOKEN)
    n: int = 0


class FuzzBatchJob(Task, queue="fzb"):
    token: str = Field(pattern=TOKEN)
    n: int = 0


CONTRACTS: dict[str, type[Task]] = {"fz": FuzzJob, "fz.fifo": FuzzFifoJob, "fzb": FuzzBatchJob}


class _Unpickled:
    """Unpickling this runs code that leaves a mark: proof that a pickle was decoded."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"import builtins; builtins.__dict__[{_FLAG!r}] = True",))


def _pickle_body() -> str:
    data = zlib.compress(pickle.dumps({"token": _Unpickled(), "n": 1}, protocol=2))
    return base64.urlsafe_b64encode(data).decode("latin1")


PICKLE_BODY = _pickle_body()


def _unpickled() -> bool:
    return bool(builtins.__dict__.pop(_FLAG, False))


def test_the_pickle_payload_leaves_a_mark_when_decoded() -> None:
    # Makes "no pickle was decoded" below a meaningful check.
    PickleCodec.deserialize(PICKLE_BODY)
    assert _unpickled()
    assert not _unpickled()


# -- strategies ---------------------------------------------------------------------------

# Characters SQS accepts in bodies and String attributes.
_TEXT = st.text(
    st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc"),
        exclude_characters="\ufffe\uffff",
    ),
    max_size=20,
)
_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10,
)
_KEYS = st.sampled_from(["n", "token", "x", "", "é"])


def _near_limit(filler: str) -> str:
    return json.dumps({"n": 1, "pad": filler * (250_000 // max(1, len(filler.encode())))})


BODIES = st.one_of(
    st.dictionaries(_KEYS, _JSON, max_size=4).map(
        lambda d: json.dumps({k: v for k, v in d.items() if k != "token"})
    ),
    _JSON.map(json.dumps),
    st.sampled_from(
        [
            '{"n": NaN}',
            '{"n": Infinity}',
            '{"n": 1e400}',
            '{"n": 123456789012345678901234567890}',
            '{"token": "valid-nope", "n": 1}',
            "[" * 5000 + "]" * 5000,
            '{"a":' * 3000 + "1" + "}" * 3000,
            "{not json",
            '"just a string"',
            PICKLE_BODY,
        ]
    ),
    st.sampled_from(["x", "é", "\U0001f600"]).map(_near_limit),
)


def _attribute_values(strings: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        strings.filter(bool).map(lambda s: {"DataType": "String", "StringValue": s}),
        st.sampled_from(["1", "-7", "1e10", "0.5"]).map(
            lambda s: {"DataType": "Number", "StringValue": s}
        ),
        st.binary(min_size=1, max_size=8).map(lambda b: {"DataType": "Binary", "BinaryValue": b}),
    )


_JOB_NAMES = st.sampled_from(["FuzzJob", "FuzzFifoJob", "FuzzBatchJob", "Unknown"]) | _TEXT
_CONTENT_TYPES = st.sampled_from(["json", "pickle", "pickle_compat", "yaml"]) | _TEXT
_CONTEXTS = st.sampled_from(["{}", "[]", "{bad", '{"a": NaN}', PICKLE_BODY]) | _TEXT
_UNKNOWN = st.sampled_from(["Foo", "traceparent", "tracestate", "X-Extra", "ExtendedPayloadSize"])

# Each of the library's attributes: missing, or any type and value.
HOSTILE_ATTRIBUTES = st.fixed_dictionaries(
    {},
    optional={
        "JobName": _attribute_values(_JOB_NAMES),
        "ContentType": _attribute_values(_CONTENT_TYPES),
        "JobContext": _attribute_values(_CONTEXTS),
        "ContractVersion": _attribute_values(st.sampled_from(["2", "x", "99999999999999999999"])),
    },
).flatmap(
    lambda attrs: st.dictionaries(_UNKNOWN, _attribute_values(_TEXT), max_size=3).map(
        lambda extra: {**extra, **attrs}
    )
)
# What valid jobs carry besides their own attributes.
EXTRA_ATTRIBUTES = st.dictionaries(_UNKNOWN, _attribute_values(_TEXT), max_size=3)


@st.composite
def messages(draw: st.DrawFn) -> list[tuple[str, str, Any, str]]:
    """(queue, kind, payload, group) tuples: kind ``valid`` or ``hostile``."""
    count = draw(st.integers(min_value=1, max_value=8))
    out = []
    for _ in range(count):
        queue = draw(st.sampled_from(QUEUES))
        group = draw(st.sampled_from(["g1", "g2"]))
        if draw(st.booleans()):
            out.append((queue, "valid", draw(EXTRA_ATTRIBUTES), group))
        else:
            out.append((queue, "hostile", (draw(BODIES), draw(HOSTILE_ATTRIBUTES)), group))
    return out


# -- the run ----------------------------------------------------------------------------


@dataclass
class Run:
    env: SQSEnv
    clock: ManualClock
    ran: list[str] = field(default_factory=list)
    valid: dict[str, str] = field(default_factory=dict)  # token -> queue
    hostile: dict[str, int] = field(default_factory=dict)  # queue -> count sent


def _setup(dead_letter_invalid: bool) -> Run:
    clock = ManualClock()
    env = SQSEnv(MemorySession(clock=clock))
    run = Run(env, clock)
    for name in QUEUES:
        env.queue(
            name,
            batching_policy=BatchMessages(3) if name == "fzb" else None,
            backoff_policy=ConstantBackoff(600),
            dead_letter_invalid=dead_letter_invalid,
        )
        dead = name.replace(".fifo", "") + "_dead" + (".fifo" if name.endswith(".fifo") else "")
        redrive = env.redrive_policy(dead, MAX_RECEIVES)
        if name.endswith(".fifo"):
            create_fifo_queue(env, dead, content_based_deduplication=True)
            create_fifo_queue(env, name, content_based_deduplication=True, redrive_policy=redrive)
        else:
            create_standard_queue(env, dead)
            create_standard_queue(env, name, redrive_policy=redrive)

    def record(task: Any) -> None:
        for item in task if isinstance(task, list) else [task]:
            run.ran.append(item.token)

    for contract in CONTRACTS.values():
        env.handler(contract)(record)
    return run


def _send(run: Run, queue: str, kind: str, payload: Any, group: str) -> None:
    env = run.env
    fifo = {"MessageGroupId": group, "MessageDeduplicationId": uuid.uuid4().hex}
    options = fifo if queue.endswith(".fifo") else {}
    if kind == "valid":
        token = f"valid-{uuid.uuid4().hex}"
        task = CONTRACTS[queue](token=token, n=len(run.valid))
        message = json.dumps(task.model_dump(mode="json"))
        attributes = {
            **payload,
            "JobName": {"DataType": "String", "StringValue": type(task).job_name()},
            "ContentType": {"DataType": "String", "StringValue": "json"},
            "JobContext": {"DataType": "String", "StringValue": "{}"},
        }
        env.session.send_message(
            QueueUrl=env.queue(queue).url,
            MessageBody=message,
            MessageAttributes=attributes,
            **options,
        )
        run.valid[token] = queue
        return
    body, attributes = payload
    try:
        env.session.send_message(
            QueueUrl=env.queue(queue).url,
            MessageBody=body,
            MessageAttributes=attributes,
            **options,
        )
    except SQSError:  # SQS refuses it (too large, bad attribute): never on the queue
        return
    run.hostile[queue] = run.hostile.get(queue, 0) + 1


def _drain(env: SQSEnv, queue_url: str) -> list[dict[str, Any]]:
    """Read and delete everything on a queue (deleting lets FIFO groups go on)."""
    found: list[dict[str, Any]] = []
    while True:
        batch = env.session.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not batch:
            return found
        found.extend(batch)
        for message in batch:
            env.session.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _token(message: dict[str, Any], valid: dict[str, str]) -> str | None:
    try:
        token = json.loads(message["Body"]).get("token")
    except (ValueError, AttributeError):
        return None
    return token if token in valid else None


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=messages(), dead_letter_invalid=st.booleans())
def test_hostile_messages_never_crash_hang_or_vanish(
    batch: list[tuple[str, str, Any, str]], dead_letter_invalid: bool
) -> None:
    _unpickled()
    run = _setup(dead_letter_invalid)
    for queue, kind, payload, group in batch:
        _send(run, queue, kind, payload, group)
    total = len(run.valid) + sum(run.hostile.values())
    # The worker must stop by itself (run_worker fails the test past its timeout); an idle
    # stop before every message ran is fine: the checks below hold either way.
    stats = run_worker(
        run.env,
        *QUEUES,
        policy=MaxTasksShutdown(total) | IdleShutdown(1),
        concurrency=2,
    )
    assert stats.succeeded == len(run.ran)

    run.clock.advance(3600)  # every backoff over: the reads below see every message
    left: dict[str, list[dict[str, Any]]] = {}
    dead: dict[str, list[dict[str, Any]]] = {}
    for name in QUEUES:
        queue = run.env.queue(name)
        left[name] = _drain(run.env, queue.url)
        dead_name = queue.settings.dead_letter_arn
        assert dead_name is not None
        dead_url = run.env.session.get_queue_url(QueueName=dead_name.split(":")[-1])["QueueUrl"]
        dead[name] = _drain(run.env, dead_url)

    assert not _unpickled(), "a pickle body or context was decoded"
    assert len(run.ran) == len(set(run.ran)), "a valid job ran twice"
    left_tokens = {_token(m, run.valid) for name in QUEUES for m in left[name]} - {None}
    for token, name in run.valid.items():
        assert not any(_token(m, run.valid) == token for m in dead[name]), (
            f"valid job {token} on {name} was dead-lettered"
        )
        # Ran and deleted, or still waiting on its queue (behind a FIFO head, or an idle
        # stop): never both, never neither.
        assert (token in run.ran) != (token in left_tokens), (token, name, token in run.ran)
    for name in QUEUES:
        hostile_left = [m for m in left[name] if _token(m, run.valid) is None]
        assert len(hostile_left) + len(dead[name]) == run.hostile.get(name, 0), name
        if not dead_letter_invalid:
            assert dead[name] == []


@pytest.fixture(autouse=True)
def _no_mark_left() -> Any:
    yield
    builtins.__dict__.pop(_FLAG, None)
