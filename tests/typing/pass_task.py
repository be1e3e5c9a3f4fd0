"""Producer and handler code that mypy must accept."""

from __future__ import annotations

from sqs_contracts import JobContext, MemorySession, SQSEnv, Task


class SendEmail(Task, queue="typing-emails", name="send_email"):
    to: str
    subject: str
    body: str = ""


env = SQSEnv(MemorySession())


@env.handler(SendEmail)
def send_email(task: SendEmail) -> None:
    print(task.to.upper())


@env.handler(SendEmail, pass_context=True)
def send_email_ctx(task: SendEmail, context: JobContext) -> int:
    return context.receive_count


message_id: str | None = SendEmail(to="a@example.com", subject="Hi").delay()
SendEmail(to="a@example.com", subject="Hi", body="x").delay(delay_seconds=30, env=env)
with SendEmail.batch():
    SendEmail(to="b@example.com", subject="Hi").delay()
