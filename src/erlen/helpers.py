"""Helpers used from views: URLs, redirects, errors, responses, streaming."""

from __future__ import annotations

import functools
import typing as t
from collections.abc import Callable, Iterator

from werkzeug.exceptions import abort as _wz_abort
from werkzeug.utils import redirect as _wz_redirect

from .config import environ_setting as environ_setting
from .config import get_debug_flag as get_debug_flag
from .config import get_load_dotenv as get_load_dotenv
from .files import send_file as send_file
from .files import send_from_directory as send_from_directory
from .globals import _cv_app, _cv_request, current_app, session
from .scaffold import get_root_path as get_root_path
from .signals import message_flashed, run_receiver_sync

if t.TYPE_CHECKING:
    from werkzeug.sansio.response import Response as SansIOResponse

    from .wrappers import Response

T = t.TypeVar("T")


def url_for(
    endpoint: str,
    /,
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
    generator_or_function: t.Iterable[T] | Callable[..., t.Iterator[T]],
) -> t.Iterator[T] | Callable[..., t.Iterator[T]]:
    """Kept for Flask compatibility: erlen keeps the request context active while any streamed
    body is sent, so ``request``, ``session`` and ``g`` already work inside generators.
    Accepts an iterable (a generator) or decorates a generator function."""
    if isinstance(generator_or_function, Iterator) or not callable(generator_or_function):
        return iter(generator_or_function)
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
            _async_wrapper=run_receiver_sync,
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


def __getattr__(name: str) -> t.Any:
    # Jinja2 is imported on first use of a template, not by `import erlen.helpers`.
    if name == "get_template_attribute":
        from .templating import get_template_attribute

        return get_template_attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
