"""Where one processed job's CPU goes: the worker's threads profiled on their CPU clocks.

Starts ministack, fills a queue, then runs ``env.worker(concurrency=C).run()`` in a child
process (straight to the server, latency 0) with a ``cProfile`` profiler per thread timed by
``time.thread_time``: a thread blocked on a lock, a socket or the GIL costs nothing, so the
profile is this process's CPU, not its waiting. Each function's own time goes to one part
by its file (boto3 and botocore, ``sqs_contracts``' layers, threading); C functions and the
standard library's Python code go to the parts of their callers, in proportion.

    .venv/bin/python -m benchmarks.cpu_profile --concurrency 1 8 --jobs 6000

Prints a Markdown table per concurrency: each part's share of the profiled time and that
share of the CPU per job measured without the profiler (whose own cost inflates Python
calls), then that unprofiled run's CPU per job by thread role, read from each thread's own
CPU clock when it ends. The profiler slows each job enough that handler threads take jobs
the receive loops run themselves when unprofiled: the split by thread is the unprofiled one.
Compare tables made one after the other.
"""

from __future__ import annotations

import argparse
import inspect
import json
import marshal
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import JOB_NAME, job_attributes, job_kwargs
from benchmarks.server import REGION, SQSServer, set_fake_credentials

PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("boto3 (serialize, sign, HTTP, parse)", ("botocore/", "boto3/", "urllib3/")),
    ("the session (its response reader, the boto3 seam)", ("sqs_contracts/sessions/",)),
    ("decode (envelope, codecs, Message)", ("sqs_contracts/wire/",)),
    ("validate (pydantic)", ("pydantic/", "pydantic_core.", "sqs_contracts/contracts/")),
    ("dispatch (dispatcher, processor, handler)", ("sqs_contracts/dispatch/", "<string>")),
    ("acknowledge (acker, deadlines)", ("runners/acker.py", "queues/acknowledge.py")),
    ("receive loop and holdings", ("runners/receiver.py", "runners/holdings.py")),
    ("worker (supervisor, heartbeat, outcomes)", ("sqs_contracts/",)),
    ("threads (wake-ups, locks, queues)", ("/threading.py", "/queue.py")),
)
"""The parts, each with the path fragments of the files whose functions' own time it takes
(the first match wins)."""

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import cProfile, json, marshal, pstats, sys, threading, time, types
from sqs_contracts import SQSEnv, Task
from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown

endpoint, queue, concurrency, jobs, out = sys.argv[1:6]
concurrency, jobs = int(concurrency), int(jobs)
env = SQSEnv(endpoint_url=endpoint, region_name="%(region)s")

def body(ns):
    ns["__annotations__"] = {"to": str, "subject": str, "body": str}
    ns["__module__"] = __name__

Small = types.new_class("Small", (Task,), {"queue": queue, "name": "%(job)s"}, body)
lock = threading.Lock()
handled = [0]

def handler(task):
    with lock:
        handled[0] += 1

handler.__annotations__ = {"task": Small, "return": None}
env.handler(Small)(handler)
env.queue(queue).settings
profile = len(sys.argv) > 6
profiles = []
run = threading.Thread.run

def profiled_run(self):
    p = cProfile.Profile(time.thread_time)
    profiles.append(p)
    p.enable()
    try:
        run(self)
    finally:
        p.disable()

roles = {}
roles_lock = threading.Lock()
ended = set()

def timed_run(self):
    try:
        run(self)
    finally:
        role = thread_role(self.name)
        with roles_lock:
            roles[role] = roles.get(role, 0.0) + time.thread_time()
            ended.add(self.ident)

def thread_cpu():
    # Ended threads counted themselves; a live one (a receive still in its long poll) is
    # read off its CPU clock now, when the run's CPU is taken too.
    with roles_lock:
        result = dict(roles)
        for t in threading.enumerate():
            if t is threading.main_thread() or t.ident in ended:
                continue
            try:
                used = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
            except (OSError, ValueError):  # ended meanwhile
                continue
            role = thread_role(t.name)
            result[role] = result.get(role, 0.0) + used
    return result

if profile:
    threading.Thread.run = profiled_run
    main = cProfile.Profile(time.thread_time)
    profiles.append(main)
    main.enable()
else:
    threading.Thread.run = timed_run
main_cpu = time.thread_time()
cpu, wall = time.process_time(), time.perf_counter()
policy = MaxTasksShutdown(jobs) | IdleShutdown(60)
env.worker(concurrency=concurrency, handle_signals=False).run(queue, shutdown_policy=policy)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
if not profile:
    roles = thread_cpu()
roles["main (supervisor)"] = time.thread_time() - main_cpu
if profile:
    main.disable()
    time.sleep(0.5)  # threads still leaving their loops
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        try:
            stats.add(p)
        except TypeError:  # a thread that never ran
            pass
    with open(out, "wb") as f:
        marshal.dump(stats.stats, f)
print(json.dumps([cpu / jobs * 1e6, jobs / wall, {k: v / jobs * 1e6 for k, v in roles.items()}]))
"""

THREAD_ROLES: tuple[tuple[str, str], ...] = (
    ("sqs-receive-", "receive loops (receive, decode, run)"),
    ("sqs-contracts-acker", "acker (buffering)"),
    ("sqs-contracts-ack-", "ack senders (DeleteMessageBatch)"),
    ("sqs-handler-", "handler threads"),
)
"""Thread name prefixes of the worker's threads and the role each names."""


def thread_role(name: str) -> str:
    """The role of a worker thread, from its name; any other thread is 'other threads'."""
    for prefix, role in THREAD_ROLES:
        if name.startswith(prefix):
            return role
    return "other threads (heartbeat, event loop)"


def _own_part(func: tuple[str, int, str]) -> str | None:
    filename, _, function = func
    where = function if filename == "~" else filename  # a C function: its name says whose
    for name, fragments in PARTS:
        if any(fragment in where for fragment in fragments):
            return name
    return None


def split(stats: dict[Any, Any]) -> dict[str, float]:
    """Shares of the profiled CPU by part, from ``pstats.Stats.stats``."""
    memo: dict[Any, dict[str, float]] = {}

    def parts_of(func: Any, seen: frozenset[Any]) -> dict[str, float]:
        # Where a function's own time goes: its part, or its callers' parts in proportion.
        if func in memo:
            return memo[func]
        own = _own_part(func)
        if own is not None:
            result = {own: 1.0}
        else:
            callers = stats[func][4]
            edges = {c: v for c, v in callers.items() if c not in seen and c in stats}
            weights = {c: max(v[2], 0.0) for c, v in edges.items()}
            total = sum(weights.values())
            if total <= 0:  # no time measured on any edge: weigh the callers by calls
                weights = {c: float(v[1]) for c, v in edges.items()}
                total = sum(weights.values())
            result = {}
            for caller, weight in weights.items():
                if total <= 0:
                    break
                for part, share in parts_of(caller, seen | {func}).items():
                    result[part] = result.get(part, 0.0) + share * weight / total
            result = result or {"other": 1.0}
        memo[func] = result
        return result

    totals: dict[str, float] = {}
    for func, (_, _, own_time, _, _) in stats.items():
        # A blocking C call (a socket read) can come out slightly negative: it is waiting,
        # not CPU, and counts as nothing.
        for part, share in parts_of(func, frozenset()).items():
            totals[part] = totals.get(part, 0.0) + max(own_time, 0.0) * share
    grand = sum(totals.values()) or 1.0
    return {name: totals.get(name, 0.0) / grand for name, _ in (*PARTS, ("other", ()))}


def fill(server: SQSServer, queue: str, jobs: int) -> None:
    """Create the queue and put ``jobs`` jobs in the shared wire format into it."""
    import boto3

    client = boto3.client("sqs", endpoint_url=server.endpoint_url, region_name=REGION)
    url = client.create_queue(QueueName=queue)["QueueUrl"]
    attrs = job_attributes(JOB_NAME)
    for start in range(0, jobs, 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(job_kwargs(i)), "MessageAttributes": attrs}
            for i in range(start, min(start + 10, jobs))
        ]
        client.send_message_batch(QueueUrl=url, Entries=entries)


def _run(
    server: SQSServer, concurrency: int, jobs: int, src: Path, out: Path | None
) -> tuple[float, float, dict[str, float]]:
    """Run one worker in a child process (profiled into ``out`` when given): CPU us per job,
    jobs/s, and (unprofiled) CPU us per job by thread role."""
    queue = f"profile-c{concurrency}-{int(time.time() * 1000)}"
    fill(server, queue, jobs)
    # The child defines thread_role too: ``src`` may be a checkout from before it existed.
    role_source = inspect.getsource(thread_role).replace("THREAD_ROLES", repr(THREAD_ROLES))
    child = role_source + _CHILD % {"region": REGION, "job": JOB_NAME}
    args = [sys.executable, "-c", child]
    args += [server.endpoint_url, queue, str(concurrency), str(jobs), str(out or "")]
    if out is not None:
        args.append("profile")
    env = {**os.environ, "PYTHONPATH": str(src)}
    # Run from ``src``: ``python -c`` puts the working directory first on sys.path.
    done = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=src, timeout=600, check=True
    )
    cpu_us, rate, roles = json.loads(done.stdout.splitlines()[-1])
    return float(cpu_us), float(rate), roles


def profile(
    server: SQSServer, concurrency: int, jobs: int, src: Path
) -> tuple[dict[str, float], float, float, dict[str, float]]:
    """Profile one worker run and time another without the profiler (``sqs_contracts``
    imported from ``src``): (shares by part, CPU us per job, jobs/s, CPU us per job by
    thread role)."""
    cpu_us, rate, roles = _run(server, concurrency, jobs, src, None)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stats.marshal"
        _run(server, concurrency, jobs, src, out)
        stats = marshal.loads(out.read_bytes())
    return split(stats), cpu_us, rate, roles


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.cpu_profile", description=__doc__)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    p.add_argument("--jobs", type=int, default=6000)
    p.add_argument(
        "--src", type=Path, default=ROOT, help="where to import sqs_contracts from (a checkout)"
    )
    args = p.parse_args(argv)
    set_fake_credentials()
    with SQSServer() as server:
        for concurrency in args.concurrency:
            shares, cpu_us, rate, roles = profile(
                server, concurrency, args.jobs, args.src.resolve()
            )
            print(
                f"\nconcurrency {concurrency}, {args.jobs} jobs, latency 0, without the "
                f"profiler: {rate:,.0f} jobs/s, {cpu_us:.0f} us CPU/job\n"
            )
            print("| part | share of the profiled CPU | us/job |\n|---|---|---|")
            for name, share in shares.items():
                print(f"| {name} | {100 * share:.0f}% | {share * cpu_us:.0f} |")
            print("\n| thread role (unprofiled run) | us/job |\n|---|---|")
            for role, us in sorted(roles.items(), key=lambda kv: -kv[1]):
                print(f"| {role} | {us:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
