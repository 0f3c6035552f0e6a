"""Where sync and async code runs: WSGI (inline, per-thread loop) and ASGI (loop, worker pool)."""

from __future__ import annotations

import asyncio
import functools
import threading
import typing as t
from collections.abc import AsyncIterator, Callable

import pytest

from erlen import Erlen, g, request
from erlen.background_loop import background_loop
from erlen.concurrency import is_async_callable
from erlen.testing import AsyncClient, ErlenClient
from erlen.workers import WORKER_THREADS

# --- WSGI path: async views on the thread's own loop ---------------------------------------------


def test_wsgi_async_view_loop_is_reused_per_thread(app: Erlen) -> None:
    @app.route("/loop")
    async def loop_view() -> t.Any:
        loop = asyncio.get_running_loop()
        return {"loop": id(loop), "thread": threading.get_ident(), "closed": loop.is_closed()}

    client = app.test_client()
    first = client.get("/loop").json
    second = client.get("/loop").json
    assert first is not None and second is not None
    assert first["loop"] == second["loop"]
    assert first["thread"] == second["thread"] == threading.get_ident()
    assert first["closed"] is False

    # Another thread gets its own loop (this thread's loop is still alive, so ids differ).
    other: list[t.Any] = []
    thread = threading.Thread(target=lambda: other.append(app.test_client().get("/loop").json))
    thread.start()
    thread.join(timeout=10)
    assert len(other) == 1
    assert other[0]["thread"] != first["thread"]
    assert other[0]["loop"] != first["loop"]


def test_wsgi_async_view_with_real_awaits(app: Erlen) -> None:
    @app.route("/await")
    async def await_view() -> t.Any:
        await asyncio.sleep(0.01)

        async def part(n: int) -> int:
            await asyncio.sleep(0.001 * n)
            return n * 10

        parts = await asyncio.gather(part(1), part(2), part(3))
        task = asyncio.create_task(part(4))
        return {"parts": parts, "task": await task, "arg": request.args["a"]}

    client = app.test_client()
    assert client.get("/await?a=x").json == {"parts": [10, 20, 30], "task": 40, "arg": "x"}
    # Twice: the loop is reused without leftovers from the first request.
    assert client.get("/await?a=y").json == {"parts": [10, 20, 30], "task": 40, "arg": "y"}


def test_wsgi_sync_view_runs_inline(app: Erlen) -> None:
    @app.route("/ident")
    def ident() -> t.Any:
        return {"thread": threading.get_ident()}

    assert app.test_client().get("/ident").json == {"thread": threading.get_ident()}


def test_wsgi_async_hooks_and_sync_view(app: Erlen) -> None:
    @app.before_request
    async def before() -> None:
        await asyncio.sleep(0)
        g.loop = id(asyncio.get_running_loop())

    @app.route("/mixed")
    def mixed() -> t.Any:
        return {"loop_from_hook": g.loop}

    @app.route("/loop")
    async def loop_view() -> t.Any:
        return {"loop": id(asyncio.get_running_loop()), "hook": g.loop}

    client = app.test_client()
    from_hook = client.get("/mixed").json
    both = client.get("/loop").json
    assert from_hook is not None and both is not None
    assert from_hook["loop_from_hook"] == both["loop"] == both["hook"]


def test_wsgi_path_from_a_running_loop(app: Erlen) -> None:
    """A sync test client used from async code still runs async views."""

    @app.route("/inner")
    async def inner() -> t.Any:
        await asyncio.sleep(0)
        return {"ok": request.args["v"]}

    async def main() -> t.Any:
        return app.test_client().get("/inner?v=1").json

    assert asyncio.run(asyncio.wait_for(main(), timeout=10)) == {"ok": "1"}


# --- ASGI path: async on the loop, sync in a worker thread ----------------------------------------


def test_asgi_sync_view_runs_in_worker_thread(app: Erlen) -> None:
    @app.route("/sync")
    def sync_view() -> t.Any:
        try:
            asyncio.get_running_loop()
            has_loop = True
        except RuntimeError:
            has_loop = False
        return {"thread": threading.get_ident(), "has_loop": has_loop}

    client = app.test_client(asgi=True)  # runs the ASGI app on the background loop
    rv = client.get("/sync").json
    assert rv is not None
    assert rv["thread"] != threading.get_ident()
    assert rv["has_loop"] is False


def test_asgi_async_view_runs_on_loop_thread(app: Erlen) -> None:
    @app.route("/async")
    async def async_view() -> t.Any:
        await asyncio.sleep(0)
        running = asyncio.get_running_loop() is background_loop().loop
        return {"thread": threading.current_thread().name, "background": running}

    client = app.test_client(asgi=True)
    assert client.get("/async").json == {"thread": "erlen-background", "background": True}


def test_asgi_thread_placement_with_async_client(app: Erlen) -> None:
    @app.route("/sync")
    def sync_view() -> t.Any:
        return {"thread": threading.get_ident()}

    @app.route("/async")
    async def async_view() -> t.Any:
        return {"thread": threading.get_ident(), "loop": id(asyncio.get_running_loop())}

    async def main() -> tuple[t.Any, t.Any, int]:
        client = AsyncClient(app)
        sync_rv = await client.get("/sync")
        async_rv = await client.get("/async")
        return sync_rv.json, async_rv.json, id(asyncio.get_running_loop())

    sync_json, async_json, loop_id = asyncio.run(asyncio.wait_for(main(), timeout=10))
    assert sync_json["thread"] != threading.get_ident()
    assert async_json == {"thread": threading.get_ident(), "loop": loop_id}


def test_asgi_sync_views_do_not_block_the_loop(app: Erlen) -> None:
    """A sync view blocked on an event is released by a later async request: the sync view
    runs off the loop, so the loop keeps serving."""
    release = threading.Event()

    @app.route("/block")
    def block() -> t.Any:
        return {"released": release.wait(timeout=10)}

    @app.route("/release")
    async def do_release() -> str:
        release.set()
        return "released"

    async def main() -> tuple[t.Any, bytes]:
        client = AsyncClient(app)
        blocked = asyncio.ensure_future(client.get("/block"))
        await asyncio.sleep(0.01)
        releaser = await client.get("/release")
        return (await blocked).json, releaser.data

    blocked_json, released = asyncio.run(asyncio.wait_for(main(), timeout=20))
    assert released == b"released"
    assert blocked_json == {"released": True}


def test_asgi_more_blocked_sync_views_than_worker_threads_all_finish(app: Erlen) -> None:
    """Sync views beyond the worker threads' limit wait for a thread, then run: none is lost
    and no thread beyond the limit is made."""
    release = threading.Event()
    threads: set[str] = set()
    blocked = WORKER_THREADS + 20

    @app.route("/block/<int:n>")
    def block(n: int) -> dict[str, t.Any]:
        threads.add(threading.current_thread().name)
        return {"n": n, "released": release.wait(timeout=10)}

    @app.route("/release")
    async def do_release() -> str:
        release.set()
        return "released"

    async def main() -> list[t.Any]:
        client = AsyncClient(app)
        waiting = [asyncio.ensure_future(client.get(f"/block/{n}")) for n in range(blocked)]
        await asyncio.sleep(0.2)
        await client.get("/release")
        return [(await request).json for request in waiting]

    answers = asyncio.run(asyncio.wait_for(main(), timeout=30))
    assert answers == [{"n": n, "released": True} for n in range(blocked)]
    assert len(threads) <= WORKER_THREADS


def test_asgi_sync_generator_runs_off_loop(app: Erlen) -> None:
    @app.route("/gen")
    def gen() -> t.Any:
        def generate() -> t.Iterator[str]:
            yield str(threading.get_ident() != loop_thread)

        return generate()

    loop_thread = threading.get_ident()
    assert app.test_client(asgi=True).get("/gen").data == b"True"


def test_asgi_async_generator_runs_on_loop(app: Erlen) -> None:
    @app.route("/agen")
    async def agen() -> t.Any:
        async def generate() -> AsyncIterator[str]:
            yield str(asyncio.get_running_loop() is background_loop().loop)

        return generate()

    assert app.test_client(asgi=True).get("/agen").data == b"True"


# --- a sync wrapper around an async view ---------------------------------------------------------


def _sync_wrapper(func: Callable[..., t.Any]) -> Callable[..., t.Any]:
    @functools.wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        return func(*args, **kwargs)

    return wrapper


def test_sync_wrapper_around_async_view(app: Erlen, client: ErlenClient) -> None:
    @app.route("/wrapped/<name>")
    @_sync_wrapper
    async def wrapped(name: str) -> t.Any:
        await asyncio.sleep(0.001)
        return {"name": name, "q": request.args["q"]}

    assert client.get("/wrapped/ann?q=1").json == {"name": "ann", "q": "1"}


def test_sync_wrapper_around_async_view_reading_body(app: Erlen, client: ErlenClient) -> None:
    @app.route("/wrapped", methods=["POST"])
    @_sync_wrapper
    async def wrapped() -> t.Any:
        await asyncio.sleep(0)
        if request.is_json:
            return {"json": request.get_json()}
        return {"form": request.form.to_dict()}

    assert client.post("/wrapped", data={"a": "1"}).json == {"form": {"a": "1"}}
    assert client.post("/wrapped", json=[1]).json == {"json": [1]}


def test_sync_wrapper_around_async_view_body_limit(app: Erlen, client: ErlenClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/wrapped", methods=["POST"])
    @_sync_wrapper
    async def wrapped() -> t.Any:
        return {"size": len(request.get_data())}

    assert client.post("/wrapped", data=b"12345").json == {"size": 5}
    assert client.post("/wrapped", data=b"x" * 50).status_code == 413


# --- is_async_callable ---------------------------------------------------------------------------


async def _async_func(x: int = 0) -> int:
    return x


def _sync_func(x: int = 0) -> int:
    return x


class _AsyncCallable:
    async def __call__(self) -> str:
        return "called"

    async def method(self) -> None:
        return None


class _SyncCallable:
    def __call__(self) -> str:
        return "called"


class _UnhashableAsyncCallable(_AsyncCallable):
    __hash__ = None  # type: ignore[assignment]


async def _async_gen() -> AsyncIterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (_async_func, True),
        (functools.partial(_async_func, 1), True),
        (functools.partial(functools.partial(_async_func), x=2), True),
        (_AsyncCallable(), True),
        (_AsyncCallable().method, True),
        (_UnhashableAsyncCallable(), True),
        (_sync_func, False),
        (functools.partial(_sync_func, 1), False),
        (lambda: None, False),
        (_SyncCallable(), False),
        (_AsyncCallable, False),  # calling the class makes an instance, not a coroutine
        (_async_gen, False),  # an async generator function returns an async generator
        (print, False),
    ],
)
def test_is_async_callable(func: t.Any, expected: bool) -> None:
    assert is_async_callable(func) is expected
    assert is_async_callable(func) is expected  # the cached answer is the same


def test_worker_invoker_prepares_before_each_kind_of_code_only_when_asked() -> None:
    """``before_async`` (an ASGI request's body read) is awaited before async code, a sync
    wrapper's coroutine included, ``before_sync`` (a small body read ahead) before sync code is
    handed to the worker; without them, code runs as is."""
    from erlen.concurrency import WorkerInvoker

    events: list[str] = []

    async def prepare() -> None:
        events.append("prepare")

    async def prepare_sync() -> None:
        events.append("prepare sync")

    async def async_func() -> str:
        events.append("async")
        return "a"

    def sync_func() -> str:
        events.append("sync")
        return "s"

    def sync_wrapper() -> t.Any:
        return async_func()

    async def run(invoke: WorkerInvoker) -> list[t.Any]:
        return [await invoke(sync_func), await invoke(async_func), await invoke(sync_wrapper)]

    assert asyncio.run(run(WorkerInvoker(prepare))) == ["s", "a", "a"]
    assert events == ["sync", "prepare", "async", "prepare", "async"]
    events.clear()
    assert asyncio.run(run(WorkerInvoker())) == ["s", "a", "a"]
    assert events == ["sync", "async", "async"]
    events.clear()
    assert asyncio.run(run(WorkerInvoker(prepare, prepare_sync))) == ["s", "a", "a"]
    assert events == [
        *("prepare sync", "sync", "prepare", "async"),
        *("prepare sync", "prepare", "async"),
    ]


def test_a_threads_own_loop_is_closed_when_the_thread_ends() -> None:
    """Async code run from a thread without a loop (the WSGI path) gets a loop of that thread,
    reused there and closed once the thread is gone; from a thread whose loop is running, a
    helper thread's loop, closed at once. No loop is left for the garbage collector."""
    from erlen.concurrency import run_on_thread_loop

    loops: list[asyncio.AbstractEventLoop] = []

    async def grab() -> None:
        loops.append(asyncio.get_running_loop())

    def twice() -> None:
        run_on_thread_loop(grab())
        run_on_thread_loop(grab())

    thread = threading.Thread(target=twice)
    thread.start()
    thread.join(10)
    assert loops[0] is loops[1] and not loops[0].is_closed()  # reused while the thread lives
    del thread
    assert loops[0].is_closed()

    async def from_a_running_loop() -> None:
        run_on_thread_loop(grab())

    asyncio.run(from_a_running_loop())
    assert loops[2] is not loops[0] and loops[2].is_closed()
