"""The debug error page of the ASGI development server."""

from __future__ import annotations

import traceback
import typing as t

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..typing import Message, Receive, Scope, Send


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
