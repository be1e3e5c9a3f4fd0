"""A wrongly typed send option."""

from sqs_contracts import Task


class SendEmail(Task, queue="typing-emails", name="send_email"):
    to: str


SendEmail(to="a@example.com").delay(delay_seconds="soon")  # expected: arg-type
