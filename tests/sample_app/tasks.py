"""The application's tasks: its env is created at import time, as in a real app module.

Importing this module needs no AWS region, credentials or network: the boto3 client of
``env`` is built on first use.
"""

from __future__ import annotations

from sqs_contracts import ConstantBackoff, SQSEnv, Task, create_fifo_queue, create_standard_queue

env = SQSEnv()


class SendEmail(Task, queue="sample-emails"):
    to: str
    subject: str


class ChargeCard(Task, queue="sample-payments"):
    order_id: int
    amount_cents: int


class BuildReport(Task, queue="sample-reports"):
    name: str


class Tick(Task, queue="sample-ticks"):
    n: int


class Ship(Task, queue="sample-shipping.fifo"):
    order_id: int
    step: int


class PaymentDeclined(Exception):
    """The card was declined; the charge is retried after a minute."""


outbox: list[SendEmail] = []
charged: list[int] = []
declines: dict[int, int] = {}
"""How many more times the card of an order is declined (set by tests)."""
shipped: list[tuple[int, int]] = []

env.queue("sample-payments", backoff_policy=ConstantBackoff(60))
env.queue("sample-shipping.fifo", backoff_policy=ConstantBackoff(30))


@env.handler(SendEmail)
def send_email(task: SendEmail) -> None:
    outbox.append(task)


@env.handler(ChargeCard)
def charge_card(task: ChargeCard) -> None:
    if declines.get(task.order_id, 0) > 0:
        declines[task.order_id] -= 1
        raise PaymentDeclined(f"card declined for order {task.order_id}")
    charged.append(task.order_id)
    SendEmail(to="customer@example.com", subject=f"Order {task.order_id} paid").delay()


@env.handler(BuildReport)
def build_report(task: BuildReport) -> None:
    raise RuntimeError(f"report {task.name!r} cannot be built")


@env.handler(Tick)
def tick(task: Tick) -> None:
    Tick(n=task.n + 1).delay()


@env.handler(Ship)
def ship(task: Ship) -> None:
    if declines.get(-task.order_id, 0) > 0:
        declines[-task.order_id] -= 1
        raise RuntimeError(f"carrier down for order {task.order_id}")
    shipped.append((task.order_id, task.step))


def create_queues() -> list[str]:
    """Create the application's queues on the env's session; returns their URLs."""
    return [
        create_standard_queue(env, "sample-emails"),
        create_standard_queue(env, "sample-payments"),
        create_standard_queue(env, "sample-reports-dlq"),
        create_standard_queue(
            env, "sample-reports", redrive_policy=env.redrive_policy("sample-reports-dlq", 3)
        ),
        create_standard_queue(env, "sample-ticks"),
        create_fifo_queue(env, "sample-shipping.fifo"),
    ]


def reset() -> None:
    """Forget what the handlers did (between tests)."""
    outbox.clear()
    charged.clear()
    declines.clear()
    shipped.clear()
