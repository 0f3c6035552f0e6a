"""What happens when a request raises: HTTP errors, error handlers, and the 500 page."""

from __future__ import annotations

import typing as t
from types import CoroutineType, TracebackType

from werkzeug.exceptions import BadRequestKeyError, HTTPException, InternalServerError
from werkzeug.routing import RoutingException

from .finalizing import finalize
from .scaffold import exception_class_and_code
from .signals import got_request_exception, has_receivers, send_signal

if t.TYPE_CHECKING:
    from . import typing as ft
    from .app import Erlen
    from .concurrency import Invoker
    from .ctx import RequestContext
    from .wrappers import Request, Response


async def handle_user_exception(
    app: Erlen, request: Request, error: Exception, invoke: Invoker
) -> t.Any:
    """Handle an error raised while dispatching: an HTTP error becomes its response unless a
    handler is registered; any other exception goes to its handler, or propagates."""
    if isinstance(error, HTTPException):
        if isinstance(error, BadRequestKeyError) and (
            app.debug or app.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            error.show_exception = True
        if not app.trap_http_exception(error):
            if "handle_http_exception" in app._overrides:
                return await invoke(app.handle_http_exception, error)
            return await handle_http_exception(app, request, error, invoke)
    handler = find_error_handler(app, error, request.blueprints) if app.error_handler_spec else None
    if handler is None:
        raise error
    return await invoke(handler, error)


async def handle_http_exception(
    app: Erlen, request: Request, error: HTTPException, invoke: Invoker
) -> t.Any:
    """An HTTP error's registered handler's answer, or the error itself as the response.
    Routing's own answers (redirects) and errors without a code are never handled."""
    if error.code is None or isinstance(error, RoutingException):
        return _as_response_value(error)
    handler = find_error_handler(app, error, request.blueprints) if app.error_handler_spec else None
    if handler is None:
        return _as_response_value(error)
    return await invoke(handler, error)


def _as_response_value(error: Exception) -> Exception:
    """An HTTP error that becomes the response as it is. Its traceback is dropped: nothing logs
    it, and its frames refer back to the request that refers to the error (the routing error),
    a cycle that would wait for the garbage collector on every 404."""
    error.__traceback__ = None
    return error


def find_error_handler(
    app: Erlen, error: BaseException, blueprints: list[str]
) -> ft.ErrorHandlerCallable | None:
    """The most specific handler: by code, then along the exception class's MRO; each of
    those in the innermost blueprint first, the app last."""
    exc_class, code = exception_class_and_code(type(error))
    names = (*blueprints, None)
    for handler_code in (code, None) if code is not None else (None,):
        for name in names:
            spec = app.error_handler_spec.get(name)
            handlers = spec.get(handler_code) if spec else None
            if not handlers:
                continue
            for cls in exc_class.__mro__:
                handler = handlers.get(cls)
                if handler is not None:
                    return handler
    return None


async def handle_exception(
    app: Erlen, ctx: RequestContext, error: Exception, invoke: Invoker
) -> Response:
    """An exception no handler took: propagate it (testing, debug mode, or
    ``PROPAGATE_EXCEPTIONS``), or log it and answer with the 500 handler or a plain 500 page."""
    if has_receivers(got_request_exception, app):
        await send_signal(got_request_exception, app, invoke, exception=error)
    propagate = app.config["PROPAGATE_EXCEPTIONS"]
    if propagate is None:
        propagate = app.testing or app.debug
    if propagate:
        raise error
    app.log_exception((type(error), error, t.cast(TracebackType, error.__traceback__)))
    server_error: t.Any = InternalServerError(original_exception=error)
    handler = find_error_handler(app, server_error, ctx.request.blueprints)
    if handler is not None:
        server_error = await invoke(handler, server_error)
    if "finalize_request" in app._overrides:
        return t.cast("Response", await invoke(app.finalize_request, server_error, True))
    response = finalize(app, ctx, server_error, invoke, from_error_handler=True)
    return await response if type(response) is CoroutineType else t.cast("Response", response)
