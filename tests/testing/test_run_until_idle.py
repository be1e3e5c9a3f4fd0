"""run_until_idle on the sample app: the production worker, a manual clock, no sleep."""

from __future__ import annotations

import threading
import time

import pytest
from backends import Backend
from sample_app import tasks
from sample_app.tasks import BuildReport, ChargeCard, PaymentDeclined, SendEmail, Ship, Tick

from sqs_contracts import ManualClock, MemorySession, SQSEnv, Task, create_standard_queue
from sqs_contracts.testing import MaxJobsExceeded, RealSessionError, run_until_idle, sent


def test_a_declined_charge_is_retried_after_its_60_s_backoff_without_waiting_it(
    app: SQSEnv, sqs_clock: ManualClock
) -> None:
    tasks.declines[7] = 1
    ChargeCard(order_id=7, amount_cents=1250).delay()
    sqs_start, wall_start = sqs_clock.time(), time.monotonic()

    result = run_until_idle(app)

    wall = time.monotonic() - wall_start
    # SQS time moved by the backoff exactly; the test did not wait it (measured: ~0.15 s).
    assert sqs_clock.time() - sqs_start == 60
    assert wall < 60
    assert tasks.charged == [7]
    assert tasks.outbox == [SendEmail(to="customer@example.com", subject="Order 7 paid")]
    assert [(r.job_name, r.attempt, r.action) for r in result.ran] == [
        ("ChargeCard", 1, "retry"),
        ("ChargeCard", 2, "delete"),
        ("SendEmail", 1, "delete"),
    ]
    (failure,) = result.failed
    assert isinstance(failure.error, PaymentDeclined)
    assert str(failure.error) == "card declined for order 7"
    assert failure.task == ChargeCard(order_id=7, amount_cents=1250)
    assert result.errors == [failure.error]
    assert result.tasks() == [
        ChargeCard(order_id=7, amount_cents=1250),
        SendEmail(to="customer@example.com", subject="Order 7 paid"),
    ]
    assert result.dead_lettered == []


def test_a_job_that_keeps_failing_is_dead_lettered_and_reported(app: SQSEnv) -> None:
    BuildReport(name="q3").delay()

    result = run_until_idle(app, BuildReport)

    assert [r.attempt for r in result.ran] == [1, 2, 3]
    assert all(isinstance(r.error, RuntimeError) for r in result.failed)
    assert result.dead_lettered == [result.ran[-1]]
    assert sent(app, BuildReport) == []
    assert sent(app, "sample-reports-dlq") == [BuildReport(name="q3")]


def test_delayed_jobs_run_once_the_clock_reaches_them(app: SQSEnv, sqs_clock: ManualClock) -> None:
    start = sqs_clock.time()
    SendEmail(to="a@example.com", subject="later").delay(delay_seconds=600)
    SendEmail(to="b@example.com", subject="now").delay()

    result = run_until_idle(app, SendEmail)

    assert [t.subject for t in result.tasks()] == ["now", "later"]
    assert sqs_clock.time() - start == 600


def test_max_jobs_stops_a_handler_that_keeps_enqueueing_itself(app: SQSEnv) -> None:
    Tick(n=0).delay()

    with pytest.raises(MaxJobsExceeded, match=r"job 'Tick' on queue 'sample-ticks' \(5 runs\)"):
        run_until_idle(app, Tick, max_jobs=5)


def test_max_jobs_reports_what_ran(app: SQSEnv) -> None:
    Tick(n=0).delay()
    with pytest.raises(MaxJobsExceeded) as raised:
        run_until_idle(app, Tick, max_jobs=3)
    assert [r.task for r in raised.value.result.ran] == [Tick(n=0), Tick(n=1), Tick(n=2)]
    assert sent(app, Tick) == [Tick(n=3)]


def test_max_jobs_reached_with_the_queues_empty_is_no_error(app: SQSEnv) -> None:
    for i in range(3):
        SendEmail(to=f"{i}@example.com", subject="hi").delay()
    assert len(run_until_idle(app, SendEmail, max_jobs=3).succeeded) == 3


def test_a_fifo_group_waits_for_its_failed_message_and_keeps_its_order(
    app: SQSEnv, sqs_clock: ManualClock
) -> None:
    tasks.declines[-5] = 1
    start = sqs_clock.time()
    for step in (1, 2, 3):
        Ship(order_id=5, step=step).delay(group_id="order-5", deduplication_id=f"5-{step}")

    result = run_until_idle(app, Ship)

    assert tasks.shipped == [(5, 1), (5, 2), (5, 3)]
    assert [(r.task.step, r.action) for r in result.ran] == [
        (1, "retry"),
        (1, "delete"),
        (2, "delete"),
        (3, "delete"),
    ]
    assert sqs_clock.time() - start == 30


def test_without_queues_it_runs_every_queue_with_a_handler(app: SQSEnv) -> None:
    SendEmail(to="a@example.com", subject="hi").delay()
    ChargeCard(order_id=1, amount_cents=100).delay()
    result = run_until_idle(app)
    assert sorted(r.queue for r in result.ran) == [
        "sample-emails",
        "sample-emails",
        "sample-payments",
    ]


def test_named_queues_leave_the_others_alone(app: SQSEnv) -> None:
    SendEmail(to="a@example.com", subject="hi").delay()
    ChargeCard(order_id=1, amount_cents=100).delay()
    result = run_until_idle(app, "sample-emails")
    assert [r.queue for r in result.ran] == ["sample-emails"]
    assert sent(app, ChargeCard) == [ChargeCard(order_id=1, amount_cents=100)]


class Probe(Task, queue="probe"):
    n: int


def test_handlers_run_on_the_workers_threads() -> None:
    env = SQSEnv(MemorySession(clock=ManualClock()))
    threads: list[str] = []

    @env.handler(Probe)
    def probe(task: Probe) -> None:
        threads.append(threading.current_thread().name)

    create_standard_queue(env, "probe")
    Probe(n=1).delay(env=env)
    run_until_idle(env)
    assert threads == ["sqs-handler-0"]


def test_a_real_session_is_refused_unless_allowed() -> None:
    assert "BotoSession" in repr(tasks.env.session)
    with pytest.raises(RealSessionError, match=r"allow_real_session=True.*") as raised:
        run_until_idle(tasks.env)
    assert "env.override(sqs_memory)" in str(raised.value)


def test_an_env_without_handlers_needs_queue_names() -> None:
    with pytest.raises(ValueError, match="has no handler"):
        run_until_idle(SQSEnv(MemorySession()))


def test_it_runs_the_app_on_both_backends(backend: Backend) -> None:
    tasks.reset()
    with tasks.env.override(backend.session):
        backend.created.extend(tasks.create_queues())
        ChargeCard(order_id=3, amount_cents=500).delay()

        result = run_until_idle(
            tasks.env, ChargeCard, SendEmail, allow_real_session=not backend.is_memory
        )

    assert [(r.job_name, r.action) for r in result.ran] == [
        ("ChargeCard", "delete"),
        ("SendEmail", "delete"),
    ]
    assert tasks.charged == [3]
    assert tasks.outbox == [SendEmail(to="customer@example.com", subject="Order 3 paid")]
