"""The background loop (``erlen.background_loop``): one loop thread for the whole process, shared
by WSGI lifespans and background tasks, the ASGI test client and WebSocket test sessions."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator

import pytest

from erlen import Erlen
from erlen.background_loop import BackgroundLoop, WaitTimeout, background_loop

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


@pytest.fixture
def loop() -> Iterator[BackgroundLoop]:
    started = BackgroundLoop("test-background")
    yield started
    started.stop()
    assert not any(thread.name == "test-background" for thread in threading.enumerate())


def test_runs_a_coroutine_and_gives_its_result_or_its_error(loop: BackgroundLoop) -> None:

    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    async def fail() -> None:
        raise ValueError("from the loop")

    assert loop.run(add(2, 3)) == 5
    with pytest.raises(ValueError, match="from the loop"):
        loop.run(fail())
    assert loop.in_its_thread() is False


def test_the_caller_context_is_copied_in_not_shared_back(loop: BackgroundLoop) -> None:

    async def read_and_set() -> str:
        seen = marker.get()
        marker.set("changed")
        return seen

    token = marker.set("caller")
    try:
        assert loop.run(read_and_set(), contextvars.copy_context()) == "caller"
        assert loop.run(read_and_set()) == "unset"  # no context given: an empty one
        assert marker.get() == "caller"
    finally:
        marker.reset(token)


def test_a_timeout_cancels_the_coroutine(loop: BackgroundLoop) -> None:
    cleaned = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.set()

    with pytest.raises(WaitTimeout):
        loop.run(forever(), timeout=0.05)
    assert cleaned.wait(5)

    async def own_timeout() -> None:
        raise TimeoutError("the coroutine's own")

    with pytest.raises(TimeoutError, match="the coroutine's own"):  # not taken for the wait's
        loop.run(own_timeout(), timeout=5)


def test_waiting_from_its_own_thread_is_refused(loop: BackgroundLoop) -> None:

    async def nested() -> str:
        inner = asyncio.sleep(0)
        try:
            loop.run(inner)
        except RuntimeError as error:
            return str(error)
        return "no error"

    assert "its own thread" in loop.run(nested())


def test_one_thread_for_every_app_and_test_client() -> None:
    names = []
    for index in range(5):
        app = Erlen(f"app{index}")

        @app.get("/")
        async def index_view() -> str:
            return threading.current_thread().name

        names.append(app.test_client(asgi=True).get("/").text)
    assert names == ["erlen-background"] * 5
    threads = [thread for thread in threading.enumerate() if thread.name == "erlen-background"]
    assert len(threads) == 1


def test_background_tasks_of_a_test_request_finish_after_the_response(app: Erlen) -> None:
    finished = threading.Event()

    async def later() -> None:
        await asyncio.sleep(0.05)
        finished.set()

    @app.post("/start")
    async def start() -> str:
        app.add_background_task(later)
        return "started"

    began = time.monotonic()
    assert app.test_client(asgi=True).post("/start").text == "started"
    assert not finished.is_set() or time.monotonic() - began >= 0.05
    assert finished.wait(5)


def test_wsgi_startup_runs_on_the_background_loop() -> None:
    app = Erlen("lifespan_app")
    seen: list[bool] = []

    @app.before_serving
    async def startup() -> None:
        seen.append(asyncio.get_running_loop() is background_loop().loop)

    @app.get("/")
    async def index() -> str:
        return str(asyncio.get_running_loop() is app.lifecycle.loop)

    assert app.test_client().get("/").text == "True"
    assert seen == [True]
