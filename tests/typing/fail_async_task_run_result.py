"""run() returns the handler's return type."""

from sqs_contracts import MemorySession, SQSEnv

env = SQSEnv(MemorySession())


@env.processor("emails", "count")
def count(n: int) -> int:
    return n


result: str = count.run(n=1)  # expected: assignment
