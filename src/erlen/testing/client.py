"""The test clients: :class:`ErlenClient` (``app.test_client()``, the WSGI or the ASGI path) and
:class:`AsyncClient` (awaited in the caller's event loop)."""

from __future__ import annotations

import contextvars
import copy
import typing as t
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from importlib.metadata import version as distribution_version
from types import TracebackType
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.test import Client, TestResponse
from werkzeug.test import EnvironBuilder as WerkzeugEnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from .._speedups.client_cookies import add_cookies, keep_cookies, uses_cookies
from ..background_loop import background_loop
from ..protocols.wsgi import PRESERVE_CONTEXT_KEY, TEST_CLIENT_KEY
from .environ import EnvironBuilder, build_environ, run_asgi, websocket_session
from .websocket import (
    DEFAULT_TIMEOUT,
    AsyncWebSocketSession,
    WebSocketSession,
)

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..app import Erlen
    from ..ctx import RequestContext
    from ..sessions import SessionMixin


T = t.TypeVar("T")


def _run_request(coro: Coroutine[t.Any, t.Any, T]) -> T:
    """Run one ASGI request on the background loop (:mod:`erlen.background_loop`) in a copy of
    the caller's context, and wait for it. The background tasks it starts go on running there
    after the response, as on a server's loop."""
    return background_loop().run(coro, contextvars.copy_context())


class _CloseAtEnd:
    """A WSGI body that is closed once read to its end, as a server closes it after sending: a
    streamed response's request context then ends when the test reads ``response.data``."""

    def __init__(self, app_iter: t.Iterable[bytes]) -> None:
        self._app_iter = app_iter
        self._iter = iter(app_iter)
        self._closed = False

    def __iter__(self) -> _CloseAtEnd:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._iter)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        close = getattr(self._app_iter, "close", None)
        if not self._closed and close is not None:
            self._closed = True
            close()


class ErlenClient(Client):
    """The test client of :meth:`Erlen.test_client`.

    ``with client:`` keeps the context of the last request active after it returns, so a test
    can look at ``request``, ``session`` and ``g``.

    Responses are read in full before ``open`` returns (``buffered=True``), so a streamed body
    has run its teardown by then, as on both paths; pass ``buffered=False`` to read it lazily,
    and close the response when done.
    """

    application: Erlen

    def __init__(self, *args: t.Any, asgi: bool = False, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        #: Whether requests go through the ASGI path.
        self.asgi = asgi
        self.preserve_context = False
        self._new_contexts: list[RequestContext] = []
        self._context_stack = ExitStack()
        self.environ_base = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"Werkzeug/{distribution_version('werkzeug')}",
        }

    @contextmanager
    def session_transaction(self, *args: t.Any, **kwargs: t.Any) -> Iterator[SessionMixin]:
        """Open the session the client's cookies carry, to read or change it in a test; the
        changes are saved into the client's cookies when the block ends::

            with client.session_transaction() as session:
                session["user_id"] = 7
            client.get("/profile")  # the request sees user_id 7

        Arguments are those of :meth:`Erlen.test_request_context` (the path, for a cookie
        that is set on a path)."""
        if not uses_cookies(self):
            raise TypeError("Cookies are disabled: create the client with use_cookies=True.")
        app = self.application
        environ = build_environ(app, *args, **kwargs)
        add_cookies(self, environ)
        ctx = app.request_context(environ)
        interface = app.session_interface
        with ctx:  # only while the interface works: the test's block sees its own contexts
            session = interface.open_session(app, ctx.request)
        if session is None:
            raise RuntimeError("The session interface did not open a session.")
        yield session
        if interface.is_null_session(session):
            return
        response = app.response_class()
        with ctx:
            interface.save_session(app, session, response)
        keep_cookies(
            self,
            ctx.request.host.partition(":")[0],
            ctx.request.path,
            response.headers.getlist("Set-Cookie"),
        )

    def _request_from_builder_args(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        kwargs["environ_base"] = {**self._environ_base(), **kwargs.get("environ_base", {})}
        builder = EnvironBuilder(self.application, *args, **kwargs)
        try:
            return builder.get_request()
        finally:
            builder.close()

    def _request_from_prepared(self, prepared: WerkzeugEnvironBuilder | dict[str, t.Any]) -> t.Any:
        """A request from a builder or an environ the test made, with the client's
        ``environ_base`` under it (its own values win), as Flask's client does."""
        if isinstance(prepared, dict):
            builder = WerkzeugEnvironBuilder.from_environ(prepared)
        else:
            builder = copy.copy(prepared)
        builder.environ_base = {**self._environ_base(), **(builder.environ_base or {})}
        return builder.get_request()

    def _environ_base(self) -> dict[str, t.Any]:
        base: dict[str, t.Any] = {**self.environ_base, TEST_CLIENT_KEY: True}
        if self.preserve_context:
            base[PRESERVE_CONTEXT_KEY] = self._new_contexts.append
        return base

    def open(
        self,
        *args: t.Any,
        buffered: bool = True,
        follow_redirects: bool = False,
        **kwargs: t.Any,
    ) -> TestResponse:
        if args and isinstance(args[0], (WerkzeugEnvironBuilder, dict)):
            request: t.Any = self._request_from_prepared(args[0])
        elif args and isinstance(args[0], WerkzeugRequest):
            request = args[0]  # a prepared request: sent as it is
        else:
            request = self._request_from_builder_args(args, kwargs)
        self._context_stack.close()
        response = super().open(request, buffered=buffered, follow_redirects=follow_redirects)
        response.json_module = self.application.json  # type: ignore[assignment]
        while self._new_contexts:
            self._context_stack.enter_context(self._new_contexts.pop(0))
        return response

    def run_wsgi_app(
        self, environ: WSGIEnvironment, buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, Headers]:
        if not self.asgi:
            app_iter, status, headers = super().run_wsgi_app(environ, buffered)
            if not isinstance(app_iter, list):  # a buffered body is read and closed already
                app_iter = _CloseAtEnd(app_iter)
            return app_iter, status, headers
        add_cookies(self, environ)
        result = _run_request(run_asgi(self.application, environ))
        url = urlsplit(f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}")
        keep_cookies(
            self,
            url.hostname or "localhost",
            environ.get("PATH_INFO") or "/",
            result[2].getlist("Set-Cookie"),
        )
        return result

    def websocket(
        self,
        path: str,
        subprotocols: t.Iterable[str] | None = None,
        headers: t.Any = None,
        query_string: t.Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> WebSocketSession:
        """Open a WebSocket connection to ``path``, through the ASGI app whichever path the
        client drives (WSGI servers cannot serve WebSockets); the client's cookies are sent::

            with client.websocket("/ws", subprotocols=["chat"]) as ws:
                ws.send("hello")
                assert ws.receive() == "hello"

        A refused handshake raises :class:`WebSocketRejected`; every wait is bounded by
        ``timeout`` seconds."""
        environ = build_environ(
            self.application,
            path,
            headers=headers,
            query_string=query_string,
            environ_base=self.environ_base,
        )
        add_cookies(self, environ)
        return WebSocketSession(websocket_session(self.application, environ, subprotocols, timeout))

    def __enter__(self) -> ErlenClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.preserve_context = False
        self._context_stack.close()


class AsyncClient:
    """Awaits requests through ``app.asgi_app`` in the running event loop (no cookies kept).

    ``response = await client.get("/path", query_string={"id": 1})``
    """

    def __init__(self, app: Erlen) -> None:
        self.app = app

    async def open(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Send a request; takes :class:`~werkzeug.test.EnvironBuilder` arguments."""
        builder = EnvironBuilder(self.app, *args, **kwargs)
        try:
            request = builder.get_request()
            chunks, status, headers = await run_asgi(self.app, builder.get_environ())
        finally:
            builder.close()
        return TestResponse(chunks, status, headers, request)

    async def get(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        return await self.open(*args, method="GET", **kwargs)

    async def post(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        return await self.open(*args, method="POST", **kwargs)

    def websocket(
        self,
        path: str,
        subprotocols: t.Iterable[str] | None = None,
        headers: t.Any = None,
        query_string: t.Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> AsyncWebSocketSession:
        """Open a WebSocket connection to ``path`` in the running loop: ``async with
        client.websocket("/ws") as ws: await ws.send("hi")``."""
        environ = build_environ(self.app, path, headers=headers, query_string=query_string)
        return websocket_session(self.app, environ, subprotocols, timeout)
