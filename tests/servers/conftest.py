"""Real servers, started once per session as subprocesses on 127.0.0.1.

The ``server`` fixture is parametrized over the servers below; pytest groups the tests by
parameter, so each server process is started once and stopped (by PID) before the next starts.

What each server is given, and why:

- gunicorn (sync worker): ``tests.servers.app_under_test:app``; it calls
  ``app(environ, start_response)`` (WSGI).
- uvicorn: ``tests.servers.app_under_test:app``; with ``--interface auto`` uvicorn sees that
  ``type(app).__call__`` is not a coroutine function and picks ASGI 2: it calls ``app(scope)``
  and awaits ``instance(receive, send)``, which erlen supports.
- hypercorn: ``asgi:tests.servers.app_under_test:app``. Without the ``asgi:`` mode prefix
  hypercorn's ``is_asgi`` sees a sync ``__call__`` and serves the object as WSGI.
- granian: ``--interface asgi`` or ``--interface wsgi`` with
  ``tests.servers.app_under_test:app``; granian calls the object the way the flag says.
- werkzeug's development server: ``run_simple(host, port, app, threaded=True)`` (WSGI).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_PATH = "tests.servers.app_under_test:app"
HOST = "127.0.0.1"
#: Longest wait for a server to accept connections and answer its first request.
STARTUP_TIMEOUT = 20.0
POLL_INTERVAL = 0.05
#: Longest wait for a server to exit after SIGTERM (then SIGKILL).
STOP_TIMEOUT = 10.0


def _gunicorn(port: int, app: str, workers: int) -> list[str]:
    return [
        *("-m", "gunicorn", "--bind", f"{HOST}:{port}"),
        *("--workers", str(workers), "--worker-class", "sync", "--timeout", "30"),
        *("--graceful-timeout", "2", "--log-level", "warning"),
        app,
    ]


def _uvicorn(port: int, app: str, workers: int) -> list[str]:
    return [
        *("-m", "uvicorn", "--host", HOST, "--port", str(port)),
        *("--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2"),
        *(("--workers", str(workers)) if workers > 1 else ()),
        app,
    ]


def _hypercorn(port: int, app: str, workers: int) -> list[str]:
    return [
        *("-m", "hypercorn", "--bind", f"{HOST}:{port}", "--workers", str(workers)),
        *("--log-level", "WARNING", "--graceful-timeout", "2"),
        f"asgi:{app}",
    ]


def _granian(interface: str) -> Callable[[int, str, int], list[str]]:
    def command(port: int, app: str, workers: int) -> list[str]:
        return [
            *("-m", "granian", "--interface", interface, "--host", HOST, "--port", str(port)),
            *("--workers", str(workers), "--log-level", "warning"),
            # WebSockets only under ASGI (tests/servers/test_async_servers.py uses them).
            *(("--no-ws",) if interface == "wsgi" else ()),
            app,
        ]

    return command


def _werkzeug(port: int, app: str, workers: int) -> list[str]:
    module, _, name = app.partition(":")
    code = (
        "import sys; from werkzeug.serving import run_simple;"
        f" from {module} import {name} as app;"
        " run_simple(sys.argv[1], int(sys.argv[2]), app, threaded=True)"
    )
    return ["-c", code, HOST, str(port)]


#: Server name -> (module that must be importable, command-line arguments after ``python``).
SERVERS: dict[str, tuple[str, Callable[[int, str, int], list[str]]]] = {
    "gunicorn": ("gunicorn", _gunicorn),
    "uvicorn": ("uvicorn", _uvicorn),
    "hypercorn": ("hypercorn", _hypercorn),
    "granian-asgi": ("granian", _granian("asgi")),
    "granian-wsgi": ("granian", _granian("wsgi")),
    "werkzeug": ("werkzeug", _werkzeug),
}
WSGI_SERVERS = frozenset({"gunicorn", "granian-wsgi", "werkzeug"})


@dataclasses.dataclass(frozen=True)
class RunningServer:
    """A server process serving the test app."""

    name: str
    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def interface(self) -> str:
        return "wsgi" if self.name in WSGI_SERVERS else "asgi"

    def log(self) -> str:
        """What the server wrote to stdout and stderr so far (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def free_port() -> int:
    """A port that was free a moment ago (the OS picks it for a socket bound to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _module_available(module: str) -> bool:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0


def _answers(host: str, port: int, timeout: float) -> bool:
    """Whether the server answers a GET / (its worker is up, not only the socket); the status
    is left to the tests, so that a broken app fails them rather than the startup."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        return 100 <= response.status < 600
    except OSError:
        return False
    finally:
        connection.close()


def _wait_until_ready(process: subprocess.Popen[bytes], server: RunningServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    attempts = int(STARTUP_TIMEOUT / POLL_INTERVAL) + 1
    for _ in range(attempts):
        if process.poll() is not None:
            pytest.fail(
                f"{server.name} exited with code {process.returncode} during startup:\n"
                f"{server.log()}"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            with socket.create_connection((server.host, server.port), timeout=min(1.0, remaining)):
                pass
        except OSError:
            time.sleep(POLL_INTERVAL)
            continue
        if _answers(server.host, server.port, timeout=max(0.1, deadline - time.monotonic())):
            return
        time.sleep(POLL_INTERVAL)
    pytest.fail(f"{server.name} did not answer within {STARTUP_TIMEOUT} s:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server by its PID: SIGTERM, wait, then SIGKILL (its process group, so that
    workers forked by the server go too)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def run_server(
    name: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    app: str = APP_PATH,
    workers: int = 1,
) -> Iterator[RunningServer]:
    """Start server ``name`` on a free port, serving ``app`` (``module:name``) with ``workers``
    worker processes, wait until it answers, and stop it (by PID, its workers with it) on
    leaving; ``extra_env`` is added to the server's environment."""
    _module, command = SERVERS[name]
    port = free_port()
    running = RunningServer(name, HOST, port, log_path)
    python_path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(python_path), "PYTHONUNBUFFERED": "1"}
    env.update(extra_env or {})
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *command(port, app, workers)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(process, running)
        yield running
    finally:
        _stop(process)


def skip_unless_installed(name: str) -> None:
    """Skip the test when the package that runs server ``name`` is not installed."""
    module = SERVERS[name][0]
    if not _module_available(module):
        pytest.skip(f"{name}: the {module!r} package is not installed in {sys.executable}")


@pytest.fixture(scope="session", params=list(SERVERS))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A real server serving ``tests/servers/app_under_test.py`` on 127.0.0.1."""
    name = str(request.param)
    skip_unless_installed(name)
    log_path = tmp_path_factory.mktemp("servers") / f"{name}.log"
    with run_server(name, log_path) as running:
        yield running
