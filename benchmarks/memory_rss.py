"""``python -m benchmarks.memory_rss N``: RSS growth of a fresh process over N jobs.

Run by the ``memory.rss`` workload in a child process, so that nothing else the benchmark
did is in its heap. It imports only ``sqs_contracts``, warms up (a few jobs through the batch
block and the worker, so lazy imports and first calls are not counted), then enqueues N
jobs through a ``MemorySession`` in ``env.batch()`` blocks of 1,000 and processes them with
``env.worker(concurrency=4).run(..., shutdown_policy=MaxTasksShutdown(N))``. It prints one
JSON line: RSS (``VmRSS`` from ``/proc/self/status``, or ``ru_maxrss`` where there is no
``/proc``) before, after enqueueing and after processing, the peak (``VmHWM``), growths in
MB, and the wall and CPU time of the enqueue and process phases. Then N more jobs are streamed
(enqueued while a worker runs, a backlog of at most a few thousand), and the growth over that
phase is reported too: the figure that shows whether jobs leave memory behind.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

QUEUE = "bench-rss"
BLOCK = 1_000
WARM_UP = 100


def memory_kb() -> dict[str, int]:
    """``{"rss": current KB, "peak": peak KB}`` of this process."""
    status = Path("/proc/self/status")
    if status.exists():
        fields: dict[str, int] = {}
        for line in status.read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return {"rss": fields["VmRSS"], "peak": fields["VmHWM"]}
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        maxrss //= 1024  # bytes there, KB on Linux
    return {"rss": maxrss, "peak": maxrss}


def measure(n: int) -> dict[str, Any]:
    from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue
    from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown

    class Small(Task, queue=QUEUE, name="small"):
        to: str
        subject: str
        body: str

    env = SQSEnv(MemorySession())
    create_standard_queue(env, QUEUE)
    lock = threading.Lock()
    handled = [0]

    @env.handler(Small)
    def handle(task: Small) -> None:
        with lock:
            handled[0] += 1

    def enqueue(first: int, count: int) -> None:
        with env.activate():
            for start in range(first, first + count, BLOCK):
                with env.batch():
                    for i in range(start, min(start + BLOCK, first + count)):
                        Small(
                            to=f"user{i}@example.com",
                            subject="Hello",
                            body=f"message number {i}",
                        ).delay()

    def process(count: int) -> None:
        # IdleShutdown only guards against a hang if a job went missing: generous, so a loaded
        # machine's slow first receive never ends the run.
        policy = MaxTasksShutdown(count) | IdleShutdown(60)
        env.worker(concurrency=4).run(QUEUE, shutdown_policy=policy)

    enqueue(0, WARM_UP)
    process(WARM_UP)
    handled[0] = 0
    gc.collect()
    before = memory_kb()

    t0, c0 = time.perf_counter(), time.process_time()
    enqueue(WARM_UP, n)
    t1, c1 = time.perf_counter(), time.process_time()
    gc.collect()
    enqueued = memory_kb()
    t2, c2 = time.perf_counter(), time.process_time()
    process(n)
    t3, c3 = time.perf_counter(), time.process_time()
    gc.collect()
    after = memory_kb()

    # Then the same number of jobs streamed: a worker runs while blocks are enqueued, the
    # backlog never above a few blocks. What the process keeps after this is what jobs
    # leave behind, not what a full queue made the allocator keep.
    handled[0] = 0
    runner = threading.Thread(target=process, args=(n,))
    runner.start()
    sent = 0
    while sent < n:
        while sent - handled[0] > 3 * BLOCK:
            time.sleep(0.001)
        enqueue(WARM_UP + n + sent, min(BLOCK, n - sent))
        sent += min(BLOCK, n - sent)
    runner.join()
    gc.collect()
    streamed = memory_kb()

    attrs = env.session.get_queue_attributes(
        QueueUrl=env.queue(QUEUE).url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    mb = 1024.0
    return {
        "jobs": n,
        "handled": handled[0],
        "left_in_queue": int(attrs["ApproximateNumberOfMessages"])
        + int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        "rss_before_mb": before["rss"] / mb,
        "rss_enqueued_mb": enqueued["rss"] / mb,
        "rss_after_mb": after["rss"] / mb,
        "rss_peak_mb": after["peak"] / mb,
        "rss_growth_mb": (after["rss"] - before["rss"]) / mb,
        "rss_streamed_mb": streamed["rss"] / mb,
        "rss_growth_streamed_mb": (streamed["rss"] - after["rss"]) / mb,
        "rss_growth_enqueued_mb": (enqueued["rss"] - before["rss"]) / mb,
        "rss_peak_growth_mb": (after["peak"] - before["rss"]) / mb,
        "source": "/proc/self/status" if Path("/proc/self/status").exists() else "ru_maxrss",
        "wall_s": (t1 - t0) + (t3 - t2),
        "cpu_s": (c1 - c0) + (c3 - c2),
        "enqueue_cpu_us_per_job": (c1 - c0) / n * 1e6,
        "process_cpu_us_per_job": (c3 - c2) / n * 1e6,
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 100_000
    print(json.dumps(measure(n)))


if __name__ == "__main__":
    main()
