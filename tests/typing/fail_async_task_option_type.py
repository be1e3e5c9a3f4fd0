"""A delay() option of the wrong type."""

from sqs_contracts import MemorySession, SQSEnv

env = SQSEnv(MemorySession())


@env.processor("emails", "send_email")
def send_email(to: str) -> None: ...


send_email.delay(to="a@example.com", _delay_seconds="soon")  # expected: arg-type
