"""The context locals: ``current_app``, ``g``, ``request`` and ``session``.

Each lives in a :class:`contextvars.ContextVar`, so every thread and every asyncio task sees only
its own. A variable holds ``None`` when nothing is pushed; popping restores the value that was
there before, which also works when a context is popped from a copy of the one that pushed it
(a streamed body finished in a worker thread, for instance).
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from contextvars import ContextVar

from werkzeug.local import LocalProxy

from ._speedups import ENABLED as _SPEEDUPS
from ._speedups.proxy import context_proxy as _fast_proxy

T = t.TypeVar("T")

if t.TYPE_CHECKING:
    from .app import Erlen
    from .ctx import AppContext, RequestContext, _AppCtxGlobals
    from .sessions import SessionMixin
    from .websockets import WebSocket
    from .wrappers import Request


def context_proxy(get: Callable[[], T], name: str) -> T:
    """A proxy to what ``get()`` returns at the time of each use (``get`` raises
    ``RuntimeError`` outside its context); ``name`` names its class. werkzeug's ``LocalProxy``
    when the speedups are off."""
    if _SPEEDUPS:
        return _fast_proxy(get, name)
    return t.cast(T, LocalProxy(get))


_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed the current application.
To solve this, set up an application context with app.app_context()."""

_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed an active HTTP request.
Consult the documentation on testing for information about how to avoid this problem."""

_cv_app: ContextVar[AppContext | None] = ContextVar("erlen.app_ctx", default=None)
_cv_request: ContextVar[RequestContext | None] = ContextVar("erlen.request_ctx", default=None)


# Each getter reads its variable itself: a shared helper would be one more call per use.
def _current_app() -> Erlen:
    ctx = _cv_app.get()
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.app


def _g() -> _AppCtxGlobals:
    ctx = _cv_app.get()
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    made = ctx._g  # (made on first use by the property)
    return ctx.g if made is None else made


def _request() -> Request:
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    return ctx.request


def _session() -> SessionMixin:
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    return ctx.session


def _websocket() -> WebSocket:
    current = _request()
    if not current.is_websocket:
        raise RuntimeError("Working outside of a WebSocket handler: this request is HTTP.")
    return t.cast("WebSocket", current)


def _app_ctx() -> AppContext:
    ctx = _cv_app.get()
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx


def _request_ctx() -> RequestContext:
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    return ctx


current_app: Erlen = context_proxy(_current_app, "CurrentAppProxy")
g: _AppCtxGlobals = context_proxy(_g, "GProxy")
request: Request = context_proxy(_request, "RequestProxy")
session: SessionMixin = context_proxy(_session, "SessionProxy")
websocket: WebSocket = context_proxy(_websocket, "WebSocketProxy")
#: The active application context (for extensions that keep state on it, as on Flask's).
app_ctx: AppContext = context_proxy(_app_ctx, "AppContextProxy")
#: The active request context.
request_ctx: RequestContext = context_proxy(_request_ctx, "RequestContextProxy")
