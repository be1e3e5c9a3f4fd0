"""Every error of the command line: one line on stderr, exit code 2 (usage or configuration)
or 1 (run time), no traceback unless ``--traceback``; confirmations before destroying."""

from __future__ import annotations

import http.server
import json
import os
import pty
import socket
import threading
from collections.abc import Iterator

import pytest

from .cli_helpers import App, run_cli


class _Denied(http.server.BaseHTTPRequestHandler):
    """An SQS endpoint that refuses every request's credentials."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(
            {
                "__type": "com.amazonaws.sqs#InvalidClientTokenId",
                "message": "The security token included in the request is invalid.",
            }
        ).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("x-amzn-query-error", "InvalidClientTokenId;Sender")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def denied_endpoint() -> Iterator[str]:
    """A local endpoint answering InvalidClientTokenId."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Denied)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_worker_configuration_errors_exit_2(app: App) -> None:
    result = app.run("worker", "nomodule.tasks:env")
    assert result.code == 2
    assert "cannot import 'nomodule.tasks': No module named 'nomodule'" in result.one_error_line()
    result = app.run("worker", "myapp.tasks:nothing")
    assert result.code == 2
    assert "does not name an SQSEnv (SQSEnv objects in myapp.tasks: myapp.tasks:env)" in (
        result.one_error_line()
    )
    result = app.run("worker", "myapp.tasks:env", "missing", "--log-level", "error")
    assert result.code == 2
    assert f"queue '{app.prefix}missing' does not exist" in result.one_error_line()
    traced = app.run("--traceback", "worker", "myapp.tasks:env", "missing", "--log-level", "error")
    assert traced.code == 2
    assert "Traceback" in traced.err


def test_queue_errors_exit_2_or_1(app: App, denied_endpoint: str) -> None:
    result = run_cli("queue", "stats", "nope", *app.where)
    assert result.code == 2
    assert f"no queue '{app.prefix}nope'" in result.one_error_line()
    result = run_cli("queue", "create", "emails", *app.where)
    assert result.code == 2
    assert f"queue '{app.prefix}emails' already exists" in result.one_error_line()
    assert run_cli("queue", "purge", "reports", "--yes", *app.where).code == 0
    result = run_cli("queue", "purge", "reports", "--yes", *app.where)
    assert result.code == 1
    assert "one purge per queue every 60 seconds" in result.one_error_line()
    denied = ["--endpoint-url", denied_endpoint, "--region", "us-east-1"]
    result = run_cli("queue", "stats", "emails", *denied)
    assert result.code == 1
    assert result.one_error_line().startswith("sqs-contracts: error: InvalidClientTokenId:")
    unreachable = ["--endpoint-url", f"http://127.0.0.1:{_closed_port()}", "--region", "us-east-1"]
    result = run_cli("queue", "list", *unreachable)
    assert result.code == 1
    assert "Could not connect to the endpoint URL" in result.one_error_line()


def test_destructive_commands_need_a_confirmation(app: App) -> None:
    app.send_job("emails_dead", "send_email", {"to": "a@example.com", "subject": "s"})
    for command in (["queue", "purge", "emails"], ["queue", "delete", "emails"]):
        result = run_cli(*command, *app.where)
        assert result.code == 2
        assert "refusing without confirmation; pass --yes" in result.one_error_line()
    result = run_cli("dlq", "purge", "emails_dead", *app.where)
    assert result.code == 2
    assert app.count("emails_dead") == 1

    def on_terminal(answer: bytes, *command: str) -> int:
        leader, follower = pty.openpty()
        try:
            os.write(leader, answer)
            return run_cli(*command, *app.where, stdin=follower).code
        finally:
            os.close(leader)
            os.close(follower)

    assert on_terminal(b"n\n", "queue", "delete", "emails") == 1
    assert app.url("emails")  # still there
    assert on_terminal(b"y\n", "dlq", "purge", "emails_dead") == 0
    assert app.count("emails_dead") == 0
