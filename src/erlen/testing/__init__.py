"""Test clients: send requests to an app in-process, through its WSGI or its ASGI path.

``app.test_client()`` drives the WSGI path, ``app.test_client(asgi=True)`` the ASGI path, with
the same API (werkzeug's :class:`~werkzeug.test.Client`: ``get``, ``post``, ``json=``, ``data=``,
``follow_redirects``, cookies kept). :class:`AsyncClient` awaits the ASGI app in the caller's
event loop, for tests of concurrency.
"""

from __future__ import annotations

import typing as t

from .client import AsyncClient, ErlenClient
from .environ import EnvironBuilder, run_asgi
from .websocket import AsyncWebSocketSession, WebSocketRejected, WebSocketSession

__all__ = [
    "AsyncClient",
    "AsyncWebSocketSession",
    "EnvironBuilder",
    "ErlenCliRunner",
    "ErlenClient",
    "WebSocketRejected",
    "WebSocketSession",
    "run_asgi",
]

if t.TYPE_CHECKING:
    from ..cli import ErlenCliRunner as ErlenCliRunner


def __getattr__(name: str) -> t.Any:
    # ErlenCliRunner subclasses click's runner: imported on first use, so click stays unloaded.
    if name == "ErlenCliRunner":
        from ..cli import ErlenCliRunner

        return ErlenCliRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
