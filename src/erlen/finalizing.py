"""Making the response: a view's return value as a :class:`~erlen.wrappers.Response`, the
default security headers, the ``after_request`` hooks, the session saved, its headers
checked (:mod:`erlen.response_headers`), ``request_finished`` sent. Shared by the pipeline and
the 500 page of :mod:`erlen.errors`.
"""

from __future__ import annotations

import typing as t

from .response_headers import drop_unsafe_headers, refuse_unsafe_headers
from .security import add_security_headers
from .signals import request_finished, send_signal

if t.TYPE_CHECKING:
    from collections.abc import Coroutine

    from werkzeug.datastructures import Headers

    from . import typing as ft
    from .app import Erlen
    from .concurrency import Invoker
    from .ctx import RequestContext
    from .wrappers import Request, Response


def finalize(
    app: Erlen, ctx: RequestContext, rv: t.Any, invoke: Invoker, from_error_handler: bool = False
) -> Response | Coroutine[t.Any, t.Any, Response]:
    """The view's (or error handler's) return value as the response, after-hooks run, its
    headers checked (see :mod:`erlen.response_headers`). When nothing runs after the view
    (most requests), the response, made without a coroutine; otherwise the coroutine that
    runs what does, to await."""
    request = ctx.request
    response = app.make_response(rv)
    check = drop_unsafe_headers if from_error_handler else refuse_unsafe_headers
    if not (
        ctx._after_request_functions
        or (app.after_request_funcs and registered_for(request, app.after_request_funcs))
        or ctx._session is not None  # (ctx.session_opened, without the call)
        or request_finished in app._signals_with_receivers
        or app._overrides
    ):
        # Nothing runs after: the default headers, checked when configured, come after the
        # check (the error page goes out in any case: drop, not refuse).
        check(response.headers)
        add_security_headers(app, request, response)
        return response
    return _finalize_running(app, ctx, response, invoke, check, from_error_handler)


async def _finalize_running(
    app: Erlen,
    ctx: RequestContext,
    response: Response,
    invoke: Invoker,
    check: t.Callable[[Headers], None],
    from_error_handler: bool,
) -> Response:
    add_security_headers(app, ctx.request, response)
    try:
        if "process_response" in app._overrides:
            response = await invoke(app.process_response, response)
        else:
            response = await process_response(app, ctx, response, invoke)
    except Exception:
        if not from_error_handler:
            raise
        app.logger.exception("Request finalizing failed with an error while handling an error")
    check(response.headers)
    return response


async def process_response(
    app: Erlen, ctx: RequestContext, response: Response, invoke: Invoker
) -> Response:
    for func in ctx._after_request_functions or ():
        response = await invoke(func, response)
    if app.after_request_funcs:
        for name in (*ctx.request.blueprints, None):
            for func in reversed(app.after_request_funcs.get(name, ())):
                response = await invoke(func, response)
    if ctx.session_opened:
        session = ctx.session
        interface = app.session_interface
        if not interface.is_null_session(session):
            if interface.blocking:  # a store: not on the loop (see erlen.pipeline.open_session)
                await invoke(interface.save_session, app, session, response)
            else:
                interface.save_session(app, session, response)
    if request_finished in app._signals_with_receivers:
        await send_signal(request_finished, app, invoke, response=response)
    return response


def registered_for(request: Request, functions: t.Mapping[ft.AppOrBlueprintKey, t.Any]) -> bool:
    """Whether ``functions`` (hooks by blueprint name, ``None`` for the app) has any for the
    request's blueprints or the app: hooks of other blueprints cost this request nothing."""
    if functions.get(None):
        return True
    blueprints = request.blueprints
    return bool(blueprints) and any(functions.get(name) for name in blueprints)
