"""The Lambda path's cost per record, in process on a MemorySession, no network.

``python -m benchmarks.lambda_overhead [--repeat 5] [--seconds 1.0]`` builds SQS events of
10 and 1,000 records from messages the library sent and received (no-op handler), and times
``env.lambda_handler()(event, context)`` on them: records per second of process CPU time
(single-threaded, so also the wall rate on an idle core, and steady on a busy machine) and
microseconds per record, the best of ``--repeat`` runs of about ``--seconds`` each. For
reference it times ``dispatch`` on the same messages, already Messages, one by one: the
difference is what the Lambda edge (record conversion, routing by ARN, the partial batch
answer) adds per record. A success makes no SQS call, so the same event is run again and
again. Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from typing import Any

from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue
from sqs_contracts.dispatch.dispatcher import dispatch
from sqs_contracts.testing.lambda_events import lambda_event
from sqs_contracts.wire.lambda_records import message_from_record

SIZES = (10, 1_000)


class Ping(Task, queue="bench-lambda"):
    """The benchmark's contract: a few fields of the usual kinds."""

    n: int
    to: str = "a@example.com"
    tags: tuple[str, ...] = ()


class _Context:
    """A Lambda context with plenty of time left."""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


CONTEXT = _Context()


def _event(size: int) -> tuple[SQSEnv, dict[str, Any]]:
    env = SQSEnv(MemorySession(), queue_prefix="bench-")
    create_standard_queue(env, "bench-lambda", visibility_timeout=43_200)

    @env.handler(Ping)
    def handle(task: Ping) -> None:
        """A no-op handler."""

    with env.batch():
        for n in range(size):
            Ping(n=n, tags=("x", "y")).delay(env=env)
    queue = env.queue("bench-lambda")
    messages = queue.receive(size)
    assert len(messages) == size, (len(messages), size)
    arn = env.session.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["QueueArn"])
    return env, lambda_event(messages, queue_arn=arn["Attributes"]["QueueArn"])


def _best_rate(run: Callable[[], None], records: int, repeat: int, seconds: float) -> float:
    """Records per CPU second: the best of ``repeat`` loops of about ``seconds`` of CPU each."""
    run()  # warm-up: lazy imports, first calls
    t0 = time.process_time()
    run()
    once = max(time.process_time() - t0, 1e-6)
    loops = max(1, int(seconds / once))
    best = 0.0
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(loops):
            run()
        best = max(best, records * loops / max(time.process_time() - t0, 1e-9))
    return best


def measure(repeat: int, seconds: float) -> dict[str, Any]:
    """Lambda handler and plain dispatch rates for each event size."""
    results: dict[str, Any] = {}
    for size in SIZES:
        env, event = _event(size)
        handler = env.lambda_handler()

        def run_lambda(handler: Any = handler, event: Any = event) -> None:
            answer = handler(event, CONTEXT)
            assert answer == {"batchItemFailures": []}, answer

        queue = env.queue("bench-lambda")
        messages = [message_from_record(r) for r in event["Records"]]

        def run_dispatch(queue: Any = queue, messages: Any = messages) -> None:
            outcomes = dispatch(queue, messages)
            assert all(o.success for o in outcomes)

        lambda_rate = _best_rate(run_lambda, size, repeat, seconds)
        dispatch_rate = _best_rate(run_dispatch, size, repeat, seconds)
        results[str(size)] = {
            "lambda_records_per_s": round(lambda_rate),
            "lambda_us_per_record": round(1e6 / lambda_rate, 1),
            "dispatch_records_per_s": round(dispatch_rate),
            "edge_us_per_record": round(1e6 / lambda_rate - 1e6 / dispatch_rate, 1),
        }
    return results


def main() -> None:
    """Print the figures as a table and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    results = measure(args.repeat, args.seconds)
    print(
        f"Lambda path on MemorySession, no-op handler, per CPU second ({platform.python_version()})"
    )
    header = ("records", "lambda rec/s", "us/rec", "dispatch rec/s", "edge us")
    print("{:>8} {:>13} {:>8} {:>15} {:>8}".format(*header))
    for size, row in results.items():
        print(
            f"{size:>8} {row['lambda_records_per_s']:>13,} {row['lambda_us_per_record']:>8} "
            f"{row['dispatch_records_per_s']:>15,} {row['edge_us_per_record']:>8}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
