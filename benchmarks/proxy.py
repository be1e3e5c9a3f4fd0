"""A TCP proxy on 127.0.0.1 that adds a fixed latency to every request.

Each chunk read from the client is forwarded to the server ``latency`` seconds after it
arrived; the response direction is not delayed. A chunk that starts an HTTP request is
therefore held back by the latency, and a request split over several chunks is held back
once, not once per chunk, because every chunk keeps its own due time (a per-connection FIFO
of ``(due, data)`` pairs drained by a writer task). Each request thus pays one extra
``latency`` on its round trip, as a call to SQS from inside AWS pays about 20 ms. Opening a
connection is not delayed: with HTTP keep-alive a client opens each pooled connection once.

Every accepted connection gets its own upstream connection, so keep-alive and any number
of connections in parallel work as they would against the server itself.

The proxy runs in a process of its own by default (:class:`ProxyProcess`), so that its CPU
time is not charged to the client being measured; :class:`ProxyThread` runs it in a thread
of the calling process instead (its CPU then shows up in the client's).

Run standalone: ``python -m benchmarks.proxy --upstream 127.0.0.1:PORT --latency-ms 20``
prints ``LISTENING <port>`` and serves until stdin closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from types import TracebackType

from benchmarks.server import process_cpu_seconds

CHUNK = 256 * 1024


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _pipe_delayed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    loop = asyncio.get_running_loop()
    pending: deque[tuple[float, bytes | None]] = deque()  # (due, data); None marks EOF
    wakeup = asyncio.Event()

    async def send() -> None:
        while True:
            while not pending:
                wakeup.clear()
                await wakeup.wait()
            wait = pending[0][0] - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            now = loop.time()
            out: list[bytes] = []
            eof = False
            while pending and pending[0][0] <= now:
                data = pending.popleft()[1]
                if data is None:
                    eof = True
                    break
                out.append(data)
            if out:
                writer.write(b"".join(out))
                await writer.drain()
            if eof:
                return

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(CHUNK):
            pending.append((loop.time() + delay, data))
            wakeup.set()
        pending.append((loop.time() + delay, None))
        wakeup.set()
        await sender
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(Exception):
            writer.close()


async def serve(
    upstream_host: str,
    upstream_port: int,
    latency: float,
    ready: asyncio.Future[int] | None = None,
    listen_port: int = 0,
) -> None:
    """Accept on 127.0.0.1 and forward to ``upstream``, forever (until cancelled)."""

    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        # A connection handler must not end cancelled: asyncio's stream callback would log
        # the CancelledError as an error when the proxy shuts down with connections open.
        with contextlib.suppress(asyncio.CancelledError):
            _nodelay(c_writer)
            try:
                u_reader, u_writer = await asyncio.open_connection(upstream_host, upstream_port)
            except OSError:
                c_writer.close()
                return
            _nodelay(u_writer)
            upstream = (
                _pipe_delayed(c_reader, u_writer, latency)
                if latency > 0
                else _pipe(c_reader, u_writer)
            )
            await asyncio.gather(upstream, _pipe(u_reader, c_writer), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, backlog=1024)
    port = int(server.sockets[0].getsockname()[1])
    if ready is not None:
        ready.set_result(port)
    async with server:
        await server.serve_forever()


def _split(upstream: str) -> tuple[str, int]:
    host, _, port = upstream.rpartition(":")
    host = host.removeprefix("http://")
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError(f"the proxy forwards to 127.0.0.1 only, not {host!r}")
    return "127.0.0.1", int(port)


class ProxyThread:
    """The proxy on an event loop in a daemon thread of this process."""

    mode = "thread"

    def __init__(self, upstream: str, latency_ms: float) -> None:
        self.upstream = _split(upstream)
        self.latency_ms = latency_ms
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        return float("nan")  # shares the client's process: included in the client's CPU

    def start(self) -> ProxyThread:
        started = threading.Event()
        ports: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            ready: asyncio.Future[int] = loop.create_future()

            def on_ready(fut: asyncio.Future[int]) -> None:
                ports.append(fut.result())
                started.set()

            ready.add_done_callback(on_ready)
            self._task = loop.create_task(
                serve(*self.upstream, self.latency_ms / 1000.0, ready=ready)
            )
            try:
                loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                pass
            except BaseException as exc:
                errors.append(exc)
                started.set()
            finally:
                # Let the connection handlers finish before the loop closes under them.
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="latency-proxy", daemon=True)
        self._thread.start()
        if not started.wait(10) or errors or not ports:
            raise RuntimeError(f"proxy failed to start: {errors[:1]!r}")
        self.port = ports[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(5)
        self._thread = None

    def __enter__(self) -> ProxyThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ProxyProcess:
    """The proxy in a child process (``python -m benchmarks.proxy``); stopped by PID."""

    mode = "process"

    def __init__(self, upstream: str, latency_ms: float) -> None:
        self.upstream = upstream
        self.latency_ms = latency_ms
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid) if self.proc is not None else float("nan")

    def start(self) -> ProxyProcess:
        _split(self.upstream)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.proxy",
                "--upstream",
                self.upstream,
                "--latency-ms",
                str(self.latency_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"proxy failed to start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def __enter__(self) -> ProxyProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def make_proxy(mode: str, upstream: str, latency_ms: float) -> ProxyThread | ProxyProcess:
    if mode == "thread":
        return ProxyThread(upstream, latency_ms)
    if mode == "process":
        return ProxyProcess(upstream, latency_ms)
    raise ValueError(f"unknown proxy mode {mode!r}: use 'process' or 'thread'")


async def _main_async(upstream: str, latency_ms: float, port: int) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    server = asyncio.create_task(serve(*_split(upstream), latency_ms / 1000.0, ready, port))
    print(f"LISTENING {await ready}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # Stop as well when the parent goes away and our stdin closes.
    loop.add_reader(sys.stdin.fileno(), lambda: None if sys.stdin.read(1) else stop.set())
    await stop.wait()
    server.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="127.0.0.1:PORT of the SQS server")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    args = parser.parse_args(argv)
    asyncio.run(_main_async(args.upstream, args.latency_ms, args.port))


if __name__ == "__main__":
    main()
