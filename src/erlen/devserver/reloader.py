"""erlen's reloader for the ASGI development server.

Neither uvicorn's nor hypercorn's reloader can restart an app object built in a script or by a
factory (both re-import an ``"module:app"`` string). A supervising process binds the socket once
and runs the same command line again (``sys.orig_argv``) as a child that serves on that socket;
the child polls the modification times of its loaded modules (:class:`FileWatcher`) and, on a
change, stops its server gracefully and exits with :data:`RESTART_CODE`, so the supervisor
starts a new child. Connections that arrive meanwhile wait in the socket's backlog.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
from collections.abc import Iterable

#: Set (to ``"1"``) in the child process that a reloading supervisor runs.
RELOADER_ENV = "ERLEN_RUN_MAIN"
#: The listening socket's file descriptor, handed by the supervisor to its child.
SOCKET_ENV = "ERLEN_SERVER_FD"
#: The exit code with which a child asks its supervisor for a restart.
RESTART_CODE = 3
#: How long a stopping supervisor waits for its child before killing it.
STOP_TIMEOUT = 10.0
#: After a SIGINT, how long the supervisor leaves its child to the terminal's own SIGINT before
#: sending SIGTERM (for a SIGINT that reached the supervisor alone).
SIGINT_GRACE = 0.5


def is_running_from_reloader() -> bool:
    """Whether this process is the child of a reloader (erlen's or werkzeug's)."""
    return os.environ.get(RELOADER_ENV) == "1" or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host`` and ``port``; exits with one line when it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise SystemExit(f"erlen: cannot listen on {host}:{port}: {error.strerror}") from None


def announce(sock: socket.socket, scheme: str) -> None:
    """Say where the server listens."""
    host, port = sock.getsockname()[:2]
    address = f"[{host}]" if ":" in host else host
    print(
        f" * Running on {scheme}://{address}:{port} (ASGI, uvicorn; press CTRL+C to quit)",
        file=sys.stderr,
        flush=True,
    )


def inherited_socket() -> socket.socket | None:
    """The supervisor's listening socket, in its child; else ``None``."""
    fd = os.environ.get(SOCKET_ENV)
    if not fd or not is_running_from_reloader():
        return None
    return socket.socket(fileno=int(fd))


def supervise(host: str, port: int, interval: float, scheme: str) -> None:
    """Run this command again as a child serving on one socket, until it exits other than
    to restart; SIGINT and SIGTERM stop the child (by SIGTERM) and return."""
    sock = bind(host, port)
    announce(sock, scheme)
    sock.set_inheritable(True)
    env = {**os.environ, RELOADER_ENV: "1", SOCKET_ENV: str(sock.fileno())}
    command = [sys.executable, *sys.orig_argv[1:]]
    state: dict[str, t.Any] = {"child": None, "stopping": None, "terminated": False}

    def stop(signum: int, frame: t.Any) -> None:
        # SIGTERM, not SIGINT: the terminal's Ctrl-C reaches the child too, and uvicorn takes
        # a second SIGINT as "exit now", skipping the lifespan shutdown. After a SIGINT, not at
        # once: uvicorn takes a SIGINT that comes after a SIGTERM as that second one too, so
        # the terminal's must arrive first (_wait sends SIGTERM once the grace is over).
        state["stopping"] = state["stopping"] or time.monotonic()
        if signum != signal.SIGINT:
            _terminate(state)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f" * Restarting with erlen's reloader (every {interval:g}s)", file=sys.stderr)
    try:
        while True:
            child = state["child"] = subprocess.Popen(command, env=env, pass_fds=(sock.fileno(),))
            state["terminated"] = False
            code = _wait(child, state)
            if code != RESTART_CODE or state["stopping"]:
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if not state["stopping"] and code != 0:
        raise SystemExit(code)


def _terminate(state: dict[str, t.Any]) -> None:
    child = state["child"]
    if child is not None and child.poll() is None and not state["terminated"]:
        state["terminated"] = True
        child.send_signal(signal.SIGTERM)


def _wait(child: subprocess.Popen[bytes], state: dict[str, t.Any]) -> int:
    while True:
        try:
            return child.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            stopping = state["stopping"]
            if stopping and time.monotonic() - stopping > SIGINT_GRACE:
                _terminate(state)
            if stopping and time.monotonic() - stopping > STOP_TIMEOUT:
                child.kill()


class FileWatcher(threading.Thread):
    """Polls the modification times of the loaded modules' files (and ``extra_files``) every
    ``interval`` seconds; on a change, sets :attr:`changed` and calls :attr:`on_change`."""

    def __init__(
        self, extra_files: Iterable[str], exclude_patterns: Iterable[str], interval: float
    ) -> None:
        super().__init__(name="erlen-reloader", daemon=True)
        self.extra_files = [os.path.abspath(path) for path in extra_files]
        self.exclude_patterns = list(exclude_patterns)
        self.interval = interval
        self.changed = False
        self.on_change: t.Callable[[], None] = lambda: None
        self._mtimes: dict[str, float] = {}

    def files(self) -> set[str]:
        """The files to watch: loaded modules' sources, the extra files, less the excluded."""
        found = set(self.extra_files)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                found.add(os.path.abspath(path))
        return {
            path
            for path in found
            if not any(fnmatch.fnmatch(path, pattern) for pattern in self.exclude_patterns)
        }

    def check(self) -> str | None:
        """Record the current modification times; return a file changed since the last call
        (files seen for the first time only start being watched)."""
        changed = None
        for path in self.files():
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            known = self._mtimes.setdefault(path, mtime)
            if known != mtime:
                self._mtimes[path] = mtime
                changed = changed or path
        return changed

    def run(self) -> None:
        self.check()
        while True:
            time.sleep(self.interval)
            path = self.check()
            if path is not None:
                print(f" * Detected change in {path!r}, reloading", file=sys.stderr, flush=True)
                self.changed = True
                self.on_change()
                return
