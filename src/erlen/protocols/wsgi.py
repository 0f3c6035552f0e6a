"""Serve the app to a WSGI server: environ in, status, headers and body out."""

from __future__ import annotations

import io
import sys
import typing as t
from collections.abc import AsyncIterable, Iterator
from urllib.parse import quote

from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
)
from werkzeug.wsgi import LimitedStream, get_content_length, get_input_stream

from .._speedups.headers import header_pairs
from ..concurrency import call_blocking, drive, iterate_on_thread_loop
from ..ctx import RequestContext
from ..wrappers import encode_chunk
from .in_thread import Body, handle_in_thread
from .request_path import canonical_path
from .screening import refusal, screen_environ

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ..app import Erlen
    from ..typing import Scope
    from ..wrappers import Connection, Request, Response

#: The environ key through which the test client and werkzeug's debugger keep the request
#: context after the request (Flask uses the same key).
#: Set in the environ by erlen's test client: a request from a test, not from a server.
TEST_CLIENT_KEY = "erlen.test_client"
PRESERVE_CONTEXT_KEY = "werkzeug.debug.preserve_context"


def _wsgi_str(value: str) -> str:
    # PEP 3333 carries bytes as latin-1 strings; URLs are UTF-8.
    return value.encode("latin-1").decode("utf-8", "replace")


class _TerminatedInput(LimitedStream):
    """``wsgi.input`` of a server that terminates the body itself (``wsgi.input_terminated``),
    which werkzeug reads unchecked: a body that ends before ``Content-Length`` is a 400, one past
    the maximum a 413 even when read whole, and the server's own error on a malformed body
    (gunicorn's ``InvalidChunkSize``) a 400, not a 500."""

    def __init__(self, stream: t.IO[bytes], limit: int, is_max: bool) -> None:
        super().__init__(stream, limit, is_max=is_max)
        self._source, self._is_max = stream, is_max  # werkzeug's own are private

    def readinto(self, b: t.Any) -> int | None:
        try:
            return super().readinto(b)
        except HTTPException:
            raise
        except Exception as error:
            raise BadRequest("The request body is malformed.") from error

    def readall(self) -> bytes:
        data = super().readall()
        if self._is_max and self.is_exhausted:
            try:
                more = self._source.read(1)
            except Exception as error:
                raise BadRequest("The request body is malformed.") from error
            if more:
                raise RequestEntityTooLarge()
        return data


#: A body up to this size, with a ``Content-Length``, is read in one call when it is opened:
#: werkzeug's ``LimitedStream`` reads in Python-level steps, a measurable cost for a small body.
SMALL_BODY = 64 * 1024


def _open_input(request: Request, max_content_length: int | None) -> t.IO[bytes]:
    environ = request.environ
    length = get_content_length(environ)
    if length is not None and length <= SMALL_BODY:
        if max_content_length is not None and length > max_content_length:
            raise RequestEntityTooLarge()
        try:
            data = environ["wsgi.input"].read(length) if length else b""
        except Exception as error:  # the server's own error on a malformed body
            raise BadRequest("The request body is malformed.") from error
        if len(data) != length:
            raise ClientDisconnected()
        return io.BytesIO(data)
    stream = get_input_stream(environ, max_content_length=max_content_length)  # 413 on length
    if "wsgi.input_terminated" not in environ:
        return stream
    limit = length if length is not None else max_content_length
    wrapped = _TerminatedInput(
        environ["wsgi.input"], sys.maxsize if limit is None else limit, is_max=length is None
    )
    return t.cast(t.IO[bytes], wrapped)


def request_from_environ(request_class: type[Request], environ: WSGIEnvironment) -> Request:
    """Build a request from a WSGI environ; nothing is parsed yet."""
    path = environ.get("PATH_INFO") or ""
    path = path if path.isascii() else _wsgi_str(path)  # (checked here: no call per request)
    return request_class(
        environ.get("REQUEST_METHOD", "GET").upper(),
        canonical_path(path),
        environ,  # its headers are read on first use
        _environ_connection,
        _open_input,
        environ,
    )


def _environ_connection(request: Request) -> Connection:
    """A WSGI request's connection fields, read from its environ on first use."""
    environ = request.environ
    name = environ.get("SERVER_NAME")
    port = environ.get("SERVER_PORT")
    root = environ.get("SCRIPT_NAME") or ""
    return (
        environ.get("wsgi.url_scheme", "http"),
        (name, int(port) if port else None) if name else None,
        (root if root.isascii() else _wsgi_str(root)).rstrip("/"),
        environ.get("QUERY_STRING", "").encode("latin-1"),
        environ.get("REMOTE_ADDR"),
    )


def scope_from_environ(environ: WSGIEnvironment) -> Scope:
    """The ASGI HTTP scope equivalent to a WSGI environ (for driving the ASGI path in tests)."""
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if value == "" and key == "CONTENT_LENGTH":
            continue
        headers.append((name.replace("_", "-").lower().encode("latin-1"), value.encode("latin-1")))
    root_path = environ.get("SCRIPT_NAME", "").encode("latin-1").decode("utf-8", "replace")
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2] or "1.1",
        "method": environ["REQUEST_METHOD"],
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": root_path + path,
        "raw_path": quote(root_path + path).encode(),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": root_path,
        "headers": headers,
        "client": (environ.get("REMOTE_ADDR", "127.0.0.1"), int(environ.get("REMOTE_PORT") or 0)),
        "server": (environ.get("SERVER_NAME", "localhost"), int(environ.get("SERVER_PORT") or 80)),
        "extensions": {},
    }


def serve_wsgi(
    app: Erlen, environ: WSGIEnvironment, start_response: StartResponse
) -> t.Iterable[bytes]:
    """Handle one WSGI request. A body known in advance (a list, the server's file wrapper) is
    returned after teardown; a streamed body keeps the request context until the server closes
    it."""
    if not app.lifecycle.started:
        app.lifecycle.start_for_wsgi(environ.get(TEST_CLIENT_KEY) is True)
    refused = screen_environ(app.config, environ)
    if refused is not None:
        response = refusal(app, refused, environ.get("wsgi.url_scheme", "http"))
        start_response(response.status, list(header_pairs(response.headers)))
        return list(response.iter_encoded())
    ctx = RequestContext(app, request_from_environ(app.request_class, environ))
    file_wrapper = environ.get("wsgi.file_wrapper")
    response, error, outcome = drive(
        handle_in_thread(app, ctx, call_blocking, ctx.request.method, file_wrapper)
    )
    preserve = environ.get(PRESERVE_CONTEXT_KEY)
    if preserve is not None:
        preserve(ctx)
    start_response(response.status, list(header_pairs(response.headers)))
    if outcome is Body.NONE:
        return []
    if outcome is Body.STREAMED:
        return StreamedBody(ctx, response, error)
    body = response.response
    if type(body) is not list:  # the server's file wrapper: it may use sendfile()
        return t.cast("t.Iterable[bytes]", body)
    if len(body) == 1 and type(body[0]) is bytes:
        return body
    return list(response.iter_encoded())


class StreamedBody:
    """A body the server iterates after ``wsgi_app`` returned. The request context stays active
    until the server calls :meth:`close`, which runs teardown."""

    def __init__(self, ctx: RequestContext, response: Response, error: BaseException | None):
        self._ctx = ctx
        self._response = response
        self._error = error
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        body = self._response.response
        chunks = iterate_on_thread_loop(body) if isinstance(body, AsyncIterable) else iter(body)
        try:
            for chunk in chunks:
                # type() first: measurably cheaper than a call once per chunk
                yield chunk.encode() if type(chunk) is str else encode_chunk(chunk)
        except Exception as error:
            self._error = error
            raise
        finally:
            # An iterator of our own is closed here; the body itself by the response's close.
            close = getattr(chunks, "close", None) if chunks is not body else None
            if close is not None:
                close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._response.close()
        finally:
            self._ctx.pop(self._error)
