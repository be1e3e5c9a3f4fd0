"""Which env ``.delay()`` uses without ``env=``: never one of several picked silently."""

from __future__ import annotations

import gc
import weakref

import pytest

from sqs_contracts import ManualClock, MemorySession, NoCurrentEnv, SQSEnv, Task
from sqs_contracts.contracts import binding
from sqs_contracts.testing import sent


class Note(Task, queue="rule-notes"):
    text: str


@pytest.fixture(autouse=True)
def only_these_envs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count only the envs each test creates (other tests and apps keep theirs alive)."""
    monkeypatch.setattr(binding, "_created", weakref.WeakSet())


def memory_env() -> SQSEnv:
    env = SQSEnv(MemorySession(clock=ManualClock()))
    env.session.create_queue(QueueName="rule-notes")
    return env


def notes(env: SQSEnv) -> list[str]:
    return [n.text for n in sent(env, Note)]


def test_env_given_wins() -> None:
    a, b = memory_env(), memory_env()
    a.queue("rule-notes")
    with a.activate():
        Note(text="x").delay(env=b)
    assert notes(b) == ["x"]
    assert notes(a) == []


def test_the_innermost_activate_wins_over_the_env_serving_the_queue() -> None:
    a, b, c = memory_env(), memory_env(), memory_env()
    a.queue("rule-notes")
    with b.activate():
        with c.activate():
            Note(text="inner").delay()
        Note(text="outer").delay()
    assert (notes(a), notes(b), notes(c)) == ([], ["outer"], ["inner"])


def test_the_one_env_serving_the_queue_wins_over_later_envs() -> None:
    serving = memory_env()

    @serving.handler(Note)
    def handle(task: Note) -> None: ...

    later = memory_env()
    Note(text="x").delay()
    assert notes(serving) == ["x"]
    assert notes(later) == []


def test_the_only_env_of_the_process_is_used() -> None:
    env = memory_env()
    Note(text="x").delay()
    with Note.batch():
        Note(text="y").delay()
    assert notes(env) == ["x", "y"]


def test_several_envs_and_none_serving_the_queue_is_an_error_naming_them() -> None:
    # Before this rule the most recently created env was used, silently: an app module
    # imported after the test's in-memory env took its jobs to real SQS.
    first = memory_env()
    app = memory_env()
    with pytest.raises(NoCurrentEnv) as raised:
        Note(text="x").delay()
    message = str(raised.value)
    assert "cannot tell which SQSEnv sends Note: there are 2 envs" in message
    assert repr(first) in message
    assert repr(app) in message
    assert "env=" in message
    assert "env.activate()" in message
    assert notes(first) == notes(app) == []


def test_several_envs_serving_the_queue_is_an_error() -> None:
    a, b = memory_env(), memory_env()
    a.queue("rule-notes")
    b.queue("rule-notes")
    with pytest.raises(NoCurrentEnv, match="the queue 'rule-notes' is registered on 2 envs"):
        Note(text="x").delay()


def test_no_env_at_all_is_an_error_saying_how_to_make_one() -> None:
    with pytest.raises(NoCurrentEnv, match=r"no SQSEnv to send Note through: create one"):
        Note(text="x").delay()


def test_sending_through_an_env_does_not_register_the_queue_on_it() -> None:
    a, b = memory_env(), memory_env()
    Note(text="x").delay(env=a)
    assert not a.serves("rule-notes")
    b.queue("rule-notes")
    Note(text="y").delay()
    assert notes(a) == ["x"]
    assert notes(b) == ["y"]


def test_envs_that_are_garbage_but_not_collected_are_not_candidates() -> None:
    def dropped_env() -> None:
        env = memory_env()
        env.queue("rule-notes")  # the queue refers back to its env: only gc frees them

    gc.collect()
    gc.disable()
    try:
        dropped_env()
        live = memory_env()
        live.queue("rule-notes")
        assert len(binding._created) == 2  # the dropped env still counts until collected
        Note(text="x").delay()
    finally:
        gc.enable()
    assert notes(live) == ["x"]
    assert len(binding._created) == 1
