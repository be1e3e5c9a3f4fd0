"""A loopback TCP proxy that can be switched off: it then resets every connection."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


def _reset(sock: socket.socket) -> None:
    """Drop a connection at once, with an RST where the kernel can send one.

    ``shutdown`` first: it wakes a thread blocked in ``recv`` on the socket, which ``close``
    alone does not do.
    """
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class FlakyProxy:
    """Forwards 127.0.0.1:<port> to an upstream address until :meth:`go_down` is called."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._down = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.refused = 0
        self._thread = threading.Thread(target=self._accept_loop, name="flaky-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The proxy's URL, to use as an endpoint."""
        return f"http://127.0.0.1:{self.port}"

    def go_down(self) -> None:
        """Reset every open connection, and every new one until :meth:`come_up`."""
        with self._lock:
            self._down.set()
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _reset(sock)

    def come_up(self) -> None:
        """Forward connections again."""
        self._down.clear()

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._closed.set()
        self.go_down()
        self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> FlakyProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down.is_set():
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                # Checked again under the lock: an outage that began after the first check
                # would otherwise miss this connection, which would forward through it.
                down = self._down.is_set()
                if not down:
                    self._sockets.update((client, upstream))
            if down:
                self.refused += 1
                _reset(client)
                _reset(upstream)
                continue
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(src)
                self._sockets.discard(dst)
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
