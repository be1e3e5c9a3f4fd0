"""The outage proxy itself: once it is down, no connection forwards, whenever it was opened."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from . import proxy as proxy_module
from .proxy import FlakyProxy


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def _forwards(port: int) -> bool:
    """Whether a message sent through the proxy comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        try:
            client.sendall(b"ping")
            return client.recv(1024) == b"ping"
        except OSError:
            return False


def test_a_connection_accepted_while_the_proxy_goes_down_is_reset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = _echo_server()
    upstream_port = server.getsockname()[1]
    try:
        with FlakyProxy("127.0.0.1", upstream_port) as flaky:
            assert _forwards(flaky.port)
            connect = socket.create_connection

            def connect_as_it_goes_down(*args: Any, **kwargs: Any) -> socket.socket:
                # The outage begins between the accept and the connection upstream.
                flaky.go_down()
                return connect(*args, **kwargs)

            monkeypatch.setattr(proxy_module.socket, "create_connection", connect_as_it_goes_down)
            refused = flaky.refused
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
                client.settimeout(5)
                client.connect(("127.0.0.1", flaky.port))
                try:
                    client.sendall(b"ping")
                    answer = client.recv(1024)
                except OSError:
                    answer = b""
            monkeypatch.undo()
            assert answer == b""
            assert flaky.refused == refused + 1
            flaky.come_up()
            assert _forwards(flaky.port)
    finally:
        server.close()
