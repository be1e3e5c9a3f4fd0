"""Where one processed job's CPU goes: the worker sampled by py-spy, split by part.

Starts ministack, fills a queue, then runs ``env.worker(concurrency=C).run()`` in a child
process (straight to the server, latency 0) while ``py-spy record --gil`` samples it: only
the thread holding the GIL is sampled, which is where this process's Python CPU goes. Each
sample is put in one part (the first that matches, boto3 first: everything under a client
call is boto3's), and the parts' shares are applied to the run's measured CPU per job.

    .venv/bin/python -m benchmarks.cpu_profile --concurrency 1 8 --jobs 6000

Prints a Markdown table per concurrency. Needs ``py-spy`` (the ``dev`` extra). Samples are
statistical: compare tables made one after the other on a quiet machine.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import JOB_NAME, job_attributes, job_kwargs
from benchmarks.server import REGION, SQSServer, set_fake_credentials

PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "boto3 (serialize, sign, HTTP, parse)",
        ("botocore", "urllib3", "http/client", "socket.py", "boto3/", "email/", "hmac.py"),
    ),
    ("decode (envelope, codecs, Message)", ("wire/", "json/")),
    ("validate (pydantic)", ("pydantic", "contracts/task.py")),
    ("dispatch (dispatcher, processor, handler)", ("dispatch/", "_child_handler")),
    ("acknowledge (acker, deadlines)", ("runners/acker.py", "queues/acknowledge.py")),
    ("receive loop and holdings", ("runners/receiver.py", "runners/holdings.py")),
    ("threads (wake-ups, locks)", ("threading.py", "queue.py")),
)
"""The parts, each with the path fragments of its frames."""

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import os, sys, threading, time, types
from sqs_contracts import SQSEnv, Task
from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown

endpoint, queue, concurrency, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
env = SQSEnv(endpoint_url=endpoint, region_name="%(region)s")

def body(ns):
    ns["__annotations__"] = {"to": str, "subject": str, "body": str}
    ns["__module__"] = __name__

Small = types.new_class("Small", (Task,), {"queue": queue, "name": "%(job)s"}, body)
lock = threading.Lock()
handled = [0]

def _child_handler(task):
    with lock:
        handled[0] += 1

_child_handler.__annotations__ = {"task": Small, "return": None}
env.handler(Small)(_child_handler)
env.queue(queue).settings
print("ready", flush=True)
sys.stdin.readline()
cpu, wall = time.process_time(), time.perf_counter()
policy = MaxTasksShutdown(jobs) | IdleShutdown(60)
env.worker(concurrency=concurrency, handle_signals=False).run(queue, shutdown_policy=policy)
print((time.process_time() - cpu) / jobs * 1e6, jobs / (time.perf_counter() - wall), flush=True)
"""


def _part(frames: list[str]) -> str:
    boto_name, boto_keys = PARTS[0]
    if any(key in frame for frame in frames for key in boto_keys):
        return boto_name
    for frame in reversed(frames):
        for name, keys in PARTS[1:]:
            if any(key in frame for key in keys):
                return name
    return "other"


def split(raw: Path) -> dict[str, float]:
    """Shares of the worker's samples by part, from py-spy's raw (collapsed) output."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        # The worker's threads only: not the start-up of the child.
        if any("sqs_contracts/runners" in frame for frame in frames):
            counts[_part(frames)] += int(n)
    total = sum(counts.values()) or 1
    return {name: counts[name] / total for name, _ in (*PARTS, ("other", ()))}


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


def profile(
    server: SQSServer, concurrency: int, jobs: int, rate: int, src: Path
) -> tuple[dict[str, float], float, float]:
    """Run one worker (``sqs_contracts`` imported from ``src``) under py-spy: (shares by
    part, CPU us per job, jobs/s)."""
    queue = f"profile-c{concurrency}-{int(time.time() * 1000)}"
    fill(server, queue, jobs)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    args = [sys.executable, "-c", _CHILD % {"region": REGION, "job": JOB_NAME}]
    child = subprocess.Popen(
        [*args, server.endpoint_url, queue, str(concurrency), str(jobs)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    assert child.stdin is not None
    assert child.stdout is not None
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "samples.txt"
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the worker process did not start")
        sampler = subprocess.Popen(
            [
                spy,
                "record",
                "--gil",
                "-r",
                str(rate),
                "--format",
                "raw",
                "-o",
                str(raw),
                "--pid",
                str(child.pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches before the run starts
        child.stdin.write("\n")
        child.stdin.flush()
        cpu_us, rate_jobs = map(float, child.stdout.readline().split())
        child.wait(60)
        sampler.wait(60)
        return split(raw), cpu_us, rate_jobs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.cpu_profile", description=__doc__)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    p.add_argument("--jobs", type=int, default=6000)
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument(
        "--src", type=Path, default=ROOT, help="where to import sqs_contracts from (a checkout)"
    )
    args = p.parse_args(argv)
    set_fake_credentials()
    with SQSServer() as server:
        for concurrency in args.concurrency:
            shares, cpu_us, rate_jobs = profile(
                server, concurrency, args.jobs, args.rate, args.src.resolve()
            )
            print(
                f"\nconcurrency {concurrency}, {args.jobs} jobs, latency 0: "
                f"{rate_jobs:,.0f} jobs/s, {cpu_us:.0f} us CPU/job (under py-spy)\n"
            )
            print("| part | share of samples | us/job |\n|---|---|---|")
            for name, share in shares.items():
                print(f"| {name} | {100 * share:.0f}% | {share * cpu_us:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
