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
from .flashing import flash as flash
from .flashing import get_flashed_messages as get_flashed_messages
from .globals import _cv_app, current_app
from .scaffold import get_root_path as get_root_path
from .urls import url_for as url_for

if t.TYPE_CHECKING:
    from werkzeug.sansio.response import Response as SansIOResponse

    from .wrappers import Response

T = t.TypeVar("T")


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


@t.overload
def stream_with_context(generator_or_function: t.Iterator[T]) -> t.Iterator[T]: ...


@t.overload
def stream_with_context(
    generator_or_function: Callable[..., t.Iterator[T]],
) -> Callable[..., t.Iterator[T]]: ...


@t.overload
def stream_with_context(generator_or_function: t.Iterable[T]) -> t.Iterator[T]: ...


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


def __getattr__(name: str) -> t.Any:
    # Jinja2 is imported on first use of a template, not by `import erlen.helpers`.
    if name == "get_template_attribute":
        from .templating import get_template_attribute

        return get_template_attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
