"""``queue list``, ``queue stats``, ``dlq peek`` and ``dlq redrive`` on moto."""

from __future__ import annotations

import json

from .cli_helpers import App, run_cli


def test_queue_list_and_stats(app: App) -> None:
    app.send_job("emails", "send_email", {"to": "a@example.com", "subject": "s"})
    app.send_job("emails_dead", "send_email", {"to": "b@example.com", "subject": "s"})
    result = run_cli("queue", "list", *app.where)
    assert result.code == 0, result.err
    header, *rows = result.out.splitlines()
    assert header.split() == [
        "NAME",
        "VISIBLE",
        "IN",
        "FLIGHT",
        "DELAYED",
        "OLDEST",
        "DEAD-LETTER",
        "QUEUE",
    ]
    table = {row.split()[0]: row.split()[1:] for row in rows}
    assert table == {
        f"{app.prefix}emails": ["1", "0", "0", "-", f"{app.prefix}emails_dead"],
        f"{app.prefix}emails_dead": ["1", "0", "0", "-", "-"],
        f"{app.prefix}reports": ["0", "0", "0", "-", "-"],
    }
    result = run_cli("queue", "stats", "emails", *app.where)
    assert result.code == 0, result.err
    assert result.out.split() == [
        "visible=1",
        "in_flight=0",
        "delayed=0",
        "oldest_age=-",
        f"dead_letter_queue={app.prefix}emails_dead",
        "dead_letter_visible=1",
        "max_receive_count=3",
    ]


def _fill_dead_letters(app: App) -> None:
    app.send_job("emails_dead", "send_email", {"to": "ok@example.com", "subject": "Hi"})
    app.send_job("emails_dead", "send_email", {"to": "no-subject@example.com"})
    app.session.send_message(QueueUrl=app.url("emails_dead"), MessageBody="not a job")


def test_dlq_peek_decodes_validates_and_keeps_the_messages(app: App) -> None:
    _fill_dead_letters(app)
    result = app.run("dlq", "peek", "emails_dead", "--env", "myapp.tasks:env")
    assert result.code == 0, result.err
    out = result.out
    assert "job send_email (SendEmail), received 1 time(s)" in out
    assert '  payload: {"to": "ok@example.com", "subject": "Hi"}' in out
    assert '  context: {"request_id": "r1"}' in out
    assert "  valid against today's contract" in out
    assert "  invalid today: subject: Field required" in out
    assert "job (no JobName: not a job)" in out
    assert "  body: 'not a job'" in out
    assert "  invalid today: message has no JobName attribute" in out
    assert out.splitlines()[-1] == (
        f"3 message(s) shown, 2 invalid today; they stay in {app.prefix}emails_dead"
    )
    assert app.count("emails_dead") == 3
    result = app.run("dlq", "peek", "emails_dead", "--env", "myapp.tasks:env", "--json")
    assert result.code == 0, result.err
    records = {r["payload"]["to"] if r["payload"] else None: r for r in json.loads(result.out)}
    assert records["ok@example.com"]["valid"] is True
    assert records["ok@example.com"]["contract"] == "SendEmail"
    assert records["ok@example.com"]["receive_count"] == 2
    assert records["no-subject@example.com"]["errors"] == ["subject: Field required"]
    assert records[None]["body"] == "not a job"
    # Visibility was restored: every message can be received at once.
    answer = app.session.receive_message(QueueUrl=app.url("emails_dead"), MaxNumberOfMessages=10)
    assert len(answer["Messages"]) == 3


def test_dlq_redrive_moves_25_messages_back_without_loss(app: App) -> None:
    sent = {f"user{n}@example.com" for n in range(25)}
    for to in sent:
        app.send_job("emails_dead", "send_email", {"to": to, "subject": "s"})
    result = run_cli("dlq", "redrive", "emails_dead", *app.where)
    assert result.code == 0, result.err
    assert result.out.strip() == (
        f"moved 25 message(s) from {app.prefix}emails_dead to {app.prefix}emails (client-side)"
    )
    assert app.count("emails_dead") == 0
    received = []
    while batch := app.session.receive_message(
        QueueUrl=app.url("emails"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        received += batch
    assert {json.loads(m["Body"])["to"] for m in received} == sent
    assert len(received) == 25
    assert {m["MessageAttributes"]["JobName"]["StringValue"] for m in received} == {"send_email"}
