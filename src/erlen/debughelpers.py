"""Errors that explain common mistakes in debug mode, and the template-loading report.

They are raised only when the app is in debug mode, where a clear message helps more than the
plain error would; in production the plain behaviour stays.
"""

from __future__ import annotations

import typing as t

from jinja2.loaders import BaseLoader
from werkzeug.routing import RequestRedirect

if t.TYPE_CHECKING:
    from .app import Erlen
    from .blueprints import Blueprint
    from .wrappers import Request


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Text was given where erlen needed bytes, or the other way round."""


class DebugFilesKeyError(KeyError, AssertionError):
    """``request.files[key]`` failed while the form has ``key``: the form was most likely sent
    without ``enctype="multipart/form-data"``, so the browser sent only the file's name."""

    def __init__(self, request: Request, key: str) -> None:
        names = ", ".join(repr(file) for file in request.form.getlist(key))
        self.msg = (
            f"You tried to access the file {key!r} in request.files, but it is not there. The"
            f" request's content type is {request.mimetype!r}, not 'multipart/form-data', so"
            " the browser sent only the file names"
            + (f" ({names})" if names else "")
            + ". Add enctype='multipart/form-data' to the form."
        )

    def __str__(self) -> str:
        return self.msg


class FormDataRoutingRedirect(AssertionError):
    """A form was posted to a URL that the router redirects (a missing trailing slash, say).
    A browser would follow the redirect with a ``GET`` and lose the form's data, so debug mode
    stops here and says which URL to post to."""

    def __init__(self, request: Request) -> None:
        exc = request.routing_exception
        assert isinstance(exc, RequestRedirect)
        message = [
            f"A request was sent to {request.url!r}, but routing issued a redirect to"
            f" {exc.new_url!r}."
        ]
        if f"{request.base_url}/" == exc.new_url.partition("?")[0]:
            message.append(
                " The URL was defined with a trailing slash. erlen redirects to the URL with"
                " the slash when the request's URL lacks it."
            )
        message.append(
            f" Send the {request.method} request to the new URL: a browser follows the redirect"
            " without the form data. This message is only shown in debug mode."
        )
        super().__init__("".join(message))


def attach_enctype_error_multidict(request: Request) -> None:
    """Make ``request.files[key]`` raise :class:`DebugFilesKeyError` when the key is in the
    form instead: what happens when a form with a file lacks its multipart ``enctype``."""
    files = request.files
    base = type(files)

    class FilesWithHint(base):  # type: ignore[valid-type,misc]
        def __getitem__(self, key: str) -> t.Any:
            try:
                return super().__getitem__(key)
            except KeyError as error:
                if key not in request.form:
                    raise
                raise DebugFilesKeyError(request, key).with_traceback(error.__traceback__) from None

    FilesWithHint.__name__ = base.__name__
    FilesWithHint.__qualname__ = base.__qualname__
    files.__class__ = FilesWithHint


def _describe_loader(loader: BaseLoader) -> t.Iterator[str]:
    yield f"class: {type(loader).__module__}.{type(loader).__name__}"
    for name in sorted(vars(loader)):
        if name.startswith("_"):
            continue
        value = getattr(loader, name)
        if isinstance(value, (tuple, list)):
            if not all(isinstance(item, str) for item in value):
                continue
            yield f"{name}:"
            yield from (f"  - {item}" for item in value)
        elif isinstance(value, (str, int, float, bool)):
            yield f"{name}: {value!r}"


def explain_template_loading_attempts(
    app: Erlen,
    template: str,
    attempts: list[tuple[BaseLoader, Erlen | Blueprint, tuple[str, str | None, t.Any] | None]],
) -> None:
    """Log at INFO which loaders were asked for ``template`` and what each answered (with
    ``EXPLAIN_TEMPLATE_LOADING``), and warn when none or several found it."""
    from .globals import _cv_request

    lines = [f"Locating template {template!r}:"]
    found = 0
    ctx = _cv_request.get()
    blueprint = ctx.request.blueprint if ctx is not None else None
    for index, (loader, source, result) in enumerate(attempts, 1):
        where = (
            f"application {source.import_name!r}"
            if source is app
            else (f"blueprint {source.name!r} ({source.import_name})")
        )
        lines.append(f"{index:5}: trying loader of {where}")
        lines.extend(f"       {line}" for line in _describe_loader(loader))
        if result is None:
            lines.append("       -> no match")
        else:
            found += 1
            lines.append(f"       -> found ({result[1] or '<string>'!r})")
    if found == 0:
        lines.append("Error: the template could not be found.")
    elif found > 1:
        lines.append("Warning: several loaders found the template; the first one is used.")
    if found == 0 and blueprint is not None:
        lines.append(
            f"  The template was looked up from an endpoint of the blueprint {blueprint!r}."
            " Check that the blueprint's template_folder is set and the file is inside it."
        )
    app.logger.info("\n".join(lines))
