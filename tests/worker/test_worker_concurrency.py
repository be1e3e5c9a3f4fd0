"""Concurrency: threads run slow handlers at once, FIFO groups stay in order, heartbeats."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

from backends import Backend

from sqs_contracts import IMMEDIATE_RETURN, Task, create_standard_queue
from sqs_contracts.shutdown_policies import MaxTasksShutdown

from .contracts import SLOW_JOBS, Job, OrderJob
from .helpers import after, counts, make_env, make_queue, receive_all, run_worker

JOBS = 32
WAIT = 20.0
"""The longest a handler waits for the others to be running too (a hang guard only)."""


def test_eight_threads_run_eight_slow_jobs_at_once(backend: Backend) -> None:
    # Each handler stays until eight run at the same time: a worker running fewer at once
    # never gets there, and its handlers fail after WAIT seconds. Counting, not timing.
    env = make_env(backend)
    running = 0
    most = 0
    done: list[int] = []
    eight_at_once = threading.Event()
    lock = threading.Lock()

    def handle(task: Task) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            if running == 8:
                eight_at_once.set()
        try:
            assert eight_at_once.wait(WAIT), "fewer than eight jobs ran at once"
        finally:
            with lock:
                running -= 1
                done.append(task.n)  # type: ignore[attr-defined]

    # Four queues: moto's ReceiveMessage is quadratic in a queue's length, and one worker
    # must feed all its threads from several queues.
    for contract in SLOW_JOBS:
        make_queue(backend, env, contract.queue_name())
        env.handler(contract)(handle)
    with env.batch():
        for n in range(JOBS):
            SLOW_JOBS[n % len(SLOW_JOBS)](n=n).delay(env=env)
    names = [contract.queue_name() for contract in SLOW_JOBS]
    stats = run_worker(env, *names, policy=after(JOBS), concurrency=8, timeout=90)

    assert eight_at_once.is_set()
    assert most == 8
    assert stats.succeeded == JOBS
    assert sorted(done) == list(range(JOBS))


def test_fast_jobs_run_on_receive_loops_too_but_never_more_than_concurrency_at_once(
    backend: Backend,
) -> None:
    # A receive loop runs fast jobs itself in a handler's slot: with four handler threads and
    # two receive loops, never more than four jobs run at the same time.
    env = make_env(backend)
    make_queue(backend, env, Job.queue_name())
    running = 0
    most = 0
    seen: set[int] = set()
    lock = threading.Lock()

    @env.handler(Job)
    def handle(task: Job) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            seen.add(task.n)
        time.sleep(0.0002)  # long enough for jobs to overlap, short enough to run here
        with lock:
            running -= 1

    jobs = 200
    with env.batch():
        for n in range(jobs):
            Job(n=n).delay(env=env)
    stats = run_worker(env, Job.queue_name(), policy=after(jobs), concurrency=4)

    assert 1 <= most <= 4
    assert seen == set(range(jobs))
    assert stats.succeeded == jobs
    assert counts(env, Job.queue_name()) == (0, 0)


def test_fifo_groups_stay_in_order_under_concurrency(backend: Backend) -> None:
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "orders.fifo", content_based_deduplication=True)
    groups = [f"g{i}" for i in range(4)]
    per_group = 10
    attempts: dict[str, list[int]] = defaultdict(list)
    running: set[str] = set()
    overlaps: list[str] = []
    failed_once: set[tuple[str, int]] = set()
    lock = threading.Lock()

    @env.handler(OrderJob)
    def handle(task: OrderJob) -> None:
        with lock:
            if task.group in running:
                overlaps.append(task.group)
            running.add(task.group)
            attempts[task.group].append(task.seq)
        try:
            time.sleep(random.uniform(0, 0.01))
            # The fourth message of g0 fails once: it must run again before g0's later ones.
            if (task.group, task.seq) == ("g0", 3) and ("g0", 3) not in failed_once:
                failed_once.add(("g0", 3))
                raise ConnectionError("try again")
        finally:
            with lock:
                running.discard(task.group)

    with env.batch():
        for seq in range(per_group):
            for group in groups:
                OrderJob(group=group, seq=seq).delay(env=env, group_id=group)
    total = len(groups) * per_group + 1
    # moto's ReceiveMessage checks a snapshot of the busy groups taken when a long poll starts,
    # without a lock: two receive threads can get messages of one group out of order there.
    receivers = None if backend.is_memory else 1
    stats = run_worker(env, "orders.fifo", policy=after(total), concurrency=8, receivers=receivers)

    assert (stats.succeeded, stats.failed) == (total - 1, 1)
    assert not overlaps
    assert attempts["g0"] == [0, 1, 2, 3, 3, *range(4, per_group)]
    for group in groups[1:]:
        assert attempts[group] == list(range(per_group)), group
    assert counts(env, "orders.fifo") == (0, 0)


def test_heartbeat_keeps_a_long_job_from_being_redelivered(backend: Backend) -> None:
    env = make_env(backend)
    if backend.is_memory:
        visibility, steps, step, pause = 30, 8, 7.5, 0.3
    else:
        visibility, steps, step, pause = 2, 1, 4.0, 0.0
    url = create_standard_queue(env, "jobs", visibility_timeout=visibility)
    backend.created.append(url)
    calls: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        calls.append(task.n)
        # Runs for twice the visibility timeout or more of the queue's time.
        for _ in range(steps):
            if backend.is_memory:
                backend.advance(step)
                time.sleep(pause)
            else:
                time.sleep(step)

    Job(n=1).delay(env=env)
    stats = run_worker(env, "jobs", policy=MaxTasksShutdown(1), concurrency=4)

    assert calls == [1]
    assert stats.succeeded == 1
    assert receive_all(env, "jobs") == []
    assert counts(env, "jobs") == (0, 0)
