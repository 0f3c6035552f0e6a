"""Helpers used from views: URLs, redirects, errors, responses, streaming."""

from __future__ import annotations

import functools
import os
import typing as t
from collections.abc import Callable, Iterator
from datetime import datetime

from werkzeug.exceptions import NotFound
from werkzeug.exceptions import abort as _wz_abort
from werkzeug.security import safe_join
from werkzeug.utils import redirect as _wz_redirect
from werkzeug.utils import send_file as _wz_send_file

from .globals import _cv_app, _cv_request, current_app, request, session
from .signals import message_flashed

if t.TYPE_CHECKING:
    from werkzeug.sansio.response import Response as SansIOResponse

    from .wrappers import Response

T = t.TypeVar("T")


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """The URL of ``endpoint`` with ``values`` for its rule's variables.

    Values that are not rule variables become the query string. ``".name"`` is relative to the
    current blueprint. ``_external`` gives an absolute URL (the default outside a request),
    ``_scheme`` its scheme, ``_anchor`` a ``#fragment``, ``_method`` picks among rules that differ
    by method. An unknown endpoint raises :class:`~werkzeug.routing.BuildError` unless a
    ``url_build_error_handlers`` function returns a URL.
    """
    return current_app.url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )


def redirect(
    location: str, code: int = 302, Response: type[SansIOResponse] | None = None
) -> SansIOResponse:
    """A redirect response to ``location`` (302 by default; use 303 after a POST)."""
    ctx = _cv_app.get()
    if ctx is not None and Response is None:
        return ctx.app.redirect(location, code)
    return _wz_redirect(location, code, Response=Response)  # type: ignore[arg-type]


def abort(code: int | SansIOResponse, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the HTTP error for ``code`` (``abort(404)``), or end with a given response."""
    ctx = _cv_app.get()
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _wz_abort(code, *args, **kwargs)


def make_response(*args: t.Any) -> Response:
    """Turn view-style return values into a response, to change it before returning it:
    ``make_response("Hello", 201, {"X-Id": "1"})``."""
    if not args:
        return current_app.response_class()
    return current_app.make_response(args[0] if len(args) == 1 else args)


def stream_with_context(
    generator_or_function: t.Iterator[T] | Callable[..., t.Iterator[T]],
) -> t.Iterator[T] | Callable[..., t.Iterator[T]]:
    """Kept for Flask compatibility: erlen keeps the request context active while any streamed
    body is sent, so ``request``, ``session`` and ``g`` already work inside generators.
    Accepts a generator or decorates a generator function."""
    if isinstance(generator_or_function, Iterator):
        return generator_or_function
    function = generator_or_function

    @functools.wraps(function)
    def decorator(*args: t.Any, **kwargs: t.Any) -> t.Iterator[T]:
        return function(*args, **kwargs)

    return decorator


# --- flash messages ---------------------------------------------------------------------------


def flash(message: str, category: str = "message") -> None:
    """Keep ``message`` in the session for the next request to show (after a redirect).
    ``category`` is free text; ``"error"``, ``"info"`` and ``"warning"`` are common."""
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    if message_flashed.receivers:
        message_flashed.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            message=message,
            category=category,
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """The flashed messages, taken out of the session (the same list for the rest of the
    request); ``(category, message)`` pairs with ``with_categories``."""
    ctx = _cv_request.get()
    if ctx is None:
        return []
    flashes = ctx.flashes
    if flashes is None:
        flashes = ctx.flashes = session.pop("_flashes") if "_flashes" in session else []
    wanted = set(category_filter)
    if wanted:
        flashes = [pair for pair in flashes if pair[0] in wanted]
    if with_categories:
        return [(category, message) for category, message in flashes]
    return [message for _category, message in flashes]


# --- files --------------------------------------------------------------------------------------


def send_file(
    path_or_file: os.PathLike[str] | str | t.BinaryIO,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | t.Callable[[str | None], int | None] | None = None,
) -> Response:
    """A response with a file's contents, read in chunks as it is sent.

    Sets ``Content-Type`` (guessed from the name), ``ETag`` and ``Last-Modified``, answers
    ``If-None-Match``/``If-Modified-Since`` with 304 and ``Range`` with 206 or 416 when
    ``conditional``; ``as_attachment`` makes it a download named ``download_name`` (non-ASCII
    names included). A relative path is relative to the app's root folder. Never pass a path
    that came from the user: use :func:`send_from_directory` for those.
    """
    from werkzeug.wrappers import Response as WerkzeugResponse  # its import loads multipart

    app = current_app
    rv = _wz_send_file(
        path_or_file,
        request.environ,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=download_name,
        conditional=conditional,
        etag=etag,
        last_modified=last_modified,
        max_age=app.get_send_file_max_age if max_age is None else max_age,
        use_x_sendfile=app.config["USE_X_SENDFILE"],
        response_class=WerkzeugResponse,
        _root_path=app.root_path,
    )
    return app.make_response(rv)


def safe_file_path(directory: os.PathLike[str] | str, path: str) -> str:
    """The path of ``path`` inside ``directory``, or a 404 for anything that could leave it:
    ``..`` segments, absolute paths, backslashes, drive names, NUL bytes."""
    if "\x00" in path or "\\" in path or (len(path) > 1 and path[1] == ":"):
        raise NotFound()
    joined = safe_join(os.fspath(directory), path)
    if joined is None or not os.path.isfile(joined):
        raise NotFound()
    return joined


def send_from_directory(directory: os.PathLike[str] | str, path: str, **kwargs: t.Any) -> Response:
    """Send the file at ``path`` (which may come from the URL) inside ``directory``; a path
    outside the folder or a missing file is a 404. Takes :func:`send_file`'s options."""
    full_path = safe_file_path(os.path.join(current_app.root_path, directory), path)
    return send_file(full_path, **kwargs)
