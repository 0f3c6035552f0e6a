"""The ASGI development server: ``app.asgi_app`` on uvicorn, with lifespan on. uvicorn is not a
dependency of erlen: ``pip install 'erlen[server]'`` installs it with wsproto, both pure Python.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sys
import typing as t
from collections.abc import Iterable

from .debug_page import DebugErrorPage
from .reloader import (
    RESTART_CODE,
    FileWatcher,
    announce,
    bind,
    inherited_socket,
    is_running_from_reloader,
    supervise,
)

if t.TYPE_CHECKING:
    from ..app import Erlen

INSTALL_HINT = (
    "erlen: serving this app needs an ASGI server for development: pip install 'erlen[server]'"
)
#: werkzeug-only options of ``app.run()`` that mean nothing to the ASGI server (sync views
#: already run in erlen's worker threads; the debugger is WSGI middleware).
WERKZEUG_ONLY_OPTIONS = frozenset(
    {"threaded", "processes", "use_debugger", "use_evalex", "passthrough_errors", "reloader_type"}
)


def has_websocket_routes(app: Erlen) -> bool:
    """Whether any URL rule of ``app`` (or of its blueprints) is a WebSocket route."""
    return any(rule.websocket for rule in app.url_map.iter_rules())


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
        supervise(host, port, reloader_interval, scheme="https" if certfile else "http")
        return
    sock = inherited_socket()
    if sock is None:
        sock = bind(host, port)
        announce(sock, "https" if certfile else "http")
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
