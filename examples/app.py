"""The example app: handlers for the contracts, and a demo run on the in-memory SQS.

Run it with ``sqs-contracts demo`` (or ``python -m examples.app``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from decimal import Decimal

from examples.contracts import Line, PlaceOrder, ResizeImage, SendEmail
from sqs_contracts import (
    IMMEDIATE_RETURN,
    JobContext,
    MemorySession,
    SQSEnv,
    create_fifo_queue,
    create_standard_queue,
)
from sqs_contracts.shutdown_policies import IdleShutdown

processed: list[str] = []


def build_env() -> SQSEnv:
    """An env on MemorySession with the example queues and handlers registered."""
    env = SQSEnv(MemorySession(), backoff_policy=IMMEDIATE_RETURN)
    create_standard_queue(env, "emails_dead")
    create_standard_queue(
        env, "emails", visibility_timeout=30, redrive_policy=env.redrive_policy("emails_dead", 2)
    )
    create_fifo_queue(env, "orders.fifo", content_based_deduplication=True)
    create_standard_queue(env, "images")
    attempts: dict[str, int] = {}

    @env.handler(SendEmail, pass_context=True)
    def send_email(task: SendEmail, context: JobContext) -> None:
        attempts[task.to] = attempts.get(task.to, 0) + 1
        if task.to.startswith("flaky") and attempts[task.to] < 2:
            processed.append(f"send_email to={task.to} failed (attempt {context.receive_count})")
            raise ConnectionError("SMTP server busy")
        if task.to.startswith("bounce"):
            processed.append(f"send_email to={task.to} failed (attempt {context.receive_count})")
            raise ValueError("mailbox does not exist")
        processed.append(
            f"send_email to={task.to} subject={task.subject!r} "
            f"(attempt {context.receive_count}, request {context.get('request_id')})"
        )

    @env.handler(PlaceOrder)
    def place_order(task: PlaceOrder) -> None:
        total = sum(line.unit_price * line.quantity for line in task.lines)
        processed.append(
            f"place_order {task.customer} total={total} priority={task.priority.value}"
        )

    @env.handler(ResizeImage)
    def resize_image(task: ResizeImage) -> None:
        processed.append(f"resize_image {task.key} width={task.width}")

    return env


def main() -> int:
    """Enqueue a few typed jobs, run a worker until the queues are idle, print what happened."""
    logging.basicConfig(level=logging.CRITICAL)
    env = build_env()
    with env.context(request_id="req-42"):
        SendEmail(to="ada@example.com", subject="Welcome").delay()
        SendEmail(to="flaky@example.com", subject="Retried once").delay()
        SendEmail(to="bounce@example.com", subject="Dead-lettered").delay()
    with env.batch():
        for n, customer in enumerate(["cust-1", "cust-2", "cust-1"]):
            PlaceOrder(
                order_id=uuid.UUID(int=n),
                customer=customer,
                lines=[Line(sku="tea", quantity=n + 1, unit_price=Decimal("3.50"))],
                placed_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            ).delay(group_id=customer)
    ResizeImage(key="cat.png", width=640).delay()

    stats = env.worker(concurrency=4, handle_signals=False).run(
        "emails", "orders.fifo", "images", shutdown_policy=IdleShutdown(0.5)
    )
    for line in processed:
        print(line)
    dead = env.queue("emails_dead").get_raw_messages(0)
    print(
        f"processed: {stats.succeeded} succeeded, {stats.failed} failed attempts; "
        f"dead-lettered: {[m['MessageAttributes']['JobName']['StringValue'] for m in dead]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
