"""The development server of ``app.run()`` and ``erlen run``: werkzeug for plain apps, uvicorn
(erlen's reloader around it) for apps with WebSocket routes.

Servers run as subprocesses on 127.0.0.1 in a session (process group) of their own, so the
reloader's supervisor and its child are stopped together, by PID: SIGTERM or SIGINT, a bounded
wait, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from erlen import Erlen
from erlen.devserver import (
    INSTALL_HINT,
    FileWatcher,
    has_websocket_routes,
    is_loopback,
    run_asgi,
    run_server,
    wants_asgi,
)

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
#: Longest wait for a server to answer its first request, and for a reload to show.
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

WS_APP = """
    import sys
    from erlen import Erlen, websocket

    app = Erlen(__name__)
    state = {}

    @app.before_serving
    def started():
        state["lifespan"] = "started"

    @app.after_serving
    def stopped():
        print("after_serving ran", flush=True)

    @app.get("/")
    def index():
        return "VERSION " + state.get("lifespan", "not started")

    @app.get("/boom")
    def boom():
        return 1 / 0

    @app.websocket("/ws")
    async def echo():
        await websocket.accept()
        while True:
            await websocket.send("echo " + await websocket.receive())

    if __name__ == "__main__":
        app.run(port=int(sys.argv[1]), **eval(sys.argv[2]))
"""

PLAIN_APP = """
    import sys
    from erlen import Erlen

    app = Erlen(__name__)

    @app.get("/")
    def index():
        return "plain"

    if __name__ == "__main__":
        app.run(port=int(sys.argv[1]), **eval(sys.argv[2]))
"""


@pytest.fixture(autouse=True)
def no_erlen_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [key for key in os.environ if key.startswith(("ERLEN_", "WERKZEUG_"))]:
        monkeypatch.delenv(key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


class Server:
    """A server subprocess; its output goes to a file (a pipe could fill up and block it)."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.log = cwd / f"server-{time.monotonic_ns()}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, url: str, deadline: float) -> tuple[int, str, dict[str, str]]:
        """GET ``url``, retrying while the server is not up yet, until ``deadline``."""
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status, response.read().decode(), dict(response.headers)
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode(), dict(error.headers)
            except OSError:
                assert self.process.poll() is None, f"the server exited:\n{self.output}"
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` to the server's process group; SIGKILL it if it has not exited in time.
        Returns the exit code of the started process."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)
            raise AssertionError(
                f"the server did not stop on signal {sig}:\n{self.output}"
            ) from None
        finally:
            with contextlib.suppress(ProcessLookupError):  # a reloader's child left behind
                os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def serving(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    server = Server(command, cwd, env)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def run_script(folder: Path, source: str, port: int, **options: object) -> list[str]:
    script = write(folder, "served.py", source)
    return [sys.executable, str(script), str(port), repr(options)]


def websocket_echo(port: int, text: str) -> str:
    with connect(f"ws://{HOST}:{port}/ws", open_timeout=5, close_timeout=2) as ws:
        ws.send(text)
        return str(ws.recv(timeout=5))


# --- which server ------------------------------------------------------------------------------


def test_plain_app_runs_on_werkzeug(tmp_path: Path) -> None:
    port = free_port()
    with serving(run_script(tmp_path, PLAIN_APP, port), tmp_path) as server:
        status, body, headers = server.get(f"http://{HOST}:{port}/", time.monotonic() + 15)
    assert (status, body) == (200, "plain")
    assert headers["Server"].startswith("Werkzeug/")


def test_plain_app_runs_on_uvicorn_with_erlen_run_asgi(tmp_path: Path) -> None:
    port = free_port()
    command = run_script(tmp_path, PLAIN_APP, port)
    with serving(command, tmp_path, {"ERLEN_RUN_ASGI": "1"}) as server:
        status, body, headers = server.get(f"http://{HOST}:{port}/", time.monotonic() + 15)
    assert (status, body) == (200, "plain")
    assert headers["server"] == "uvicorn"


def test_websocket_app_serves_http_and_websocket_with_lifespan(tmp_path: Path) -> None:
    port = free_port()
    with serving(run_script(tmp_path, WS_APP, port), tmp_path) as server:
        status, body, headers = server.get(f"http://{HOST}:{port}/", time.monotonic() + 15)
        assert (status, body) == (200, "VERSION started")  # before_serving ran: lifespan on
        assert headers["server"] == "uvicorn"
        assert websocket_echo(port, "hello") == "echo hello"
        assert server.stop(signal.SIGINT) == 0  # Ctrl-C: a clean stop, run() returns
    assert f"Running on http://{HOST}:{port}" in server.output
    assert "after_serving ran" in server.output


def test_debug_mode_shows_the_traceback_without_reloader(tmp_path: Path) -> None:
    port = free_port()
    command = run_script(tmp_path, WS_APP, port, debug=True, use_reloader=False)
    with serving(command, tmp_path) as server:
        status, body, headers = server.get(f"http://{HOST}:{port}/boom", time.monotonic() + 15)
        assert status == 500
        assert headers["content-type"].startswith("text/plain")
        assert body.startswith("500 Internal Server Error")
        assert "ZeroDivisionError: division by zero" in body
        assert "Restarting with" not in server.output
    assert "Exception on /boom [GET]" in server.output
    assert "ZeroDivisionError: division by zero" in server.output


def test_missing_server_library_exits_with_one_line(tmp_path: Path) -> None:
    script = write(tmp_path, "served.py", WS_APP)
    code = (
        "import sys, runpy; sys.modules['uvicorn'] = None; sys.argv = ['served.py', '1', '{}'];"
        f" runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert result.stderr.strip() == INSTALL_HINT
    assert "pip install 'erlen[server]'" in INSTALL_HINT


# --- reload ------------------------------------------------------------------------------------


def test_a_sigint_to_the_supervisor_alone_stops_the_child_through_the_lifespan(
    tmp_path: Path,
) -> None:
    """Ctrl-C reaches the whole process group; a SIGINT sent to the supervisor alone must stop
    the child too: it gets SIGTERM after a grace (which leaves the terminal's SIGINT to arrive
    first), and shuts down through the lifespan."""
    port = free_port()
    command = run_script(tmp_path, WS_APP, port, debug=True, reloader_interval=0.2)
    with serving(command, tmp_path) as server:
        assert server.get(f"http://{HOST}:{port}/", time.monotonic() + 15)[1] == "VERSION started"
        os.kill(server.process.pid, signal.SIGINT)  # not the group
        assert server.process.wait(timeout=STARTUP_TIMEOUT) == 0
    assert server.output.count("after_serving ran") == 1


def test_reload_serves_the_changed_source(tmp_path: Path) -> None:
    port = free_port()
    command = run_script(tmp_path, WS_APP, port, debug=True, reloader_interval=0.2)
    script = tmp_path / "served.py"
    url = f"http://{HOST}:{port}/"
    with serving(command, tmp_path) as server:
        assert server.get(url, time.monotonic() + 15)[1] == "VERSION started"
        assert websocket_echo(port, "one") == "echo one"
        script.write_text(script.read_text().replace('"VERSION "', '"CHANGED "'))
        later = time.time() + 2  # a new mtime even on coarse-grained file systems
        os.utime(script, (later, later))
        deadline = time.monotonic() + STARTUP_TIMEOUT
        body = ""
        while body != "CHANGED started" and time.monotonic() < deadline:
            body = server.get(url, deadline)[1]
            time.sleep(0.1)
        assert body == "CHANGED started"
        assert websocket_echo(port, "two") == "echo two"  # the new child serves WebSockets
        assert server.stop(signal.SIGINT) == 0
    output = server.output
    assert "Restarting with erlen's reloader" in output
    assert f"Detected change in {str(script)!r}" in output
    assert output.count("after_serving ran") == 2  # each child shut down through the lifespan


# --- erlen run ---------------------------------------------------------------------------------


def test_erlen_run_serves_websockets(tmp_path: Path) -> None:
    write(tmp_path, "wsapp.py", WS_APP)
    port = free_port()
    command = [str(BIN / "erlen"), "--app", "wsapp", "run", "--port", str(port), "--debug"]
    with serving(command, tmp_path) as server:
        status, body, headers = server.get(f"http://{HOST}:{port}/", time.monotonic() + 15)
        assert (status, body) == (200, "VERSION started")
        assert headers["server"] == "uvicorn"
        assert websocket_echo(port, "cli") == "echo cli"
        assert server.stop(signal.SIGINT) == 0
    output = server.output
    assert output.count(" * Serving erlen app 'wsapp'") == 1  # not again in the reloaded child
    assert "Restarting with erlen's reloader" in output


# --- in-process --------------------------------------------------------------------------------


def test_wants_asgi(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Erlen("plain")
    assert not has_websocket_routes(app)
    assert not wants_asgi(app)
    assert wants_asgi(app, asgi=True)
    monkeypatch.setenv("ERLEN_RUN_ASGI", "1")
    assert wants_asgi(app)
    assert not wants_asgi(app, asgi=False)
    monkeypatch.setenv("ERLEN_RUN_ASGI", "0")
    assert not wants_asgi(app)

    @app.websocket("/ws")
    async def ws() -> None:
        pass

    assert has_websocket_routes(app)
    assert not wants_asgi(app)  # ERLEN_RUN_ASGI=0 still wins
    monkeypatch.delenv("ERLEN_RUN_ASGI")
    assert wants_asgi(app)


def test_run_asgi_refuses_unknown_options_and_ssl_contexts() -> None:
    app = Erlen("plain")
    with pytest.raises(TypeError, match="static_files"):
        run_asgi(app, HOST, 0, static_files={})
    with pytest.raises(SystemExit, match="certificate file, key file"):
        run_asgi(app, HOST, 0, ssl_context="adhoc", threaded=True)


def test_file_watcher_reports_a_changed_file(tmp_path: Path) -> None:
    watched = tmp_path / "watched.txt"
    ignored = tmp_path / "ignored.log"
    for path in (watched, ignored):
        path.write_text("1")
    watcher = FileWatcher([str(watched), str(ignored)], ["*.log"], interval=0.1)
    assert str(watched) in watcher.files()
    assert str(ignored) not in watcher.files()
    assert watcher.check() is None
    later = time.time() + 5
    os.utime(ignored, (later, later))
    assert watcher.check() is None
    os.utime(watched, (later, later))
    assert watcher.check() == str(watched)
    assert watcher.check() is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_debugger_refused_on_a_public_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ERLEN_DEBUGGER_ALLOW_REMOTE", raising=False)
    app = Erlen(__name__)
    refused = r"refusing to serve the interactive debugger on 0\.0\.0\.0"
    with pytest.raises(SystemExit, match=refused):
        run_server(app, "0.0.0.0", 5999, use_debugger=True)
