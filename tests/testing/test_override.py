"""env.override: the app's import-time env on another session for a block, then back."""

from __future__ import annotations

import asyncio

import pytest
from backends import Backend, receive
from sample_app import tasks
from sample_app.tasks import SendEmail

from sqs_contracts import ManualClock, MemorySession, SQSEnv, create_standard_queue
from sqs_contracts.testing import run_until_idle, sent


def test_sends_go_to_the_override_session_and_everything_comes_back(backend: Backend) -> None:
    env = tasks.env
    original = env.session
    emails = env.queue("sample-emails")
    handlers = dict(emails.processors)

    with env.override(backend.session) as inside:
        assert inside is env
        url = create_standard_queue(env, "sample-emails")
        backend.created.append(url)
        SendEmail(to="a@example.com", subject="hi").delay()
        assert emails.session is backend.session
        assert emails.queue_url == url
        (message,) = receive(backend, url, MessageAttributeNames=["All"])

    assert message["MessageAttributes"]["JobName"]["StringValue"] == "SendEmail"
    assert env.session is original
    assert emails.session is original
    assert emails.queue_url is None  # the URL read inside the block is forgotten
    assert emails.processors == handlers


def test_queue_urls_and_settings_are_read_again_from_the_new_session() -> None:
    env = tasks.env
    first = MemorySession(clock=ManualClock(), account_id="111111111111")
    second = MemorySession(clock=ManualClock(), account_id="222222222222")
    with env.override(first):
        create_standard_queue(env, "sample-emails", visibility_timeout=5)
        assert "111111111111" in env.queue("sample-emails").url
        assert env.queue("sample-emails").settings.visibility_timeout == 5
        with env.override(second):
            create_standard_queue(env, "sample-emails", visibility_timeout=7)
            assert "222222222222" in env.queue("sample-emails").url
            assert env.queue("sample-emails").settings.visibility_timeout == 7
            assert env.session is second
        assert "111111111111" in env.queue("sample-emails").url
        assert env.queue("sample-emails").settings.visibility_timeout == 5
        assert env.session is first


def test_a_queue_first_used_inside_the_block_is_restored_too() -> None:
    env = SQSEnv(MemorySession(clock=ManualClock()))
    original = env.session
    with env.override(MemorySession(clock=ManualClock())):
        created_inside = env.queue("made-inside")
    assert created_inside.session is original
    assert created_inside.queue_url is None


def test_async_with_works_too() -> None:
    env = tasks.env
    original = env.session
    memory = MemorySession(clock=ManualClock())

    async def main() -> None:
        async with env.override(memory) as inside:
            assert inside is env
            assert env.queue("sample-emails").session is memory
            create_standard_queue(env, "sample-emails")
            SendEmail(to="a@example.com", subject="async").delay()
            assert sent(env, SendEmail) == [SendEmail(to="a@example.com", subject="async")]

    asyncio.run(main())
    assert env.session is original


def test_the_override_is_restored_when_the_block_raises() -> None:
    env = tasks.env
    original = env.session
    with pytest.raises(RuntimeError, match="boom"), env.override(MemorySession()):
        raise RuntimeError("boom")
    assert env.session is original
    assert env.queue("sample-emails").session is original


def test_only_a_session_is_accepted() -> None:
    with pytest.raises(TypeError, match=r"env.override\(\) takes an SQS session"):
        tasks.env.override(object())


def test_handlers_registered_at_import_run_on_the_override(app: SQSEnv) -> None:
    # The test's own env exists as well: the app's env serves the queue, so it is the one.
    SQSEnv(MemorySession())
    SendEmail(to="a@example.com", subject="hi").delay()
    run_until_idle(app)
    assert tasks.outbox == [SendEmail(to="a@example.com", subject="hi")]
