"""Serving lifecycle: startup and shutdown functions, and background tasks.

Under an ASGI server, startup and shutdown follow the ASGI lifespan protocol, once per worker
process. Under a WSGI server there is no such protocol: startup runs before the first request,
on the background loop (:mod:`erlen.background_loop`) that also runs the background tasks and
the app's async views, and shutdown runs when the process exits.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import inspect
import threading
import typing as t
from collections.abc import AsyncIterator, Callable

from .background_loop import background_loop
from .concurrency import Invoker, call_awaiting, call_in_worker
from .ctx import AppContext, BackgroundCall
from .sessions import check_secret_key_for_serving

if t.TYPE_CHECKING:
    from .app import Erlen

#: ``@app.lifespan`` takes an async generator function or an async context manager factory.
LifespanFactory = Callable[["Erlen"], t.Any]


def _as_context_manager(factory: LifespanFactory, app: Erlen) -> t.AsyncContextManager[t.Any]:
    if inspect.isasyncgenfunction(factory):
        return contextlib.asynccontextmanager(factory)(app)
    return t.cast("t.AsyncContextManager[t.Any]", factory(app))


class Lifecycle:
    """The serving state of one app in one process (``app.lifecycle``)."""

    def __init__(self, app: Erlen) -> None:
        self.app = app
        self.started = False
        self._stack: contextlib.AsyncExitStack | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._startup_error: BaseException | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop startup ran on (the server's under ASGI, the background loop under WSGI
        when there are startup functions), where what they created lives; ``None`` before."""
        return self._loop

    # --- startup and shutdown -----------------------------------------------------------------

    async def startup(self, invoke: Invoker = call_in_worker, check_settings: bool = True) -> None:
        """Refuse unsafe settings (a weak ``SECRET_KEY``), run the ``before_serving`` functions,
        then enter the ``lifespan`` context managers, in an app context. An error propagates:
        the server should not start."""
        self._loop = asyncio.get_running_loop()
        if check_settings:
            check_secret_key_for_serving(self.app)
        stack = contextlib.AsyncExitStack()
        with AppContext(self.app):
            for func in self.app.before_serving_funcs:
                await invoke(func)
            for factory in self.app.lifespan_funcs:
                await stack.enter_async_context(_as_context_manager(factory, self.app))
        self._stack = stack
        self.started = True

    async def shutdown(self, invoke: Invoker = call_in_worker) -> None:
        """Wait for background tasks (``BACKGROUND_TASK_SHUTDOWN_TIMEOUT``), run the
        ``after_serving`` functions, and leave the ``lifespan`` context managers."""
        await self.wait_for_tasks(self.app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"])
        with AppContext(self.app):
            try:
                for func in self.app.after_serving_funcs:
                    await invoke(func)
            finally:
                if self._stack is not None:
                    await self._stack.aclose()
        self.started = False

    def freeze_heap(self) -> None:
        """Called when a server starts the app (its ASGI lifespan startup, a WSGI server's first
        request), with everything set up: unless ``GC_FREEZE_ON_SERVE`` is off, collect garbage
        once, then move every object that exists now (modules, the app, what startup made) out
        of the cycle collector's way (:func:`gc.freeze`). Requests in flight keep objects alive
        and make the collector run often, and each full collection would walk all of these
        again; they live as long as the process anyway. An object frozen here that later
        becomes part of a garbage cycle is not freed (reference counting still frees the
        others)."""
        if self.app.config["GC_FREEZE_ON_SERVE"]:
            gc.collect()
            gc.freeze()

    def start_for_wsgi(self, by_test_client: bool = False) -> None:
        """Start up before the first WSGI request, once per process (thread-safe). A failed
        startup raises again for every request, and is logged each time. The settings checks
        of serving (:func:`~erlen.sessions.check_secret_key_for_serving`) are skipped for the
        test client."""
        with self._lock:
            if self._startup_error is not None:
                self.app.logger.error("Startup failed", exc_info=self._startup_error)
                raise self._startup_error
            if self.started:
                return
            app = self.app
            has_functions = (
                app.before_serving_funcs or app.lifespan_funcs or app.after_serving_funcs
            )
            try:
                if not by_test_client:
                    check_secret_key_for_serving(app)
                if has_functions:
                    # On the lifecycle's own thread sync functions may block: no worker needed.
                    startup = self.startup(call_awaiting, check_settings=False)
                    background_loop().run(startup)
            except BaseException as error:
                self._startup_error = error
                self.app.logger.error("Startup failed", exc_info=error)
                raise
            if has_functions:
                atexit.register(self._shutdown_for_wsgi)
            self.started = True  # (without functions: nothing to run, no loop thread either)
            if not by_test_client:
                self.freeze_heap()

    def _shutdown_for_wsgi(self) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        timeout = self.app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] + 10
        try:
            # At exit the worker pool is already shut down: call sync functions here.
            background_loop().run(self.shutdown(call_awaiting), timeout=timeout)
        except Exception:
            self.app.logger.exception("Shutdown failed")

    # --- background tasks ---------------------------------------------------------------------

    def spawn(self, calls: list[BackgroundCall]) -> None:
        """Start ``calls`` as tasks: on the running loop (ASGI), else on the loop startup ran
        on, else on the background loop (WSGI, or code outside any loop)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            for call in calls:
                self._track(running.create_task(self._run(*call)))
            return
        loop = self._loop
        if loop is None or not loop.is_running():
            loop = background_loop().loop
        for call in calls:
            loop.call_soon_threadsafe(self._start, loop, call)

    def _start(self, loop: asyncio.AbstractEventLoop, call: BackgroundCall) -> None:
        self._track(loop.create_task(self._run(*call)))

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, func: Callable[..., t.Any], args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> None:
        with AppContext(self.app):
            try:
                await call_in_worker(func, *args, **kwargs)
            except Exception:
                self.app.logger.exception(
                    f"Background task {getattr(func, '__qualname__', func)!r} failed"
                )

    async def wait_for_tasks(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds for running background tasks, then cancel the rest."""
        pending = {task for task in self._tasks if not task.done()}
        if not pending:
            return
        _done, still_running = await asyncio.wait(pending, timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            # Let the cancelled tasks unwind (their ``finally`` blocks) before the
            # ``after_serving`` functions close what they may still use.
            await asyncio.wait(still_running, timeout=timeout)
            self.app.logger.warning(
                f"Cancelled {len(still_running)} background task(s) still running at shutdown."
            )


@contextlib.asynccontextmanager
async def serving(app: Erlen) -> AsyncIterator[Erlen]:
    """Run the app's startup and shutdown around a block, without a server (for tests and
    scripts): ``async with app.test_app():``."""
    await app.lifecycle.startup()
    try:
        yield app
    finally:
        await app.lifecycle.shutdown()
