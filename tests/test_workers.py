"""The worker threads that run sync code for the event loop: results and errors come back,
the context is the one given, the pool stays within its limit, and a caller that stops
waiting (a cancelled request, a closed loop) leaves the pool serving."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import typing as t

import pytest

from erlen.workers import WorkerThreads, worker_threads

WAIT = 10.0  # seconds: the bound of every wait in these tests
var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


@pytest.fixture
def pool() -> t.Iterator[WorkerThreads]:
    threads = WorkerThreads(2, "test-worker")
    yield threads
    threads.stop(timeout=WAIT)


def _in_context(value: str) -> contextvars.Context:
    context = contextvars.copy_context()
    context.run(var.set, value)
    return context


def test_a_call_runs_in_a_worker_thread_in_the_context_given(pool: WorkerThreads) -> None:
    def work(suffix: str) -> tuple[str, str]:
        seen = var.get()
        var.set("changed in the worker")
        return threading.current_thread().name, seen + suffix

    async def main() -> tuple[tuple[str, str], contextvars.Context]:
        context = _in_context("given")
        return await pool.submit(context, work, "!"), context

    (thread, seen), context = asyncio.run(main())
    assert thread.startswith("test-worker_") and thread != threading.current_thread().name
    assert seen == "given!"
    assert context[var] == "changed in the worker"  # the context itself, not a copy
    assert var.get() == "unset"


def test_errors_come_back_to_the_awaiting_code(pool: WorkerThreads) -> None:
    def fail() -> None:
        raise ValueError("from the worker")

    def stop() -> None:
        raise StopIteration  # a future refuses it as such

    async def main() -> None:
        with pytest.raises(ValueError, match="from the worker"):
            await pool.submit(contextvars.copy_context(), fail)
        with pytest.raises(RuntimeError, match="StopIteration") as caught:
            await pool.submit(contextvars.copy_context(), stop)
        assert isinstance(caught.value.__cause__, StopIteration)
        assert await pool.submit(contextvars.copy_context(), lambda: 7) == 7

    asyncio.run(main())


def test_idle_threads_are_reused(pool: WorkerThreads) -> None:
    async def main() -> set[str]:
        names = set()
        for _ in range(20):
            names.add(await pool.submit(contextvars.copy_context(), _thread_name))
        return names

    assert len(asyncio.run(main())) == 1


def test_the_pool_never_exceeds_its_limit(pool: WorkerThreads) -> None:
    """Three calls that block on a pool of two: the third starts once one of the first two
    ends, and no third thread is made."""
    release = threading.Event()
    started: list[str] = []

    def blocking() -> str:
        started.append(threading.current_thread().name)
        assert release.wait(WAIT)
        return threading.current_thread().name

    async def main() -> list[str]:
        context = contextvars.copy_context
        calls = [pool.submit(context(), blocking) for _ in range(3)]
        deadline = time.monotonic() + WAIT
        while len(started) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert len(started) == 2  # the third waits for a thread
        release.set()
        return list(await asyncio.gather(*calls))

    names = asyncio.run(main())
    assert len(set(names)) == 2 and len(started) == 3


def test_a_caller_that_stops_waiting_leaves_the_pool_serving(pool: WorkerThreads) -> None:
    release = threading.Event()
    finished = threading.Event()

    def slow() -> None:
        assert release.wait(WAIT)
        finished.set()

    async def cancelled() -> None:
        future = pool.submit(contextvars.copy_context(), slow)
        await asyncio.sleep(0)
        future.cancel()
        release.set()
        assert await asyncio.to_thread(finished.wait, WAIT)

    asyncio.run(cancelled())

    # The loop a call answers to is closed before the call ends.
    release.clear()
    finished.clear()
    loop = asyncio.new_event_loop()

    async def submit() -> None:
        pool.submit(contextvars.copy_context(), slow)

    loop.run_until_complete(submit())
    loop.close()
    release.set()
    assert finished.wait(WAIT)

    async def again() -> str:
        return await pool.submit(contextvars.copy_context(), _thread_name)

    assert asyncio.run(again()).startswith("test-worker_")


def test_stop_ends_every_thread() -> None:
    pool = WorkerThreads(3, "stopped-worker")

    async def main() -> None:
        await asyncio.gather(
            *(pool.submit(contextvars.copy_context(), time.sleep, 0.05) for _ in range(3))
        )

    asyncio.run(main())
    threads = [t for t in threading.enumerate() if t.name.startswith("stopped-worker_")]
    assert len(threads) == 3
    pool.stop(timeout=WAIT)
    assert not any(thread.is_alive() for thread in threads)


def test_stop_waits_no_longer_than_its_timeout_for_busy_threads() -> None:
    """Stopping at exit does not wait for calls that do not end (a stuck view): it returns
    with the threads still busy, and they end once their calls do."""
    pool = WorkerThreads(2, "busy-worker")
    release = threading.Event()

    async def main() -> None:
        for _ in range(2):
            pool.submit(contextvars.copy_context(), release.wait, WAIT)
        await asyncio.sleep(0)

    asyncio.run(main())
    threads = [t for t in threading.enumerate() if t.name.startswith("busy-worker_")]
    pool.stop(timeout=0.2)
    assert len(threads) == 2 and all(thread.is_alive() for thread in threads)
    release.set()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive()


def test_a_forked_child_starts_threads_of_its_own() -> None:
    """After ``fork`` the parent's threads are not in the child: the pool forgets them."""
    pool = WorkerThreads(1, "forked-worker")

    async def name() -> str:
        return await pool.submit(contextvars.copy_context(), _thread_name)

    first = asyncio.run(name())
    parents_calls, parents_threads = pool._calls, list(pool._threads)
    pool._forget_threads()  # what os.register_at_fork runs in the child
    assert pool._threads == [] and pool._idle == 0
    assert asyncio.run(name()) == first  # a new thread, numbered from 0 again
    assert pool._threads[0] is not parents_threads[0]
    pool.stop(timeout=WAIT)
    for thread in parents_threads:  # (here the "parent's" threads still run: stopped too)
        parents_calls.put(None)
        thread.join(WAIT)
        assert not thread.is_alive()


def test_the_process_pool_is_erlens() -> None:
    assert worker_threads.name == "erlen-worker" and worker_threads.limit == 40


def _thread_name() -> str:
    return threading.current_thread().name
