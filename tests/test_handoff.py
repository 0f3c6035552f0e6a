"""A sync iterable produced in one worker call and consumed on the loop (erlen.handoff)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t

import pytest

from erlen.handoff import iterate_from_worker

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def _collect(iterable: t.Iterable[t.Any], **kwargs: t.Any) -> list[t.Any]:
    async def main() -> list[t.Any]:
        context = contextvars.copy_context()
        return [item async for item in iterate_from_worker(iterable, context, **kwargs)]

    return asyncio.run(asyncio.wait_for(main(), 10))


def test_items_arrive_in_order_from_one_worker_thread() -> None:
    threads: set[int] = set()

    def numbers() -> t.Iterator[str]:
        for number in range(1_000):
            threads.add(threading.get_ident())
            yield str(number)

    assert _collect(numbers()) == [str(number) for number in range(1_000)]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_the_producer_runs_inside_the_given_context() -> None:
    def read_marker() -> t.Iterator[str]:
        yield marker.get()

    async def main() -> list[str]:
        marker.set("from the request")
        context = contextvars.copy_context()
        marker.set("changed later")
        return [item async for item in iterate_from_worker(read_marker(), context)]

    assert asyncio.run(main()) == ["from the request"]


@pytest.mark.parametrize(
    ("chunk", "limits"),
    [("x", {"limit": 4}), ("x" * 1_000, {"byte_limit": 4_000})],
    ids=["items", "bytes"],
)
def test_the_producer_stays_a_bounded_distance_ahead(chunk: str, limits: dict[str, t.Any]) -> None:
    produced: list[int] = []

    def chunks() -> t.Iterator[str]:
        for number in range(10_000):
            produced.append(number)
            yield chunk

    async def main() -> list[int]:
        stream = iterate_from_worker(chunks(), contextvars.copy_context(), **limits)
        first = await anext(stream)
        ahead = []
        for _ in range(20):  # bounded: let the producer run as far as it can
            await asyncio.sleep(0.01)
            ahead.append(len(produced))
        await stream.aclose()
        assert first == chunk
        return ahead

    ahead = asyncio.run(main())
    # Bounded by five times the limit of 4 chunks (see erlen.handoff.BUFFER_ITEMS).
    assert 4 <= max(ahead) <= 5 * 4


def test_an_error_in_the_iterable_reaches_the_consumer_and_after() -> None:
    seen: list[BaseException | None] = []

    def failing() -> t.Iterator[str]:
        yield "1"
        raise ValueError("broken stream")

    with pytest.raises(ValueError, match="broken stream"):
        _collect(failing(), after=seen.append)
    assert len(seen) == 1 and isinstance(seen[0], ValueError)


def test_after_runs_once_the_iterable_is_closed() -> None:
    events: list[str] = []

    def items() -> t.Iterator[str]:
        try:
            yield "a"
            yield "b"
        finally:
            events.append("closed")

    def after(error: BaseException | None) -> None:
        events.append(f"after {error}")

    assert _collect(items(), after=after) == ["a", "b"]
    assert events == ["closed", "after None"]


def test_a_consumer_that_stops_closes_the_generator_in_its_worker_thread() -> None:
    """The client went away mid-stream: the generator ends at its next item, its ``finally``
    runs in the thread that ran it, and ``after`` runs."""
    stepping = threading.Event()
    release = threading.Event()
    events: list[t.Any] = []
    done = threading.Event()

    def chunks() -> t.Iterator[str]:
        try:
            yield "first"
            stepping.set()
            release.wait(5)  # this step blocks in its thread while the consumer goes away
            yield "second"
            yield "never taken"
        finally:
            events.append(("closed", threading.get_ident()))

    def after(error: BaseException | None) -> None:
        events.append(("after", error))
        done.set()

    async def main() -> int:
        stream = iterate_from_worker(chunks(), contextvars.copy_context(), after, limit=1)

        async def consume() -> None:
            async for _chunk in stream:
                pass

        task = asyncio.ensure_future(consume())
        for _ in range(500):  # bounded: until the blocking step is running
            if stepping.is_set():
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await stream.aclose()
        release.set()
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert done.wait(5)
    assert events[0][0] == "closed" and events[0][1] != loop_thread
    assert events[1] == ("after", None)
