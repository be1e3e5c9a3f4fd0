"""Async handlers that mypy must accept, and what .run() and .arun() return for them."""

from __future__ import annotations

from typing_extensions import assert_type

from sqs_contracts import JobContext, MemorySession, SQSEnv, Task


class SendEmail(Task, queue="typing-emails", name="send_email"):
    to: str


env = SQSEnv(MemorySession())


@env.handler(SendEmail)
async def send_email(task: SendEmail) -> None:
    print(task.to.upper())


@env.handler(SendEmail, pass_context=True)
async def send_email_ctx(task: SendEmail, context: JobContext) -> int:
    return context.receive_count


@env.processor("typing-emails", "count")
async def count(n: int, context: JobContext) -> int:
    return n


async def main() -> None:
    await SendEmail(to="a@example.com").arun()
    assert_type(count.run(n=1), int)
    assert_type(await count.arun(n=1), int)
    assert_type(await count.bake(2).arun(), int)
    assert_type(count.bake(n=3).run(), int)
