"""Serve the app to a WSGI server: environ in, status, headers and body out."""

from __future__ import annotations

import functools
import typing as t
from collections.abc import AsyncIterable, Iterator

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import get_input_stream

from ..concurrency import call_inline, drive, iterate_on_thread_loop
from ..ctx import RequestContext

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ..app import Erlen
    from ..wrappers import Request, Response

#: The environ key through which the test client and werkzeug's debugger keep the request
#: context after the request (Flask uses the same key).
PRESERVE_CONTEXT_KEY = "werkzeug.debug.preserve_context"


def _wsgi_str(value: str) -> str:
    # PEP 3333 carries bytes as latin-1 strings; URLs are UTF-8.
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "replace")


def _open_input(environ: WSGIEnvironment, max_content_length: int | None) -> t.IO[bytes]:
    return get_input_stream(environ, max_content_length=max_content_length)


def request_from_environ(request_class: type[Request], environ: WSGIEnvironment) -> Request:
    """Build a request from a WSGI environ; nothing is parsed yet."""
    name = environ.get("SERVER_NAME")
    port = environ.get("SERVER_PORT")
    path = _wsgi_str(environ.get("PATH_INFO") or "")
    return request_class(
        environ.get("REQUEST_METHOD", "GET").upper(),
        environ.get("wsgi.url_scheme", "http"),
        (name, int(port) if port else None) if name else None,
        _wsgi_str(environ.get("SCRIPT_NAME") or "").rstrip("/"),
        path if path[:1] == "/" and path[1:2] != "/" else "/" + path.lstrip("/"),
        environ.get("QUERY_STRING", "").encode("latin-1"),
        EnvironHeaders(environ),
        environ.get("REMOTE_ADDR"),
        body=functools.partial(_open_input, environ),
        environ=environ,
    )


def serve_wsgi(
    app: Erlen, environ: WSGIEnvironment, start_response: StartResponse
) -> t.Iterable[bytes]:
    """Handle one WSGI request. A body that is a list is returned as is, after teardown; a
    streamed body keeps the request context until the server closes it."""
    ctx = RequestContext(app, request_from_environ(app.request_class, environ))
    ctx.push()
    try:
        response, error = drive(app.handle_request(ctx, call_inline))
    except BaseException as exc:
        ctx.pop(exc)
        raise
    preserve = environ.get(PRESERVE_CONTEXT_KEY)
    if preserve is not None:
        preserve(ctx)
    start_response(response.status, response.headers.to_wsgi_list())
    body = response.response
    if environ.get("REQUEST_METHOD") == "HEAD":
        response.close()
        ctx.pop(error)
        return []
    if type(body) is list and not response._on_close:
        ctx.pop(error)
        if all(type(chunk) is bytes for chunk in body):
            return t.cast("list[bytes]", body)
        return list(response.iter_encoded())
    return StreamedBody(ctx, response, error)


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
                yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
        except Exception as error:
            self._error = error
            raise
        finally:
            close = getattr(chunks, "close", None)
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
