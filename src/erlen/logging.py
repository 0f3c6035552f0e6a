"""The app's logger."""

from __future__ import annotations

import logging
import sys
import typing as t

from .globals import _cv_request, context_proxy

if t.TYPE_CHECKING:
    from .app import Erlen


def _errors_stream() -> t.TextIO:
    ctx = _cv_request.get()
    # Under ASGI there is no wsgi.errors (and building an environ to find none is waste).
    environ = ctx.request._environ if ctx is not None else None
    if isinstance(environ, dict) and environ.get("wsgi.errors") is not None:
        return t.cast(t.TextIO, environ["wsgi.errors"])
    return sys.stderr


#: Where the default handler writes: the request's ``wsgi.errors`` stream (where its WSGI
#: server collects errors), else ``sys.stderr``; looked up on each write.
wsgi_errors_stream: t.TextIO = context_proxy(_errors_stream, "WSGIErrorsStreamProxy")

default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler of ``logger`` or of a logger it propagates to takes records of the
    logger's effective level (then erlen adds no handler of its own)."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: Erlen) -> logging.Logger:
    """The logger named after the app: level DEBUG in debug mode when none is set, and a stderr
    handler only when logging is not configured for it."""
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
