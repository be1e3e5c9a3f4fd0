"""bake() checks the arguments as delay() does."""

from sqs_contracts import MemorySession, SQSEnv

env = SQSEnv(MemorySession())


@env.processor("emails", "send_email")
def send_email(to: str) -> None: ...


send_email.bake(too="a@example.com")  # expected: call-arg
