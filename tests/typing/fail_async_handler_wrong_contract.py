"""An async handler registered for another contract than the one it takes."""

from sqs_contracts import MemorySession, SQSEnv, Task


class SendEmail(Task, queue="typing-emails", name="send_email"):
    to: str


class PlaceOrder(Task, queue="typing-orders", name="place_order"):
    order_id: int


env = SQSEnv(MemorySession())


@env.handler(SendEmail)  # expected: arg-type
async def place_order(task: PlaceOrder) -> None:
    print(task.order_id)
