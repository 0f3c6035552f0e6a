"""The development server behind ``app.run()`` and ``erlen run``.

An app without WebSocket routes runs on werkzeug's server (with its interactive debugger in
debug mode). An app with WebSocket routes, or ``asgi=True`` / ``ERLEN_RUN_ASGI=1``, runs as
ASGI (``app.asgi_app``) on uvicorn, with lifespan on; uvicorn is not a dependency of erlen:
``pip install 'erlen[server]'`` installs it with wsproto, both pure Python.

Reloading under ASGI is erlen's own: neither uvicorn's nor hypercorn's reloader can restart an
app object built in a script or by a factory (both re-import an ``"module:app"`` string). A
supervising process binds the socket once and runs the same command line again
(``sys.orig_argv``) as a child that serves on that socket; the child polls the modification
times of its loaded modules and, on a change, stops its server gracefully and exits with
:data:`RESTART_CODE`, so the supervisor starts a new child. Connections that arrive meanwhile
wait in the socket's backlog.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib.util
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import typing as t
from collections.abc import Iterable

from .sessions import check_secret_key_for_serving

if t.TYPE_CHECKING:
    from .app import Erlen
    from .typing import Message, Receive, Scope, Send

#: Set (to ``"1"``) in the child process that a reloading supervisor runs.
RELOADER_ENV = "ERLEN_RUN_MAIN"
#: The listening socket's file descriptor, handed by the supervisor to its child.
SOCKET_ENV = "ERLEN_SERVER_FD"
#: The exit code with which a child asks its supervisor for a restart.
RESTART_CODE = 3
INSTALL_HINT = (
    "erlen: serving this app needs an ASGI server for development: pip install 'erlen[server]'"
)
#: werkzeug-only options of ``app.run()`` that mean nothing to the ASGI server (sync views
#: already run in erlen's worker threads; the debugger is WSGI middleware).
WERKZEUG_ONLY_OPTIONS = frozenset(
    {"threaded", "processes", "use_debugger", "use_evalex", "passthrough_errors", "reloader_type"}
)
#: How long a stopping supervisor waits for its child before killing it.
STOP_TIMEOUT = 10.0


def is_running_from_reloader() -> bool:
    """Whether this process is the child of a reloader (erlen's or werkzeug's)."""
    return os.environ.get(RELOADER_ENV) == "1" or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def has_websocket_routes(app: Erlen) -> bool:
    """Whether any URL rule of ``app`` (or of its blueprints) is a WebSocket route."""
    return any(rule.websocket for rule in app.url_map.iter_rules())


def wants_asgi(app: Erlen, asgi: bool | None = None) -> bool:
    """Whether to serve ``app`` as ASGI: ``asgi`` if given, else ``ERLEN_RUN_ASGI`` if set,
    else whether the app has WebSocket routes."""
    if asgi is None and os.environ.get("ERLEN_RUN_ASGI"):
        asgi = os.environ["ERLEN_RUN_ASGI"].lower() not in ("0", "false", "no")
    return has_websocket_routes(app) if asgi is None else asgi


def run_server(
    app: Erlen, host: str, port: int, *, asgi: bool | None = None, **options: t.Any
) -> None:
    """Serve ``app`` for development: werkzeug's ``run_simple`` (``options`` are its own), or
    :func:`run_asgi` when :func:`wants_asgi` says so.

    The interactive debugger runs any code a visitor types, so it is refused on an address other
    than loopback unless ``allow_remote_debugger=True`` (or ``ERLEN_DEBUGGER_ALLOW_REMOTE=1``).
    """
    allow_remote = options.pop("allow_remote_debugger", None)
    if allow_remote is None:
        allow_remote = os.environ.get("ERLEN_DEBUGGER_ALLOW_REMOTE", "") not in ("", "0", "false")
    if options.get("use_debugger") and not allow_remote and not is_loopback(host):
        raise SystemExit(
            f"erlen: refusing to serve the interactive debugger on {host}: anyone who can reach"
            " it can run code on this machine. Bind to 127.0.0.1, turn debug mode off, or pass"
            " allow_remote_debugger=True (ERLEN_DEBUGGER_ALLOW_REMOTE=1) on a private network."
        )
    try:
        check_secret_key_for_serving(app)  # before the port opens, not on the first request
    except RuntimeError as error:
        raise SystemExit(f"erlen: {error}") from None
    if wants_asgi(app, asgi):
        run_asgi(app, host, port, **options)
        return
    from werkzeug.serving import run_simple

    run_simple(host, port, app, **options)


def run_asgi(
    app: Erlen,
    host: str,
    port: int,
    *,
    use_reloader: bool = False,
    reloader_interval: float = 1.0,
    extra_files: Iterable[str] | None = None,
    exclude_patterns: Iterable[str] | None = None,
    ssl_context: t.Any = None,
    **options: t.Any,
) -> None:
    """Serve ``app.asgi_app`` on uvicorn (lifespan on), restarting on code changes with
    ``use_reloader``. Exits with one line saying what to install when uvicorn is missing."""
    unknown = sorted(set(options) - WERKZEUG_ONLY_OPTIONS)
    if unknown:
        raise TypeError(f"Options not supported by the ASGI development server: {unknown}")
    ws = _websocket_backend(has_websocket_routes(app))
    certfile, keyfile = _certificate_files(ssl_context)
    if use_reloader and not is_running_from_reloader():
        _supervise(host, port, reloader_interval, scheme="https" if certfile else "http")
        return
    sock = _inherited_socket()
    if sock is None:
        sock = _bind(host, port)
        _announce(sock, "https" if certfile else "http")
    watcher = None
    if use_reloader:
        watcher = FileWatcher(extra_files or (), exclude_patterns or (), reloader_interval)
    _serve(app, sock, ws, certfile, keyfile, watcher)
    if watcher is not None and watcher.changed:
        sys.exit(RESTART_CODE)


def _websocket_backend(needed: bool) -> str:
    if importlib.util.find_spec("uvicorn") is None:
        raise SystemExit(INSTALL_HINT)
    for backend, module in (("wsproto", "wsproto"), ("websockets", "websockets")):
        if importlib.util.find_spec(module) is not None:
            return backend
    if needed:
        raise SystemExit(INSTALL_HINT)
    return "none"


def _certificate_files(ssl_context: t.Any) -> tuple[str | None, str | None]:
    if ssl_context is None:
        return None, None
    if isinstance(ssl_context, (tuple, list)) and len(ssl_context) == 2:
        return str(ssl_context[0]), str(ssl_context[1])
    raise SystemExit(
        "erlen: the ASGI development server takes HTTPS as a (certificate file, key file)"
        " pair; 'adhoc' and SSLContext objects work only on werkzeug's server."
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise SystemExit(f"erlen: cannot listen on {host}:{port}: {error.strerror}") from None


def _announce(sock: socket.socket, scheme: str) -> None:
    host, port = sock.getsockname()[:2]
    address = f"[{host}]" if ":" in host else host
    print(
        f" * Running on {scheme}://{address}:{port} (ASGI, uvicorn; press CTRL+C to quit)",
        file=sys.stderr,
        flush=True,
    )


def _inherited_socket() -> socket.socket | None:
    fd = os.environ.get(SOCKET_ENV)
    if not fd or not is_running_from_reloader():
        return None
    return socket.socket(fileno=int(fd))


# --- the supervising process ----------------------------------------------------------------


def _supervise(host: str, port: int, interval: float, scheme: str) -> None:
    """Run this command again as a child serving on one socket, until it exits other than
    to restart; SIGINT and SIGTERM stop the child (by SIGTERM) and return."""
    sock = _bind(host, port)
    _announce(sock, scheme)
    sock.set_inheritable(True)
    env = {**os.environ, RELOADER_ENV: "1", SOCKET_ENV: str(sock.fileno())}
    command = [sys.executable, *sys.orig_argv[1:]]
    state: dict[str, t.Any] = {"child": None, "stopping": None}

    def stop(signum: int, frame: t.Any) -> None:
        # SIGTERM, not SIGINT: the terminal's Ctrl-C reaches the child too, and uvicorn takes
        # a second SIGINT as "exit now", skipping the lifespan shutdown.
        state["stopping"] = state["stopping"] or time.monotonic()
        child = state["child"]
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f" * Restarting with erlen's reloader (every {interval:g}s)", file=sys.stderr)
    try:
        while True:
            child = state["child"] = subprocess.Popen(command, env=env, pass_fds=(sock.fileno(),))
            code = _wait(child, state)
            if code != RESTART_CODE or state["stopping"]:
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if not state["stopping"] and code != 0:
        raise SystemExit(code)


def _wait(child: subprocess.Popen[bytes], state: dict[str, t.Any]) -> int:
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            stopping = state["stopping"]
            if stopping and time.monotonic() - stopping > STOP_TIMEOUT:
                child.kill()


# --- the serving process --------------------------------------------------------------------


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


def _serve(
    app: Erlen,
    sock: socket.socket,
    ws: str,
    certfile: str | None,
    keyfile: str | None,
    watcher: FileWatcher | None,
) -> None:
    import uvicorn

    host, port = sock.getsockname()[:2]
    asgi_app: t.Any = DebugErrorPage(app) if app.debug else app.asgi_app
    config = uvicorn.Config(
        asgi_app,
        host=host,
        port=port,
        interface="asgi3",  # uvicorn cannot tell from a bound method or the app object
        lifespan="on",
        ws=t.cast(t.Any, ws),
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    if watcher is not None:

        def restart() -> None:
            server.should_exit = True

        watcher.on_change = restart
        watcher.start()
    with contextlib.suppress(KeyboardInterrupt):  # raised again by uvicorn once it has stopped
        server.run(sockets=[sock])
    if not server.started and not (watcher is not None and watcher.changed):
        raise SystemExit(1)  # lifespan startup failed: uvicorn has logged why


class DebugErrorPage:
    """ASGI middleware for debug mode: an unhandled error in an HTTP view is logged with its
    traceback and answered with a plain-text 500 page showing it. (werkzeug's interactive
    debugger is WSGI middleware and cannot wrap an ASGI app.)"""

    def __init__(self, app: Erlen) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asgi_app = self.app.asgi_app  # read per call: middleware may have replaced it
        if scope["type"] != "http":
            await asgi_app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asgi_app(scope, receive, tracking_send)
        except Exception as error:
            self.app.logger.error(
                f"Exception on {scope.get('path')} [{scope.get('method')}]",
                exc_info=(type(error), error, error.__traceback__),
            )
            if started:
                return  # the response is under way: the client sees it cut short
            body = "500 Internal Server Error\n\n" + "".join(traceback.format_exception(error))
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": body.encode()})
