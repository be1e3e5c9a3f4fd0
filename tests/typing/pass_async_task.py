"""The function API as mypy must accept it."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack, assert_type

from sqs_contracts import JobContext, MemorySession, SQSEnv
from sqs_contracts.async_task import AsyncTask, AsyncTaskDelayArgs, BakedAsyncTask

env = SQSEnv(MemorySession())
queue = env.queue("emails")


@queue.processor("send_email")
def send_email(to: str, subject: str = "", retries: int = 0) -> bool:
    return bool(to)


typed_task: AsyncTask[[str, str, int], bool] = send_email
message_id: str | None = send_email.delay(to="a@example.com")
send_email.delay("a@example.com", "Hi", 2)
# The options need no declaration in the handler.
send_email.delay(to="a@example.com", _delay_seconds=5)
send_email.delay(
    to="a@example.com",
    _content_type="json",
    _delay_seconds=None,
    _deduplication_id="d1",
    _group_id="g1",
)
baked = send_email.bake(to="a@example.com", _delay_seconds=1.5)
assert_type(baked, BakedAsyncTask[bool])
baked_id: str | None = baked.delay()
assert_type(baked.run(), bool)
assert_type(send_email.run(to="a@example.com"), bool)
with send_email.batch():
    send_email.delay(to="b@example.com")


@env.processor("emails", "notify", pass_context=True)
def notify(user_id: int, context: JobContext) -> None:
    print(context.get("remote_addr"))


# The context parameter is filled by the worker: neither delay() nor run() asks for it.
notify.delay(user_id=1)
notify.delay(1, _delay_seconds=3)
notify.run(user_id=1)


@queue.processor("anything")
def anything(**kwargs: Any) -> None:
    print(kwargs)


anything.delay(a=1, b="two", _group_id=None)


# Handlers written for sqs-workers, which declared the options themselves, still type-check.
@queue.processor("legacy")
def legacy(name: str, **_: Unpack[AsyncTaskDelayArgs]) -> None:
    print(name)


legacy.delay(name="x", _delay_seconds=5)

# sqs-workers spelled the type AsyncTask[P]; the return type defaults to Any.
legacy_task: AsyncTask[[str]] = legacy
any_task: AsyncTask[..., Any] = send_email
any_task.delay(1, 2, _group_id="g")
