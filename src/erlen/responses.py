"""Turning what a view returns into a response (``make_response``)."""

from __future__ import annotations

import typing as t
from collections.abc import AsyncIterator, Iterator

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.sansio.response import Response as SansIOResponse

from .globals import _cv_request

if t.TYPE_CHECKING:
    from . import typing as ft
    from .app import Erlen
    from .wrappers import Request, Response


def response_from_value(app: Erlen, rv: ft.ResponseReturnValue | HTTPException) -> Response:
    """The work of :meth:`Erlen.make_response`."""
    status: t.Any = None
    headers: t.Any = None
    if type(rv) is tuple:
        size = len(rv)
        if size == 3:
            rv, status, headers = rv
        elif size == 2:
            if isinstance(rv[1], (Headers, dict, tuple, list)):
                rv, headers = rv
            else:
                rv, status = rv
        else:
            raise TypeError(
                "The view function did not return a valid response tuple. The tuple must"
                " have the form (body, status, headers), (body, status), or (body, headers)."
            )
    if rv is None:
        endpoint = request.endpoint if (request := _current_request()) is not None else None
        raise TypeError(
            f"The view function for {endpoint!r} did not return a valid response. The"
            " function either returned None or ended without a return statement."
        )
    response: Response
    if isinstance(rv, app.response_class):
        response = rv
    elif isinstance(rv, (str, bytes, bytearray)):
        response = app.response_class(rv, status=status, headers=headers)
        status = headers = None
    elif isinstance(rv, (dict, list)):
        response = app.json.response(rv)
    elif isinstance(rv, HTTPException):
        response = _from_http_exception(app, rv)
    elif isinstance(rv, SansIOResponse):
        response = app.response_class(
            getattr(rv, "response", []), rv.status, rv.headers, direct_passthrough=True
        )
    elif isinstance(rv, (Iterator, AsyncIterator)):
        response = app.response_class(rv)
    elif callable(rv):
        response = _from_wsgi_app(app, rv)
    else:
        raise TypeError(
            "The view function did not return a valid response. The return type must be a"
            " string, dict, list, tuple with headers or status, Response instance, iterator,"
            f" or WSGI callable, but it was a {type(rv).__name__}."
        )
    if status is not None:
        if isinstance(status, (str, bytes, bytearray)):
            response.status = status.decode() if not isinstance(status, str) else status
        else:
            response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def _from_http_exception(app: Erlen, error: HTTPException) -> Response:
    if error.response is not None:
        return response_from_value(app, t.cast("ft.ResponseReturnValue", error.response))
    if isinstance(error, RequestRedirect):  # its response carries the Location header
        return app.redirect(_on_this_site(error.new_url), error.code)
    error_class = type(error)
    if (
        error_class.get_headers is HTTPException.get_headers
        and error_class.get_body is HTTPException.get_body
        and error.code is not None
    ):
        # The common case (404, 400, 413...): one page per error class and description.
        return app.response_class(_error_page(error), error.code, direct_passthrough=True)
    return app.response_class(
        error.get_body(), error.code, error.get_headers(), direct_passthrough=True
    )


def _on_this_site(url: str) -> str:
    """The router's redirect (a missing slash, an alias) as a relative URL when it stays on the
    request's scheme and host, so that a forged ``Host`` never comes back in ``Location``."""
    ctx = _cv_request.get()
    if ctx is None:
        return url
    request = ctx.request
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if scheme == request.scheme and host == request.host:
        return slash + path
    return url


_error_pages: dict[tuple[type[HTTPException], str | None], bytes] = {}


def _error_page(error: HTTPException) -> bytes:
    key = (type(error), error.description)
    page = _error_pages.get(key)
    if page is None:
        page = error.get_body().encode()
        if len(_error_pages) < 256:  # descriptions can carry request data: keep it bounded
            _error_pages[key] = page
    return page


def _from_wsgi_app(app: Erlen, wsgi_app: t.Any) -> Response:
    request = _current_request()
    if request is None:
        raise RuntimeError("A WSGI application can only be a response during a request.")
    started: list[t.Any] = []

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        started[:] = [status, headers]
        return lambda data: None

    body = wsgi_app(request.environ, start_response)
    if not started:  # a lazy application starts the response on the first chunk
        body = iter(body)
        first = next(body, b"")
        return _from_wsgi_parts(app, started, [first, *body])
    return _from_wsgi_parts(app, started, body)


def _from_wsgi_parts(app: Erlen, started: list[t.Any], body: t.Any) -> Response:
    status, headers = started
    return app.response_class(body, status, headers, direct_passthrough=True)


def _current_request() -> Request | None:
    ctx = _cv_request.get()
    return ctx.request if ctx is not None else None
