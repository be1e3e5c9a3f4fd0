"""An SQS server in a process of its own, on 127.0.0.1, for the benchmarks.

The default server is ministack (fast, shallow per-request cost). It pins an older botocore,
so it lives in a virtual environment of its own, ``benchmarks/.ministack-venv``, created on
first use. ``kind="moto"`` starts moto's ``ThreadedMotoServer`` in a child process instead;
moto's cost per request grows with queue depth, so its numbers are not comparable.

The server runs in a separate process so that the CPU time measured for a workload is the
client's only. It is stopped by its PID when the context manager exits or at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
MINISTACK_VERSION = "1.5.33"
MINISTACK_VENV = HERE / ".ministack-venv"
REGION = "us-east-1"

MOTO_NOTE = (
    "moto's cost per request grows with queue depth: its numbers are not comparable "
    "with ministack's, and deep queues slow it down sharply"
)

_MOTO_SCRIPT = """
import signal, sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
server.stop()
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def set_fake_credentials() -> None:
    """Fake credentials and region, and no instance-metadata look-ups, for every client."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def ensure_ministack(venv_dir: Path = MINISTACK_VENV) -> Path:
    """Path of the ``ministack`` executable, installing it into ``venv_dir`` if needed."""
    exe = venv_dir / "bin" / "ministack"
    marker = venv_dir / f".installed-ministack-{MINISTACK_VERSION}"
    if exe.exists() and marker.exists():
        return exe
    print(f"[server] installing ministack=={MINISTACK_VERSION} into {venv_dir} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
    subprocess.run(
        [
            str(venv_dir / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"ministack=={MINISTACK_VERSION}",
        ],
        check=True,
    )
    marker.touch()
    return exe


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (Linux ``/proc``), or NaN."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            stat = f.read()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def wait_for_sqs(
    endpoint_url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll ``endpoint_url`` with a real ``ListQueues`` until it answers."""
    client = boto3.session.Session().client(
        "sqs",
        endpoint_url=endpoint_url,
        region_name=REGION,
        config=Config(
            connect_timeout=1, read_timeout=2, retries={"max_attempts": 1, "mode": "standard"}
        ),
    )
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"SQS server exited early with code {proc.returncode}")
        try:
            client.list_queues()
        except Exception as exc:  # connection refused, not ready yet
            last_error = exc
            time.sleep(0.05)
        else:
            return
    raise TimeoutError(f"SQS server at {endpoint_url} did not answer in {timeout}s: {last_error}")


class SQSServer:
    """An SQS server process on 127.0.0.1; use as a context manager."""

    def __init__(self, kind: str = "ministack") -> None:
        if kind not in ("ministack", "moto"):
            raise ValueError(f"unknown server kind {kind!r}: use 'ministack' or 'moto'")
        self.kind = kind
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.version = MINISTACK_VERSION if kind == "ministack" else _moto_version()
        self.note = MOTO_NOTE if kind == "moto" else ""

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid) if self.proc is not None else float("nan")

    def start(self) -> SQSServer:
        self.port = free_port()
        fd, log = tempfile.mkstemp(prefix=f"bench-{self.kind}-{self.port}-", suffix=".log")
        self.log_path = Path(log)
        if self.kind == "ministack":
            exe = ensure_ministack()
            env = {
                **os.environ,
                "BIND_HOST": "127.0.0.1",
                "GATEWAY_PORT": str(self.port),
                "SERVICES": "sqs",
                "LOG_LEVEL": "WARNING",
                "MINISTACK_HOST": "127.0.0.1",
            }
            cmd = [str(exe)]
        else:
            env = dict(os.environ)
            cmd = [sys.executable, "-c", _MOTO_SCRIPT, str(self.port)]
        with os.fdopen(fd, "wb") as log_file:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        atexit.register(self.stop)
        try:
            wait_for_sqs(self.endpoint_url, proc=self.proc)
        except Exception:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"{self.kind} did not start; log tail:\n{tail}") from None
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> SQSServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _moto_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("moto")
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    set_fake_credentials()
    kind = sys.argv[1] if len(sys.argv) > 1 else "ministack"
    with SQSServer(kind) as srv:
        print(
            f"{kind} listening at {srv.endpoint_url} (pid {srv.pid}); Ctrl-C stops it", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
