"""sent(): the tasks on a queue, read without receiving them; and the session reads under it."""

from __future__ import annotations

import pytest
from backends import Backend, receive
from sample_app import tasks
from sample_app.tasks import ChargeCard, SendEmail

from sqs_contracts import ManualClock, MemorySession, SQSEnv
from sqs_contracts.testing import RealSessionError, sent


def test_sent_returns_the_typed_tasks_in_send_order_delayed_ones_included(app: SQSEnv) -> None:
    SendEmail(to="a@example.com", subject="one").delay()
    SendEmail(to="b@example.com", subject="two").delay(delay_seconds=120)
    ChargeCard(order_id=1, amount_cents=5).delay()

    assert sent(app, SendEmail) == [
        SendEmail(to="a@example.com", subject="one"),
        SendEmail(to="b@example.com", subject="two"),
    ]
    assert sent(app, "sample-payments") == [ChargeCard(order_id=1, amount_cents=5)]
    assert sent(app, "sample-reports") == []


def test_sent_receives_nothing(app: SQSEnv, sqs_memory: MemorySession) -> None:
    SendEmail(to="a@example.com", subject="one").delay()
    sent(app, SendEmail)
    sent(app, SendEmail)
    url = app.queue("sample-emails").url
    (message,) = sqs_memory.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    # Received and not deleted yet, it is still on the queue.
    assert sent(app, SendEmail) == [SendEmail(to="a@example.com", subject="one")]


def test_sent_on_each_backend(backend: Backend) -> None:
    with tasks.env.override(backend.session):
        backend.created.extend(tasks.create_queues())
        SendEmail(to="a@example.com", subject="one").delay()
        if backend.is_memory:
            assert sent(tasks.env, SendEmail) == [SendEmail(to="a@example.com", subject="one")]
            return
        with pytest.raises(RealSessionError, match="only a MemorySession can") as raised:
            sent(tasks.env, SendEmail)
        assert "'sample-emails'" in str(raised.value)
        assert "maxReceiveCount" in str(raised.value)
        # Refusing touched nothing: the message was never received.
        (message,) = receive(backend, tasks.env.queue("sample-emails").url, AttributeNames=["All"])
        assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_peek_messages_shows_every_live_message_once_without_a_receipt_handle() -> None:
    session = MemorySession(clock=ManualClock())
    url = session.create_queue(QueueName="peek")["QueueUrl"]
    for body in ("a", "b", "c", "d"):
        session.send_message(QueueUrl=url, MessageBody=body, DelaySeconds=60 if body == "d" else 0)
    (first,) = session.receive_message(QueueUrl=url)["Messages"]
    session.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    (again,) = session.receive_message(QueueUrl=url)["Messages"]
    session.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    (held,) = session.receive_message(QueueUrl=url)["Messages"]

    peeked = session.peek_messages(QueueUrl=url)["Messages"]

    assert (first["Body"], again["Body"], held["Body"]) == ("a", "a", "b")
    assert [m["Body"] for m in peeked] == ["b", "c", "d"]  # in flight, visible, delayed
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in peeked] == ["1", "0", "0"]
    # Only a message received once has a first receive time; the others show none.
    assert "ApproximateFirstReceiveTimestamp" in peeked[0]["Attributes"]
    assert ["ApproximateFirstReceiveTimestamp" in m["Attributes"] for m in peeked[1:]] == [
        False,
        False,
    ]
    assert all("ReceiptHandle" not in m for m in peeked)


def test_next_receive_time_follows_delays_backoffs_and_blocked_fifo_groups() -> None:
    clock = ManualClock()
    session = MemorySession(clock=clock)
    now = clock.time()
    url = session.create_queue(QueueName="n")["QueueUrl"]
    assert session.next_receive_time(QueueUrl=url) is None
    session.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=90)
    assert session.next_receive_time(QueueUrl=url) == now + 90
    clock.advance(90)
    assert session.next_receive_time(QueueUrl=url) == now + 90
    assert session.receive_message(QueueUrl=url, VisibilityTimeout=40)["Messages"]
    assert session.next_receive_time(QueueUrl=url) == now + 130

    fifo = session.create_queue(QueueName="n.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for i in range(2):
        session.send_message(
            QueueUrl=fifo, MessageBody=str(i), MessageGroupId="g", MessageDeduplicationId=str(i)
        )
    session.receive_message(QueueUrl=fifo, VisibilityTimeout=30)
    # The second message is visible, but its group waits for the first one.
    assert session.next_receive_time(QueueUrl=fifo) == now + 120
