"""The request pipeline, written once for WSGI and ASGI: what happens to a request from the
moment an adapter hands it over with its context pushed, to the response it gets back.

:func:`handle_request` (HTTP) and :func:`handle_websocket` share :func:`dispatch`: matching
(:func:`match_request`), the session of a store (:func:`open_session`), cross-site
protection, the ``started`` signal, the before-hooks and the view. How each user function is
called is the adapter's :class:`~erlen.concurrency.Invoker`. The response is made by
:mod:`erlen.finalizing`. Each step is also a method of :class:`~erlen.Erlen` with Flask's name;
a subclass or an extension that overrides one is called instead, where Flask calls it.
"""

from __future__ import annotations

import typing as t
from types import CoroutineType

from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, RequestRedirect, WebsocketMismatch
from werkzeug.sansio.response import Response as SansIOResponse

from .concurrency import Invoker, is_async_callable
from .errors import handle_exception, handle_user_exception
from .finalizing import finalize, registered_for
from .protocols.asgi import response_from_asgi_app
from .security import SAFE_METHODS, check_cross_site, screen_request
from .signals import (
    appcontext_tearing_down,
    has_receivers,
    request_started,
    send_signal,
    websocket_finished,
    websocket_started,
)
from .websockets import UpgradeRequired, WebSocketDisconnect

if t.TYPE_CHECKING:
    from blinker import Signal

    from . import typing as ft
    from .app import Erlen
    from .ctx import RequestContext
    from .routing import Rule
    from .wrappers import Request, Response


async def handle_request(
    app: Erlen, ctx: RequestContext, invoke: Invoker, _outermost: bool = True
) -> tuple[Response, BaseException | None]:
    """Run one request through the pipeline; the adapters call this with the context pushed.

    Matches the URL, runs the ``before_request`` hooks and the view, hands HTTP errors and
    exceptions to their handlers, makes the response and runs the ``after_request`` hooks.
    Returns the response and the unhandled error (``None`` if none), which teardown
    receives. Errors propagate when ``PROPAGATE_EXCEPTIONS`` is on (testing, debug mode).
    """
    # _outermost=False: the part that is Flask's full_dispatch_request (errors no handler
    # takes propagate), run by that method. One coroutine for both: one frame per request.
    if not app._got_first_request:  # (set once: setting goes through __setattr__)
        app._got_first_request = True
    request = ctx.request
    overrides = app._overrides
    try:
        if _outermost and overrides and "full_dispatch_request" in overrides:
            return await invoke(app.full_dispatch_request), None
        try:
            rv = await dispatch(app, ctx, invoke, request_started, app.before_request_funcs)
            if callable(rv) and is_async_callable(rv) and not isinstance(rv, SansIOResponse):
                rv = await invoke(response_from_asgi_app, app, rv, request)
        except Exception as error:
            if overrides and "handle_user_exception" in overrides:
                rv = await invoke(app.handle_user_exception, error)
            else:
                rv = await handle_user_exception(app, request, error, invoke)
        if overrides and "finalize_request" in overrides:
            return await invoke(app.finalize_request, rv), None
        response = finalize(app, ctx, rv, invoke)
        if type(response) is CoroutineType:
            response = await response
        return response, None  # type: ignore[return-value]  # (awaited: no t.cast call)
    except Exception as error:
        if not _outermost:
            raise
        if overrides and "handle_exception" in overrides:
            return await invoke(app.handle_exception, error), error
        return await handle_exception(app, ctx, error, invoke), error


async def handle_websocket(
    app: Erlen, ctx: RequestContext, invoke: Invoker
) -> tuple[Response | None, BaseException | None]:
    """Run one WebSocket connection through the pipeline: match, ``before_websocket`` hooks,
    the handler, ``after_websocket`` hooks. Returns the response that refuses the handshake
    (``None`` once the handler ran) and the unhandled error, as :func:`handle_request`."""
    if not app._got_first_request:  # (set once: setting goes through __setattr__)
        app._got_first_request = True
    websocket = ctx.request
    try:
        try:
            hooks = app.before_websocket_funcs
            rv = await dispatch(app, ctx, invoke, websocket_started, hooks)
        except WebSocketDisconnect:
            rv = None  # the client left: the handler's normal end
        except Exception as error:
            rv = await handle_user_exception(app, websocket, error, invoke)
        response = None if rv is None else app.make_response(rv)
        for name in (*websocket.blueprints, None):
            for func in reversed(app.after_websocket_funcs.get(name, ())):
                response = await invoke(func, response)
        if has_receivers(websocket_finished, app):
            await send_signal(websocket_finished, app, invoke, response=response)
        return response, None
    except Exception as error:
        return await handle_exception(app, ctx, error, invoke), error


async def dispatch(
    app: Erlen,
    ctx: RequestContext,
    invoke: Invoker,
    started: Signal,
    hooks: dict[ft.AppOrBlueprintKey, list[ft.BeforeRequestCallable]],
) -> t.Any:
    """The part of the pipeline HTTP requests and WebSocket handshakes share: screening,
    matching, cross-site protection, the ``started`` signal, the before-hooks, and the view
    or handler. Returns what the hook or the view returned."""
    request = ctx.request
    config = app.config
    if not ctx.routed:
        match_request(app, ctx, screen=True)
    if app.session_interface.blocking and ctx._session is None:
        await open_session(app, ctx, invoke)
    if config["CROSS_SITE_PROTECTION"] and (
        request.method not in SAFE_METHODS or request.is_websocket
    ):
        checking = check_cross_site(app, request, invoke)
        if checking is not None:
            await checking
    if started in app._signals_with_receivers:
        await send_signal(started, app, invoke)
    preprocessors = app.url_value_preprocessors
    overrides = app._overrides
    if overrides and not request.is_websocket and "preprocess_request" in overrides:
        rv = await invoke(app.preprocess_request)
        if rv is not None:
            return rv
    elif (hooks and registered_for(request, hooks)) or (
        preprocessors and registered_for(request, preprocessors)
    ):
        rv = await preprocess_request(app, request, invoke, hooks)
        if rv is not None:
            return rv
    if overrides and not request.is_websocket and "dispatch_request" in overrides:
        return await invoke(app.dispatch_request)
    # The common cases of view_call, without its call: a view to run, a 404 or 405.
    error = request.routing_exception
    if error is None and request.method != "OPTIONS":
        rule: Rule = request.url_rule  # type: ignore[assignment]  # matched (no t.cast call)
        return await invoke(app.view_functions[rule.endpoint], **request.view_args)  # type: ignore[arg-type]
    if error is not None and not overrides and not isinstance(error, RequestRedirect):
        raise error
    return await view_call(app, request, invoke)


async def open_session(app: Erlen, ctx: RequestContext, invoke: Invoker) -> None:
    """Open the session of an interface that does I/O (a server-side store) before anything
    of the app runs, through the invoker: in a worker thread under ASGI, so that the loop
    never waits for the store (a view's first ``session`` access would, on the loop)."""
    interface = app.session_interface
    session = await invoke(interface.open_session, app, ctx.request)
    ctx._session = interface.make_null_session(app) if session is None else session


def view_call(app: Erlen, request: Request, invoke: Invoker) -> t.Awaitable[t.Any]:
    """The call of the matched view (not awaited here: one coroutine less per request)."""
    error = request.routing_exception
    if error is not None:
        if app._overrides or isinstance(error, RequestRedirect):
            app.raise_routing_exception(request)
        raise error  # what raise_routing_exception does for any other error
    rule: Rule = request.url_rule  # type: ignore[assignment]  # matched (no t.cast call)
    if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
        return invoke(app.make_default_options_response)
    view = app.view_functions[rule.endpoint]
    return invoke(view, **request.view_args)  # type: ignore[arg-type]


def runs_in_worker(app: Erlen, ctx: RequestContext) -> bool:
    """Whether, under ASGI, the request's pipeline runs in one worker-thread call (see
    :class:`~erlen.concurrency.LoopHopInvoker`) rather than on the loop: when its view is
    sync and so is a hook or teardown function that runs with it. (A sync view alone costs
    one round trip either way, and the pipeline runs faster on the loop's thread.) Routes
    the request to know; a request refused while routing is left to the pipeline."""
    try:
        match_request(app, ctx, screen=True)
    except Exception:
        return False
    rule = ctx.request.url_rule
    if rule is None:
        return False
    plan = app._worker_plans.get(rule.endpoint)
    if plan is None:
        plan = app._worker_plans[rule.endpoint] = plan_worker(app, ctx.request)
    return plan


def plan_worker(app: Erlen, request: Request) -> bool:
    """:func:`runs_in_worker` for the requests of one endpoint (the functions that run
    with a view are known once the app serves)."""
    view = app.view_functions.get(request.endpoint)  # type: ignore[arg-type]
    if view is None or is_async_callable(view):
        return False
    if app._overrides:  # a method of the pipeline that a subclass or extension replaced
        return True
    names = (None, *request.blueprints)
    functions = [
        *(f for name in names for f in app.before_request_funcs.get(name, ())),
        *(f for name in names for f in app.after_request_funcs.get(name, ())),
        *(f for name in names for f in app.teardown_request_funcs.get(name, ())),
        *app.teardown_appcontext_funcs,
    ]
    return any(not is_async_callable(function) for function in functions)


def match_request(app: Erlen, ctx: RequestContext, screen: bool = False) -> None:
    """Match the URL; with ``screen``, first take the proxy headers and check the host,
    and mark the request routed (what the pipeline needs before anything of the app)."""
    request = ctx.request
    if screen:
        config = app.config
        if config["TRUSTED_PROXIES"] or config["TRUSTED_HOSTS"]:
            screen_request(app, request)
        ctx.routed = True
    url_map = app.url_map
    websocket = request.is_websocket
    if url_map.fast_static and not websocket:
        shortcuts = url_map.shortcuts or url_map.route_shortcuts()
        rule = shortcuts.match_static(request.path, request.method)
        if rule is not None:
            request.url_rule, request.view_args = rule, {}
            return
    try:
        if url_map.fast_static:
            try:
                rule, args = url_map.match_path(request.path, request.method, websocket)
            except RequestRedirect:  # its URL needs the request's own host: match again
                rule, args = t.cast(MapAdapter, ctx.url_adapter).match(return_rule=True)
        else:
            rule, args = t.cast(MapAdapter, ctx.url_adapter).match(return_rule=True)
        # The matchers return a new dict (copied only if one ever does not).
        request.url_rule, request.view_args = rule, args if type(args) is dict else dict(args)
    # Kept without its traceback: its frames would hold the request (and the caller's
    # frames) in a cycle until the garbage collector runs.
    except WebsocketMismatch as error:
        request.routing_exception = error.with_traceback(None) if websocket else UpgradeRequired()
    except HTTPException as error:
        request.routing_exception = error.with_traceback(None)


_APP_ONLY = (None,)  # the hooks' keys for a request outside any blueprint


async def preprocess_request(
    app: Erlen,
    request: Request,
    invoke: Invoker,
    hooks: dict[ft.AppOrBlueprintKey, list[ft.BeforeRequestCallable]],
) -> t.Any:
    blueprints = request.blueprints
    names = (None, *reversed(blueprints)) if blueprints else _APP_ONLY
    if app.url_value_preprocessors:
        for name in names:
            for preprocessor in app.url_value_preprocessors.get(name, ()):
                preprocessor(request.endpoint, request.view_args)
    for name in names:
        for func in hooks.get(name, ()):
            rv = await invoke(func)
            if rv is not None:
                return rv
    return None


async def teardown_appcontext(app: Erlen, invoke: Invoker, exc: BaseException | None) -> None:
    for func in reversed(app.teardown_appcontext_funcs):
        await invoke(func, exc)
    if has_receivers(appcontext_tearing_down, app):
        await send_signal(appcontext_tearing_down, app, invoke, exc=exc)
