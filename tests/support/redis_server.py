"""A real Redis for the tests: Debian's ``redis-server`` on 127.0.0.1, a free port and a
temporary folder, stopped by its PID."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
#: No snapshots; an append-only file written at once, so data survives a restart.
OPTIONS = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; ``stop()`` and ``start()`` again keep the port and the folder
    (with an append-only file, so its data survives a restart)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                *OPTIONS,
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def installed() -> bool:
    """Whether Debian's redis-server is here (``make test`` installs it)."""
    return shutil.which("redis-server") is not None or Path("/usr/bin/redis-server").exists()


@contextlib.contextmanager
def running_redis(folder: Path) -> Iterator[RedisServer]:
    """A started :class:`RedisServer` in ``folder``, stopped on leaving."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
