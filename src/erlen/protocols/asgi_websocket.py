"""Serve WebSocket connections to an ASGI server."""

from __future__ import annotations

import typing as t

from ..concurrency import call_in_worker
from ..ctx import RequestContext
from ..websockets import WebSocketState
from .asgi_request import encode_headers, environ_of, path_under_root, scope_connection

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..typing import Receive, Scope, Send
    from ..wrappers import Response

#: The ASGI extension that lets an app refuse a handshake with a full HTTP response.
DENIAL_EXTENSION = "websocket.http.response"


async def serve_websocket(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    """Handle one WebSocket connection: the handshake, the handler, the close, teardown."""
    if (await receive())["type"] != "websocket.connect":
        return  # the client left before the handshake
    websocket = app.websocket_class(
        scope.get("method", "GET"),
        path_under_root(scope),
        scope["headers"],
        scope_connection,
        receive=receive,
        send=send,
        environ=environ_of,
        scope=scope,
    )
    ctx = RequestContext(app, websocket)
    ctx.push()
    try:
        response, error = await app.handle_websocket(ctx, call_in_worker)
    except BaseException as exc:
        if websocket.state is WebSocketState.ACCEPTED:
            await websocket.close(1011)
        await ctx._pop(call_in_worker, exc)
        raise
    try:
        if websocket.state is WebSocketState.CONNECTING:
            await _refuse(response, scope, send)
            websocket.state = WebSocketState.CLOSED
        elif websocket.state is WebSocketState.ACCEPTED:
            await websocket.close(_close_code(response, error))
    finally:
        await ctx._pop(call_in_worker, error)


def _close_code(response: Response | None, error: BaseException | None) -> int:
    # After the handshake an error can only be told by the close code.
    if error is not None or (response is not None and response.status_code >= 500):
        return 1011  # internal error
    if response is not None and response.status_code >= 400:
        return 1008  # policy violation
    return 1000


async def _refuse(response: Response | None, scope: Scope, send: Send) -> None:
    """Refuse the handshake: with the response where the server supports the denial
    extension, otherwise with a close, which the server answers with a 403."""
    if response is None or DENIAL_EXTENSION not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": response.status_code,
            "headers": encode_headers(response.headers),
        }
    )
    body = response.get_data()
    response.close()
    await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
