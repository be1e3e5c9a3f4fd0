"""delay() with an argument the handler does not take."""

from sqs_contracts import MemorySession, SQSEnv

env = SQSEnv(MemorySession())


@env.processor("emails", "send_email")
def send_email(to: str) -> None: ...


send_email.delay(wrong_kw=1)  # expected: call-arg
