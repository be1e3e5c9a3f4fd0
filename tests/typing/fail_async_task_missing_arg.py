"""delay() without a required argument."""

from sqs_contracts import MemorySession, SQSEnv

env = SQSEnv(MemorySession())


@env.processor("emails", "send_email")
def send_email(to: str, retries: int = 0) -> None: ...


send_email.delay(retries=1)  # expected: call-arg
