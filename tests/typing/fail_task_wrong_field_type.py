"""A wrong field type at the call site."""

from sqs_contracts import Task


class SendEmail(Task, queue="typing-emails", name="send_email"):
    to: str
    subject: str


SendEmail(to=42, subject="Hi").delay()  # expected: arg-type
