"""The development server behind ``app.run()`` and ``erlen run``.

An app without WebSocket routes runs on werkzeug's server (with its interactive debugger in
debug mode). An app with WebSocket routes, or ``asgi=True`` / ``ERLEN_RUN_ASGI=1``, runs as
ASGI (``app.asgi_app``) on uvicorn (:mod:`.asgi_server`), with erlen's own reloader
(:mod:`.reloader`) and a debug error page (:mod:`.debug_page`).
"""

from __future__ import annotations

import ipaddress
import os
import typing as t

from ..sessions import check_secret_key_for_serving
from .asgi_server import INSTALL_HINT, WERKZEUG_ONLY_OPTIONS, has_websocket_routes, run_asgi
from .debug_page import DebugErrorPage
from .reloader import RESTART_CODE, FileWatcher, is_running_from_reloader

if t.TYPE_CHECKING:
    from ..app import Erlen

__all__ = [
    "INSTALL_HINT",
    "RESTART_CODE",
    "WERKZEUG_ONLY_OPTIONS",
    "DebugErrorPage",
    "FileWatcher",
    "has_websocket_routes",
    "is_loopback",
    "is_running_from_reloader",
    "run_asgi",
    "run_server",
    "wants_asgi",
]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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
