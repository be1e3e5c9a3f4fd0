"""A missing required field at the call site."""

from sqs_contracts import Task


class SendEmail(Task, queue="typing-emails", name="send_email"):
    to: str
    subject: str


SendEmail(to="a@example.com").delay()  # expected: call-arg
