"""WebSocket sessions of the test clients: a handler driven in-process through ``app.asgi_app``.

``client.websocket("/path")`` (both :class:`~erlen.testing.ErlenClient` paths: WebSockets always
go through ASGI) returns a :class:`WebSocketSession`, used with ``with``; the async client's
returns an :class:`AsyncWebSocketSession`, used with ``async with``. Every wait is bounded by the
session's ``timeout`` and raises :class:`TimeoutError` when it runs out, so a handler that never
answers fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import os
import typing as t
from collections.abc import Coroutine, Iterable
from types import TracebackType

from werkzeug.datastructures import Headers

from ..background_loop import WaitTimeout, background_loop
from ..protocols.asgi_websocket import DENIAL_EXTENSION
from ..protocols.wsgi import scope_from_environ
from ..websockets import WebSocketDisconnect

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..app import Erlen
    from ..typing import Message, Scope

T = t.TypeVar("T")

#: Seconds a session waits for the handler (a message, the handshake, the end) by default.
DEFAULT_TIMEOUT = 10.0


class WebSocketRejected(Exception):
    """The app refused the handshake: with a response (``abort(403)``, a ``before_websocket``
    hook returning one), or with a close before accepting (a 403, as servers answer it)."""

    def __init__(self, status_code: int, headers: Headers, body: bytes) -> None:
        super().__init__(f"The WebSocket handshake was rejected with status {status_code}.")
        self.status_code = status_code
        self.headers = headers
        self.body = body


def websocket_scope(environ: WSGIEnvironment, subprotocols: Iterable[str] | None) -> Scope:
    """The ASGI ``websocket`` scope of a handshake described by a WSGI environ."""
    offered = list(subprotocols or ())
    scope = scope_from_environ(environ)
    scope.pop("method", None)
    scope["type"] = "websocket"
    scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
    scope["subprotocols"] = offered
    scope["extensions"] = {DENIAL_EXTENSION: {}}
    key = base64.b64encode(os.urandom(16))
    handshake = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-key", key),
    ]
    if offered:
        handshake.append((b"sec-websocket-protocol", ", ".join(offered).encode("latin-1")))
    scope["headers"] = [*handshake, *scope["headers"]]
    return scope


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    return Headers([(key.decode("latin-1"), value.decode("latin-1")) for key, value in raw])


class AsyncWebSocketSession:
    """One WebSocket connection to the app, in the running event loop::

        async with client.websocket("/ws") as ws:
            await ws.send("hello")
            assert await ws.receive() == "hello"

    Entering performs the handshake (raising :class:`WebSocketRejected` if refused); leaving
    closes the connection as the client (code 1000) and waits for the handler to end. An
    exception that escaped the app (``TESTING`` propagates them) is raised by ``close`` or on
    leaving the block.
    """

    def __init__(self, app: Erlen, scope: Scope, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.app = app
        self.scope = scope
        #: Longest wait, in seconds, for anything from the handler.
        self.timeout = timeout
        #: The subprotocol the handler accepted with (``None`` if it chose none).
        self.subprotocol: str | None = None
        #: The extra headers of the accepted handshake.
        self.headers = Headers()
        #: The close code the handler closed with, once it has.
        self.close_code: int | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._client_closed = False
        self._server_closed: tuple[int, str] | None = None

    # --- the app's side -----------------------------------------------------------------------

    async def _run_app(self) -> None:
        try:
            await self.app.asgi_app(self.scope, self._app_receive, self._app_send)
        except Exception as error:
            self._error = error
        finally:
            self._from_app.put_nowait(None)  # the end: no more messages

    async def _app_receive(self) -> Message:
        message = await self._to_app.get()
        if message["type"] == "websocket.disconnect":
            self._to_app.put_nowait(message)  # every later receive sees the disconnect too
        return message

    async def _app_send(self, message: Message) -> None:
        if self._client_closed and message["type"] == "websocket.send":
            raise ConnectionResetError("The test client has closed the WebSocket.")
        self._from_app.put_nowait(dict(message))

    # --- the client's side --------------------------------------------------------------------

    async def _next(self) -> Message | None:
        try:
            return await asyncio.wait_for(self._from_app.get(), self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"The WebSocket handler of {self.scope['path']!r} sent nothing within"
                f" {self.timeout} s."
            ) from None

    async def _finish(self) -> None:
        """Wait for the app to end (cancelling it after the timeout), then raise its error."""
        task = self._task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=self.timeout)
            if not done:
                await self._cancel()
                raise TimeoutError(
                    f"The WebSocket handler of {self.scope['path']!r} did not end within"
                    f" {self.timeout} s of the connection closing; it was cancelled."
                )
        error, self._error = self._error, None
        if error is not None:
            raise error

    async def _cancel(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(task, self.timeout)

    async def __aenter__(self) -> AsyncWebSocketSession:
        self._task = asyncio.ensure_future(self._run_app())
        self._to_app.put_nowait({"type": "websocket.connect"})
        try:
            await self._handshake()
        except BaseException:
            await self._cancel()
            raise
        return self

    async def _handshake(self) -> None:
        message = await self._next()
        if message is None:
            await self._finish()  # raises the app's error, if that is why it ended
            raise RuntimeError("The WebSocket handler ended without accepting or refusing.")
        kind = message["type"]
        if kind == "websocket.accept":
            self.subprotocol = message.get("subprotocol")
            self.headers = _headers(message.get("headers") or ())
        elif kind == "websocket.close":  # refused without a response: servers answer 403
            await self._finish()
            raise WebSocketRejected(403, Headers(), b"")
        elif kind == "websocket.http.response.start":
            body: list[bytes] = []
            while (part := await self._next()) is not None:
                body.append(part.get("body", b""))
                if not part.get("more_body", False):
                    break
            await self._finish()
            raise WebSocketRejected(
                message["status"], _headers(message.get("headers") or ()), b"".join(body)
            )
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} during the handshake.")

    async def __aexit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            await self.close()
            return
        try:  # the block failed: clean up without hiding its exception
            await self.close()
        except Exception:
            pass
        finally:
            await self._cancel()

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message to the handler."""
        if self._server_closed is not None:
            raise WebSocketDisconnect(*self._server_closed)
        if self._client_closed:
            raise RuntimeError("The WebSocket is closed.")
        key = "text" if isinstance(data, str) else "bytes"
        self._to_app.put_nowait({"type": "websocket.receive", key: data})

    async def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as JSON text (with the app's JSON provider)."""
        await self.send(self.app.json.dumps(obj))

    async def receive(self) -> str | bytes:
        """The handler's next message: ``str`` for text, ``bytes`` for binary. Raises
        :class:`~erlen.WebSocketDisconnect` (with the close code) once the handler closed."""
        if self._server_closed is not None:
            raise WebSocketDisconnect(*self._server_closed)
        if self._client_closed:
            raise RuntimeError("The WebSocket is closed.")
        message = await self._next()
        if message is None:
            self._server_closed = (1006, "The handler ended without closing.")
            raise WebSocketDisconnect(*self._server_closed)
        kind = message["type"]
        if kind == "websocket.send":
            text = message.get("text")
            return text if text is not None else bytes(message.get("bytes") or b"")
        if kind == "websocket.close":
            self.close_code = int(message.get("code", 1000))
            self._server_closed = (self.close_code, message.get("reason") or "")
            raise WebSocketDisconnect(*self._server_closed)
        raise RuntimeError(f"Unexpected ASGI message {kind!r} from the WebSocket handler.")

    async def receive_text(self) -> str:
        """The next message, which must be text."""
        data = await self.receive()
        if not isinstance(data, str):
            raise TypeError(f"Expected a text message, got binary: {data!r}")
        return data

    async def receive_bytes(self) -> bytes:
        """The next message, which must be binary."""
        data = await self.receive()
        if not isinstance(data, bytes):
            raise TypeError(f"Expected a binary message, got text: {data!r}")
        return data

    async def receive_json(self) -> t.Any:
        """The next message parsed as JSON."""
        return self.app.json.loads(await self.receive())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection as the client; the handler's ``receive`` raises
        :class:`~erlen.WebSocketDisconnect`. Waits for the handler to end (teardown included)."""
        if not self._client_closed:
            self._client_closed = True
            self._to_app.put_nowait(
                {"type": "websocket.disconnect", "code": code, "reason": reason}
            )
        await self._finish()


class WebSocketSession:
    """The blocking form of :class:`AsyncWebSocketSession`, for ``with client.websocket(...)``.

    The app runs on the background loop (:mod:`erlen.background_loop`); each method waits for
    it, bounded.
    """

    def __init__(self, session: AsyncWebSocketSession) -> None:
        self._session = session
        self._context = contextvars.copy_context()

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the handler accepted with (``None`` if it chose none)."""
        return self._session.subprotocol

    @property
    def headers(self) -> Headers:
        """The extra headers of the accepted handshake."""
        return self._session.headers

    @property
    def close_code(self) -> int | None:
        """The close code the handler closed with, once it has."""
        return self._session.close_code

    def _call(self, coro: Coroutine[t.Any, t.Any, T]) -> T:
        # The session bounds its own waits; this is the backstop should the loop be stuck.
        limit = 3 * self._session.timeout + 5
        try:
            return background_loop().run(coro, self._context, timeout=limit)
        except WaitTimeout:
            raise TimeoutError(f"The WebSocket test session was stuck for {limit} s.") from None

    def __enter__(self) -> WebSocketSession:
        self._call(self._session.__aenter__())
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._call(self._session.__aexit__(exc_type, exc, tb))

    def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message to the handler."""
        self._call(self._session.send(data))

    def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as JSON text."""
        self._call(self._session.send_json(obj))

    def receive(self) -> str | bytes:
        """The handler's next message; :class:`~erlen.WebSocketDisconnect` once it closed."""
        return self._call(self._session.receive())

    def receive_text(self) -> str:
        """The next message, which must be text."""
        return self._call(self._session.receive_text())

    def receive_bytes(self) -> bytes:
        """The next message, which must be binary."""
        return self._call(self._session.receive_bytes())

    def receive_json(self) -> t.Any:
        """The next message parsed as JSON."""
        return self._call(self._session.receive_json())

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close as the client and wait for the handler to end."""
        self._call(self._session.close(code, reason))
