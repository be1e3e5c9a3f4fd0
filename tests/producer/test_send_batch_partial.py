"""A SendMessageBatch that partly fails: what SQS accepted is never sent again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import MemorySession, SendBatchError, SQSEnv, Task, create_standard_queue
from sqs_contracts.sessions.base import SQSSession

REFUSED = "refuse-me"


class Refund(Task, queue="refunds"):
    n: int
    note: str = ""


class RefusingSession:
    """Passes every call through, but refuses (sender fault) batch entries carrying a marker."""

    def __init__(self, inner: SQSSession) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        refused = [e for e in Entries if REFUSED in e["MessageBody"]]
        kept = [e for e in Entries if REFUSED not in e["MessageBody"]]
        response = dict(self.inner.send_message_batch(QueueUrl=QueueUrl, Entries=kept))
        response["Failed"] = [
            *response.get("Failed", []),
            *(
                {
                    "Id": e["Id"],
                    "SenderFault": True,
                    "Code": "InvalidMessageContents",
                    "Message": "x",
                }
                for e in refused
            ),
        ]
        return response


def _messages(env: SQSEnv) -> list[dict[str, Any]]:
    queue = env.queue("refunds")
    seen: list[dict[str, Any]] = []
    for _ in range(20):
        batch = queue.get_raw_messages(0)
        if not batch:
            break
        seen.extend(batch)
    return seen


@pytest.mark.parametrize("bad_at", [0, 4, 9])
def test_accepted_entries_are_sent_once_when_the_block_exits_on_the_error(
    backend: Backend, bad_at: int
) -> None:
    env = SQSEnv(RefusingSession(backend.session), queue_prefix=backend.unique("sb") + "-")
    backend.created.append(create_standard_queue(env, "refunds"))
    with pytest.raises(SendBatchError, match="refunds"):
        with env.batch():
            for n in range(10):  # the tenth fills the batch and sends it inside the block
                Refund(n=n, note=REFUSED if n == bad_at else "").delay(env=env)
    bodies = sorted(Refund.model_validate_json(m["Body"]).n for m in _messages(env))
    assert bodies == [n for n in range(10) if n != bad_at]


def test_a_body_sqs_refuses_fails_alone_and_the_rest_is_sent_once() -> None:
    # SQS refuses U+FFFE in a body (MemorySession too; moto does not check): the original
    # trigger, which sent the nine accepted entries twice.
    env = SQSEnv(MemorySession())
    create_standard_queue(env, "refunds")
    queue = env.queue("refunds")
    with pytest.raises(SendBatchError), queue.add_batch():
        for n in range(10):
            note = "\ufffe" if n == 3 else ""
            queue.add_raw_job(
                "Refund", json.dumps({"n": n, "note": note}, ensure_ascii=False), "{}", "json"
            )
    ns = sorted(Refund.model_validate_json(m["Body"]).n for m in _messages(env))
    assert ns == [0, 1, 2, 4, 5, 6, 7, 8, 9]
