"""Request environments for tests: :class:`EnvironBuilder`, with the app's server name, root,
scheme and JSON, and :func:`run_asgi`, which sends one through the app's ASGI path."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.test import EnvironBuilder as WerkzeugEnvironBuilder

from ..protocols.asgi import PRESERVE_CONTEXT_EXTENSION, call_asgi_app
from ..protocols.wsgi import PRESERVE_CONTEXT_KEY, scope_from_environ
from .websocket import AsyncWebSocketSession, websocket_scope

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..app import Erlen

#: The request body is handed to the ASGI app in chunks of this size.
ASGI_CHUNK_SIZE = 64 * 1024


class EnvironBuilder(WerkzeugEnvironBuilder):
    """An :class:`~werkzeug.test.EnvironBuilder` that takes the host, script root and scheme
    from the app's ``SERVER_NAME``, ``APPLICATION_ROOT`` and ``PREFERRED_URL_SCHEME``, and
    serializes ``json=`` with the app's JSON provider."""

    def __init__(
        self,
        app: Erlen,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        if base_url is None:
            host = app.config.get("SERVER_NAME") or "localhost"
            root = app.config["APPLICATION_ROOT"]
            if subdomain:
                host = f"{subdomain}.{host}"
            scheme = url_scheme or app.config["PREFERRED_URL_SCHEME"]
            url = urlsplit(path)
            base_url = f"{url.scheme or scheme}://{url.netloc or host}/{root.lstrip('/')}"
            path = url.path + (f"?{url.query}" if url.query else "")
        self.app = app
        super().__init__(path, base_url, *args, **kwargs)

    def json_dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        return self.app.json.dumps(obj, **kwargs)

    def get_environ(self) -> WSGIEnvironment:
        environ = super().get_environ()
        overrides = self.environ_overrides or {}
        if environ.get("HTTP_TRANSFER_ENCODING") and "CONTENT_LENGTH" not in overrides:
            # A client sends a chunked body without a length; with both, erlen refuses the
            # request as ambiguous (see erlen.protocols.screening).
            environ.pop("CONTENT_LENGTH", None)
        return environ


def build_environ(app: Erlen, *args: t.Any, **kwargs: t.Any) -> WSGIEnvironment:
    """The environ that :class:`EnvironBuilder` makes from these arguments (the builder's files
    closed)."""
    builder = EnvironBuilder(app, *args, **kwargs)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def websocket_session(
    app: Erlen, environ: WSGIEnvironment, subprotocols: t.Iterable[str] | None, timeout: float
) -> AsyncWebSocketSession:
    """A WebSocket connection to the request ``environ`` describes, through ``app.asgi_app``."""
    return AsyncWebSocketSession(app, websocket_scope(environ, subprotocols), timeout)


async def run_asgi(app: Erlen, environ: WSGIEnvironment) -> tuple[list[bytes], str, Headers]:
    """Send the request described by ``environ`` through ``app.asgi_app``; return the body
    chunks, the status line and the headers, like :func:`werkzeug.test.run_wsgi_app`."""
    scope = scope_from_environ(environ)
    preserve = environ.get(PRESERVE_CONTEXT_KEY)
    if preserve is not None:
        scope["extensions"][PRESERVE_CONTEXT_EXTENSION] = preserve
    stream = environ["wsgi.input"]
    data = stream.read()
    if stream.seekable():  # a followed 307/308 redirect sends the same body again
        stream.seek(0)
    parts = [data[i : i + ASGI_CHUNK_SIZE] for i in range(0, len(data), ASGI_CHUNK_SIZE)]
    status, headers, chunks = await call_asgi_app(app.asgi_app, scope, parts)
    # Upper-case reason, as werkzeug's responses (and so the WSGI path) spell the status line.
    status_line = f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}"
    return chunks, status_line, Headers(headers)
