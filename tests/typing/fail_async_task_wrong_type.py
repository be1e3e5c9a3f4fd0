"""delay() with an argument of the wrong type."""

from sqs_contracts import MemorySession, SQSEnv

env = SQSEnv(MemorySession())


@env.processor("emails", "send_email")
def send_email(to: str, retries: int = 0) -> None: ...


send_email.delay(to="a@example.com", retries="three")  # expected: arg-type
