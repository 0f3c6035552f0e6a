"""WebSockets: the object a ``@app.websocket`` handler talks to (``erlen.websocket``).

It is a :class:`~erlen.wrappers.Request` for the handshake (path, args, headers, cookies, the
session) with the messaging methods added. Handlers are ``async def``; WebSockets are served
under ASGI servers (a WSGI server answers a WebSocket route with ``426 Upgrade Required``).
"""

from __future__ import annotations

import contextlib
import enum
import typing as t

from werkzeug.exceptions import HTTPException

from .globals import _cv_app
from .wrappers import Request

if t.TYPE_CHECKING:
    from .typing import Message, Receive, Send


class WebSocketDisconnect(Exception):
    """The client went away (or the connection closed): raised by ``receive`` and ``send``. If a
    handler lets it propagate, the handler simply ends and teardown runs."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        #: The close code (1000 normal, 1001 going away, 1006 abnormal, ...).
        self.code = code
        self.reason = reason


class UpgradeRequired(HTTPException):
    """426: an HTTP request to a WebSocket route."""

    code = 426
    description = (
        "This URL is a WebSocket endpoint: connect with a WebSocket client, to a server that"
        " speaks ASGI (WSGI servers cannot serve WebSockets)."
    )

    def get_headers(self, *args: t.Any, **kwargs: t.Any) -> list[tuple[str, str]]:
        return [*super().get_headers(*args, **kwargs), ("Upgrade", "websocket")]


class WebSocketState(enum.Enum):
    CONNECTING = "connecting"
    ACCEPTED = "accepted"
    CLOSED = "closed"


_ACCEPTED = WebSocketState.ACCEPTED


class WebSocket(Request):
    """One WebSocket connection. ``accept`` completes the handshake (``receive`` and ``send``
    accept first if needed); ``close`` ends it."""

    is_websocket = True

    def __init__(self, *args: t.Any, receive: Receive, send: Send, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._receive = receive
        self._send = send
        self.state = WebSocketState.CONNECTING
        #: The subprotocol chosen in :meth:`accept`, if any.
        self.subprotocol: str | None = None

    @property
    def requested_subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list((self.scope or {}).get("subprotocols") or ())

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: t.Mapping[str, str] | t.Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Complete the handshake, choosing ``subprotocol`` and adding response ``headers``."""
        if self.state is not WebSocketState.CONNECTING:
            raise RuntimeError(f"Cannot accept a WebSocket that is {self.state.value}.")
        pairs = headers.items() if isinstance(headers, t.Mapping) else headers or ()
        await self._send(
            {
                "type": "websocket.accept",
                "subprotocol": subprotocol,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs],
            }
        )
        self.state = WebSocketState.ACCEPTED
        self.subprotocol = subprotocol

    async def _open(self) -> None:
        # Messaging accepts a pending handshake first, and refuses a closed connection.
        if self.state is WebSocketState.CONNECTING:
            await self.accept()
        if self.state is WebSocketState.CLOSED:
            raise WebSocketDisconnect(1006, "The WebSocket is closed.")

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for a text frame, ``bytes`` for a binary one. Raises
        :class:`WebSocketDisconnect` when the client has gone."""
        if self.state is not _ACCEPTED:
            await self._open()
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.state = WebSocketState.CLOSED
            raise WebSocketDisconnect(message.get("code", 1005), message.get("reason") or "")
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def receive_text(self) -> str:
        """The next message as text (binary frames are decoded as UTF-8)."""
        data = await self.receive()
        return data if isinstance(data, str) else data.decode()

    async def receive_bytes(self) -> bytes:
        """The next message as bytes (text frames are encoded as UTF-8)."""
        data = await self.receive()
        return data if isinstance(data, bytes) else data.encode()

    async def receive_json(self) -> t.Any:
        """The next message parsed as JSON (with the app's JSON provider)."""
        data = await self.receive()
        ctx = _cv_app.get()
        if ctx is None:
            import json

            return json.loads(data)
        return ctx.app.json.loads(data)

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        if self.state is not _ACCEPTED:
            await self._open()
        message: Message = (
            {"type": "websocket.send", "text": data}
            if type(data) is str
            else {"type": "websocket.send", "bytes": data}
        )
        try:
            await self._send(message)
        except OSError as error:  # ASGI servers raise an OSError subclass once the peer is gone
            self.state = WebSocketState.CLOSED
            raise WebSocketDisconnect(1006, str(error)) from error

    async def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as a JSON text message."""
        ctx = _cv_app.get()
        if ctx is None:
            import json

            await self.send(json.dumps(obj))
        else:
            await self.send(ctx.app.json.dumps(obj))

    # Async, unlike Request.close: closing is a message to the client here.
    async def close(self, code: int = 1000, reason: str = "") -> None:  # type: ignore[override]
        """Close the connection (before ``accept``, this refuses the handshake with a 403)."""
        if self.state is WebSocketState.CLOSED:
            return
        self.state = WebSocketState.CLOSED
        with contextlib.suppress(OSError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    def __aiter__(self) -> WebSocket:
        """``async for message in websocket``: each message until the client disconnects."""
        return self

    async def __anext__(self) -> str | bytes:
        try:
            return await self.receive()
        except WebSocketDisconnect:
            raise StopAsyncIteration from None
