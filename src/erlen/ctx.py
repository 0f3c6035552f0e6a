"""Application and request contexts, pushed on :mod:`contextvars`."""

from __future__ import annotations

import enum
import functools
import typing as t
from collections.abc import Callable, Coroutine, Iterator
from types import TracebackType

from .concurrency import Invoker, call_blocking, drive, is_async_callable
from .globals import _cv_app, _cv_request
from .signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    has_receivers,
    request_tearing_down,
    send_signal,
)

if t.TYPE_CHECKING:
    from werkzeug.routing import MapAdapter

    from .app import Erlen
    from .sessions import SessionMixin
    from .wrappers import Request, Response

F = t.TypeVar("F", bound=Callable[..., t.Any])
Self = t.TypeVar("Self", bound="_Pushable")
BackgroundCall = tuple[Callable[..., t.Any], tuple[t.Any, ...], dict[str, t.Any]]


class _Missing(enum.Enum):
    """Nothing given or computed yet (a member of its own type, so that checks narrow)."""

    MISSING = enum.auto()


_missing = _Missing.MISSING


class _AppCtxGlobals:
    """The ``g`` namespace: attributes that live as long as the application context."""

    # Declared so that type checkers accept any attribute on ``g``.
    def __getattr__(self, name: str) -> t.Any:
        raise AttributeError(name)

    if t.TYPE_CHECKING:  # (setting is object's own: a method here would cost a call per set)

        def __setattr__(self, name: str, value: t.Any) -> None: ...

    def __delattr__(self, name: str) -> None:
        try:
            del self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """The attribute ``name``, or ``default`` when it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _missing) -> t.Any:
        """Remove and return the attribute ``name`` (``default`` if given and it is missing)."""
        if default is _missing:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """The attribute ``name``, set to ``default`` first if it is missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        return f"<erlen.g of {_cv_app.get()!r}>"


class _Pushable:
    """``with ctx:`` pushes the context and pops it at the end of the block."""

    def push(self) -> None:
        raise NotImplementedError

    def pop(self, exc: BaseException | None = None) -> None:
        raise NotImplementedError

    def __enter__(self: Self) -> Self:
        self.push()
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.pop(exc)


class AppContext(_Pushable):
    """Makes ``current_app`` and ``g`` available. Created by :meth:`Erlen.app_context`; a
    request context is its own application context when none of its app is active. Use it as a
    context manager (``with app.app_context():``)."""

    app: Erlen
    _g: _AppCtxGlobals | None = None
    _url_adapter: MapAdapter | _Missing | None = _missing

    def __init__(self, app: Erlen) -> None:
        self.app = app
        self._saved_apps: list[AppContext | None] = []

    @property
    def g(self) -> _AppCtxGlobals:
        if self._g is None:
            self._g = self.app.app_ctx_globals_class()
        return self._g

    @g.setter
    def g(self, value: _AppCtxGlobals) -> None:
        self._g = value

    @property
    def url_adapter(self) -> MapAdapter | None:
        adapter = self._url_adapter
        if adapter is _missing:
            adapter = self._url_adapter = self.app.create_url_adapter(None)
        return adapter

    def push(self) -> None:
        """Make this the current application context."""
        self._saved_apps.append(_cv_app.get())
        self._enter_app()

    def _enter_app(self) -> None:
        _cv_app.set(self)
        if appcontext_pushed in self.app._signals_with_receivers:
            drive(send_signal(appcontext_pushed, self.app, call_blocking))

    async def _pop(self, invoke: Invoker, exc: BaseException | None) -> None:
        await self._leave_app(invoke, exc, self._saved_apps.pop())

    async def _leave_app(
        self, invoke: Invoker, exc: BaseException | None, previous: AppContext | None
    ) -> None:
        """Run the app teardown functions and signals, and make ``previous`` current again."""
        app = self.app
        try:
            if "do_teardown_appcontext" in app._overrides:
                await invoke(app.do_teardown_appcontext, exc)
            else:
                await app._teardown_appcontext(invoke, exc)
        finally:
            _cv_app.set(previous)
        if has_receivers(appcontext_popped, app):
            await send_signal(appcontext_popped, app, invoke)

    def pop(self, exc: BaseException | None = None) -> None:
        """Run the ``teardown_appcontext`` functions and restore the previous context."""
        drive(self._pop(call_blocking, exc))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"


class RequestContext(AppContext):
    """Makes ``request`` and ``session`` available. When no application context of its app is
    active, it is the application context too (``current_app``, ``g``, the app teardown
    functions); otherwise the active one is shared. The pipeline creates one per request; tests
    create one with :meth:`Erlen.test_request_context`."""

    request: Request
    #: The flashed messages taken from the session in this request (see ``flash``).
    flashes: list[tuple[str, str]] | None = None
    # Made on first use: most requests add no callback and no task.
    _after_request_functions: list[Callable[[Response], Response]] | None = None
    #: Calls added by ``app.add_background_task`` during this request, started after it.
    background_tasks: list[BackgroundCall] | None = None

    #: Whether the request was routed (proxy headers taken, host checked, URL matched).
    routed = False
    #: Whether pushing matches the URL (a context made outside the pipeline, as by
    #: ``test_request_context``, so that ``request.endpoint`` and ``blueprint`` are known).
    match_on_push = False

    def __init__(self, app: Erlen, request: Request, session: SessionMixin | None = None) -> None:
        # Not calling AppContext.__init__: a request keeps its own stack of what it replaced,
        # (request context, application context, whether it entered as the app context).
        self.app = app
        self.request = request
        self._session = session
        self._saved: list[tuple[RequestContext | None, AppContext | None, bool]] = []

    @property
    def session(self) -> SessionMixin:
        """The session, opened from the request on first use."""
        if self._session is None:
            interface = self.app.session_interface
            session = interface.open_session(self.app, self.request)
            if session is None:
                session = interface.make_null_session(self.app)
            self._session = session
        return self._session

    @session.setter
    def session(self, value: SessionMixin) -> None:
        self._session = value

    @property
    def session_opened(self) -> bool:
        return self._session is not None

    @property
    def url_adapter(self) -> MapAdapter | None:
        adapter = self._url_adapter
        if adapter is _missing:
            adapter = self._url_adapter = self.app.create_url_adapter(self.request)
        return adapter

    def push(self) -> None:
        """Make this the current request context (and the application context if needed)."""
        app_ctx = _cv_app.get()
        enters_app = app_ctx is None or app_ctx.app is not self.app
        self._saved.append((_cv_request.get(), app_ctx, enters_app))
        if enters_app:
            self._enter_app()
        _cv_request.set(self)
        if self.match_on_push and self.request.url_rule is None:
            self.app._match_request(self)

    def _leave(
        self, invoke: Invoker, exc: BaseException | None
    ) -> Coroutine[t.Any, t.Any, None] | None:
        """Pop this context. ``None`` when that ran no function (most requests: no teardown
        function, signal receiver or override), done without a coroutine; otherwise the
        coroutine that runs them and pops, to await."""
        app = self.app
        saved = self._saved
        previous, previous_app, entered_app = saved[-1]
        # One test for the common case, where nothing that may run at teardown is registered.
        if (
            app.teardown_request_funcs
            or app.teardown_appcontext_funcs
            or app._signals_with_receivers
            or app._overrides
        ):
            tears_down = len(saved) == 1 and bool(
                app.teardown_request_funcs
                or request_tearing_down in app._signals_with_receivers
                or "do_teardown_request" in app._overrides
            )
            leaves_app = entered_app and bool(
                app.teardown_appcontext_funcs
                or "do_teardown_appcontext" in app._overrides
                or appcontext_tearing_down in app._signals_with_receivers
                or appcontext_popped in app._signals_with_receivers
            )
            if tears_down or leaves_app:
                return self._leave_running(invoke, exc, tears_down, leaves_app)
        saved.pop()
        try:
            if not saved:
                self.request.release_resources()
        finally:
            _cv_request.set(previous)
            if entered_app:
                _cv_app.set(previous_app)
        if self.background_tasks:
            self._start_background_tasks()
        return None

    async def _leave_running(
        self, invoke: Invoker, exc: BaseException | None, tears_down: bool, leaves_app: bool
    ) -> None:
        previous, previous_app, entered_app = self._saved.pop()
        app = self.app
        if exc is not None and app.should_ignore_error(exc):
            exc = None
        try:
            if tears_down:
                if "do_teardown_request" in app._overrides:
                    await invoke(app.do_teardown_request, exc)
                else:
                    await self._teardown_request(invoke, exc)
            if not self._saved:
                self.request.release_resources()
        finally:
            _cv_request.set(previous)
            if leaves_app:
                await self._leave_app(invoke, exc, previous_app)
            elif entered_app:
                _cv_app.set(previous_app)
        if self.background_tasks:
            self._start_background_tasks()

    async def _pop(self, invoke: Invoker, exc: BaseException | None) -> None:
        running = self._leave(invoke, exc)
        if running is not None:
            await running

    def _start_background_tasks(self) -> None:
        if self.background_tasks and not self._saved:
            tasks, self.background_tasks = self.background_tasks, None
            self.app.lifecycle.spawn(tasks)

    async def _teardown_request(self, invoke: Invoker, exc: BaseException | None) -> None:
        app = self.app
        if app.teardown_request_funcs:
            for name in (*self.request.blueprints, None):
                for func in reversed(app.teardown_request_funcs.get(name, ())):
                    await invoke(func, exc)
        if request_tearing_down in app._signals_with_receivers:
            await send_signal(request_tearing_down, app, invoke, exc=exc)

    def pop(self, exc: BaseException | None = None) -> None:
        """Run the ``teardown_request`` functions and restore the previous contexts."""
        running = self._leave(call_blocking, exc)
        if running is not None:
            drive(running)

    def copy(self) -> RequestContext:
        """A new context for the same request and session (for use in another thread or task)."""
        return type(self)(self.app, self.request, self.session)  # the same session object

    def __repr__(self) -> str:
        request = self.request
        return f"<{type(self).__name__} {request.url!r} [{request.method}] of {self.app.name}>"


def has_app_context() -> bool:
    """Whether an application context is active (``current_app`` and ``g`` are usable)."""
    return _cv_app.get() is not None


def has_request_context() -> bool:
    """Whether a request context is active (``request`` and ``session`` are usable)."""
    return _cv_request.get() is not None


def after_this_request(func: F) -> F:
    """Run ``func(response)`` after this request's view; it must return a response."""
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request context is active."
        )
    if ctx._after_request_functions is None:
        ctx._after_request_functions = []
    ctx._after_request_functions.append(func)
    return func


def copy_current_request_context(func: F) -> F:
    """Decorate ``func`` so that it runs inside a copy of the current request context, for
    example in a thread started by the view. Works for sync and async functions."""
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a request context is active,"
            " such as in a view function."
        )
    ctx = ctx.copy()

    if is_async_callable(func):

        @functools.wraps(func)
        async def async_wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            with ctx:
                return await func(*args, **kwargs)

        return t.cast(F, async_wrapper)

    @functools.wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with ctx:
            return func(*args, **kwargs)

    return t.cast(F, wrapper)
