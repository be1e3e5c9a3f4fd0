"""Bare boto3: the floor any framework on top of it is compared with."""

from __future__ import annotations

import json
import threading
from typing import Any

from benchmarks.harness import (
    GROUP_BOTO3,
    Context,
    check,
    job_attributes,
    job_kwargs,
    workload,
)


@workload(
    "enqueue.single",
    GROUP_BOTO3,
    sizing="sequential",
    description="json.dumps + SendMessage per job, with the 3 job attributes",
)
def enqueue_single(ctx: Context) -> None:
    client = ctx.client()
    _, url = ctx.new_queue()
    n = ctx.jobs
    attrs = job_attributes()
    ctx.warm_up(client, url)
    with ctx.measure(n):
        for i in range(n):
            client.send_message(
                QueueUrl=url, MessageBody=json.dumps(job_kwargs(i)), MessageAttributes=attrs
            )
    check(ctx.visible_messages(url) == n, "not every message arrived")


@workload(
    "enqueue.batch",
    GROUP_BOTO3,
    description="json.dumps per job, SendMessageBatch of 10 entries",
)
def enqueue_batch(ctx: Context) -> None:
    client = ctx.client()
    _, url = ctx.new_queue()
    n = ctx.jobs
    attrs = job_attributes()
    ctx.warm_up(client, url)
    with ctx.measure(n):
        for start in range(0, n, 10):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(job_kwargs(i)), "MessageAttributes": attrs}
                for i in range(start, min(start + 10, n))
            ]
            resp = client.send_message_batch(QueueUrl=url, Entries=entries)
            check(not resp.get("Failed"), f"batch entries failed: {resp.get('Failed')}")
    check(ctx.visible_messages(url) == n, "not every message arrived")


def _process(ctx: Context, threads: int) -> None:
    """ReceiveMessage(10, long poll 1 s) + json.loads + DeleteMessageBatch, on shared client."""
    client = ctx.client(max_pool_connections=max(10, threads * 2))
    _, url = ctx.new_queue()
    n = ctx.jobs
    ctx.prefill(url, n)
    ctx.warm_up(client, url)
    lock = threading.Lock()
    done = threading.Event()
    processed = [0]  # deliveries: moto can hand one message to two concurrent receives
    seen: set[str] = set()
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            while not done.is_set():
                resp = client.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    MessageAttributeNames=["All"],
                )
                msgs: list[dict[str, Any]] = resp.get("Messages", [])
                if not msgs:
                    continue
                for m in msgs:
                    json.loads(m["Body"])
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)
                ]
                resp = client.delete_message_batch(QueueUrl=url, Entries=entries)
                if resp.get("Failed"):
                    raise RuntimeError(f"delete failed: {resp['Failed'][:3]}")
                with lock:
                    processed[0] += len(msgs)
                    seen.update(m["MessageId"] for m in msgs)
                    if len(seen) >= n:
                        done.set()
        except BaseException as exc:
            errors.append(exc)
            done.set()

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    with ctx.measure(n, until_acked=True) as m:
        m.extra.update(
            threads=threads,
            receive_loops=threads,
            senders=0,  # each thread sends its own deletes
            hold_limit=10 * threads,  # each thread holds what its last receive returned
            pool=client.meta.config.max_pool_connections,
        )
        for t in workers:
            t.start()
        finished = done.wait(timeout=120)
    # Threads still in a long poll return within WaitTimeSeconds; not part of the measurement.
    for t in workers:
        t.join(timeout=5)
    if errors:
        raise errors[0]
    check(finished, f"timed out: {len(seen)} of {n} processed")
    # At-least-once: every job processed; a duplicate only where receives run concurrently.
    check(len(seen) == n, f"processed {len(seen)} distinct jobs, expected {n}")
    if threads == 1:
        check(processed[0] == n, f"processed {processed[0]} jobs, expected {n}")


@workload(
    "process.c1",
    GROUP_BOTO3,
    sizing="single-loop",
    description="receive 10 / json.loads / delete batch, 1 thread",
)
def process_c1(ctx: Context) -> None:
    _process(ctx, 1)


@workload(
    "process.c8", GROUP_BOTO3, description="receive 10 / json.loads / delete batch, 8 threads"
)
def process_c8(ctx: Context) -> None:
    _process(ctx, 8)


@workload(
    "process.c32", GROUP_BOTO3, description="receive 10 / json.loads / delete batch, 32 threads"
)
def process_c32(ctx: Context) -> None:
    _process(ctx, 32)
