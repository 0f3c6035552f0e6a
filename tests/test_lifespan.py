"""Startup and shutdown (``before_serving``, ``lifespan``, ``after_serving``) and background
tasks, through ``app.test_app()``, the ASGI lifespan protocol and the test clients."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
import typing as t
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from erlen import Erlen, current_app, g, request
from erlen.testing import AsyncClient, ErlenClient

Message = t.MutableMapping[str, t.Any]
#: Longest wait for anything in these tests.
WAIT = 10.0


def _lifecycle_app(events: list[str]) -> Erlen:
    app = Erlen("lifespan_app")
    app.config["TESTING"] = True

    @app.before_serving
    def open_pool() -> None:  # sync: runs in a worker thread
        events.append(f"before_serving {current_app.name}")
        app.extensions["pool"] = {"connections": 3}

    @app.before_serving
    async def warm_cache() -> None:
        events.append("before_serving async")

    @app.lifespan
    async def lifespan(app: Erlen) -> AsyncIterator[None]:
        events.append("lifespan startup")
        app.extensions["greeting"] = "hello from startup"
        yield
        events.append("lifespan shutdown")

    @app.after_serving
    async def close_pool() -> None:
        events.append("after_serving")
        app.extensions.pop("pool")

    @app.get("/state")
    def state() -> dict[str, t.Any]:
        return {"pool": app.extensions.get("pool"), "greeting": app.extensions.get("greeting")}

    return app


def test_test_app_runs_startup_and_shutdown_in_order() -> None:
    events: list[str] = []
    app = _lifecycle_app(events)

    async def main() -> dict[str, t.Any]:
        async with app.test_app() as served:
            assert served is app
            events.append("serving")
            response = await AsyncClient(app).get("/state")
            return t.cast("dict[str, t.Any]", response.get_json())

    state = asyncio.run(asyncio.wait_for(main(), WAIT))
    assert state == {"pool": {"connections": 3}, "greeting": "hello from startup"}
    assert events == [
        "before_serving lifespan_app",
        "before_serving async",
        "lifespan startup",
        "serving",
        "after_serving",
        "lifespan shutdown",
    ]
    assert "pool" not in app.extensions


def test_wsgi_client_runs_startup_before_the_first_request() -> None:
    events: list[str] = []
    app = _lifecycle_app(events)
    client = app.test_client()
    assert events == []
    response = client.get("/state")
    assert response.get_json() == {"pool": {"connections": 3}, "greeting": "hello from startup"}
    assert events == ["before_serving lifespan_app", "before_serving async", "lifespan startup"]
    client.get("/state")
    assert len(events) == 3  # once per process, not per request


def test_asgi_lifespan_protocol_order() -> None:
    events: list[str] = []
    app = _lifecycle_app(events)

    async def main() -> list[Message]:
        incoming: asyncio.Queue[Message] = asyncio.Queue()
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        incoming.put_nowait({"type": "lifespan.startup"})
        task = asyncio.ensure_future(
            app.asgi_app({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, send)
        )
        for _ in range(int(WAIT / 0.01)):
            if sent:
                break
            await asyncio.sleep(0.01)
        events.append(f"after {sent[0]['type']}")
        incoming.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, WAIT)
        return sent

    sent = asyncio.run(asyncio.wait_for(main(), WAIT))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == [
        "before_serving lifespan_app",
        "before_serving async",
        "lifespan startup",
        "after lifespan.startup.complete",
        "after_serving",
        "lifespan shutdown",
    ]


def _failing_app() -> tuple[Erlen, list[str]]:
    app = Erlen("failing_app")
    calls: list[str] = []

    @app.before_serving
    async def connect() -> None:
        calls.append("connect")
        raise ConnectionError("database is down")

    @app.get("/")
    def index() -> str:
        calls.append("view")
        return "unreachable"

    return app, calls


def test_failed_startup_is_reported_to_the_asgi_server(caplog: pytest.LogCaptureFixture) -> None:
    app, calls = _failing_app()
    sent: list[Message] = []

    async def main() -> None:
        messages = [{"type": "lifespan.startup"}]

        async def receive() -> Message:
            if messages:
                return messages.pop(0)
            await asyncio.sleep(WAIT)  # the app must not ask for more after failing
            raise AssertionError("the app kept receiving after a failed startup")

        async def send(message: Message) -> None:
            sent.append(message)

        await app.asgi_app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    with caplog.at_level(logging.ERROR):
        asyncio.run(asyncio.wait_for(main(), WAIT))
    assert len(sent) == 1
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "database is down" in sent[0]["message"]
    assert calls == ["connect"]
    assert any(
        r.name == app.logger.name and r.exc_info and isinstance(r.exc_info[1], ConnectionError)
        for r in caplog.records
    )


@pytest.mark.parametrize("testing", [True, False])
def test_failed_startup_fails_every_wsgi_request(
    caplog: pytest.LogCaptureFixture, testing: bool
) -> None:
    app, calls = _failing_app()
    app.testing = testing
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        for _ in range(2):
            with pytest.raises(ConnectionError, match="database is down"):
                client.get("/")
    assert calls == ["connect"]  # startup is not retried, the view never runs
    logged = [
        r
        for r in caplog.records
        if r.name == app.logger.name and r.exc_info and isinstance(r.exc_info[1], ConnectionError)
    ]
    assert len(logged) == 2


def _wait(event: threading.Event) -> None:
    assert event.wait(WAIT), "timed out"


def test_sync_background_task_runs_after_the_response(app: Erlen, client: ErlenClient) -> None:
    released = threading.Event()
    finished = threading.Event()
    results: list[t.Any] = []

    def task(number: int, *, label: str) -> None:
        if not released.wait(WAIT):
            results.append("never released")
        results.append((number, label, current_app.name))
        finished.set()

    @app.post("/jobs")
    def create_job() -> tuple[str, int]:
        app.add_background_task(task, 7, label=request.args["label"])
        return "accepted", 202

    response = client.post("/jobs?label=report")
    assert response.status_code == 202
    assert results == []  # the task is still waiting: the response did not wait for it
    released.set()
    _wait(finished)
    assert results == [(7, "report", "test_app")]


def test_async_background_task_runs_after_the_response(app: Erlen, client: ErlenClient) -> None:
    released = threading.Event()
    finished = threading.Event()
    results: list[t.Any] = []

    async def task() -> None:
        for _ in range(int(WAIT / 0.01)):  # bounded poll: the test thread releases it
            if released.is_set():
                break
            await asyncio.sleep(0.01)
        g.seen = "fresh g"
        results.append((released.is_set(), current_app.name, g.seen))
        finished.set()

    @app.get("/later")
    async def later() -> str:
        app.add_background_task(task)
        return "queued"

    assert client.get("/later").text == "queued"
    assert results == []
    released.set()
    _wait(finished)
    assert results == [(True, "test_app", "fresh g")]


def test_background_task_errors_are_logged_not_raised(
    app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    finished = threading.Event()

    def broken() -> None:
        try:
            raise ValueError("task exploded")
        finally:
            finished.set()

    @app.get("/broken")
    def view() -> str:
        app.add_background_task(broken)
        return "fine"

    with caplog.at_level(logging.ERROR):
        response = client.get("/broken")
        assert response.status_code == 200
        assert response.text == "fine"
        _wait(finished)
        for _ in range(int(WAIT / 0.01)):  # the log record follows the task's end
            if any(r.exc_info for r in caplog.records if r.name == app.logger.name):
                break
            threading.Event().wait(0.01)
    records = [r for r in caplog.records if r.name == app.logger.name and r.exc_info]
    assert len(records) == 1
    assert "broken" in records[0].getMessage()
    assert records[0].exc_info is not None and isinstance(records[0].exc_info[1], ValueError)


def test_shutdown_waits_for_tasks_then_cancels_the_rest(
    app: Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 0.5
    events: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        events.append(f"quick done in {current_app.name}")

    async def slow() -> None:
        try:
            await asyncio.sleep(60)
            events.append("slow done")
        except asyncio.CancelledError:
            events.append("slow cancelled")
            raise

    @app.post("/tasks")
    async def tasks() -> str:
        app.add_background_task(quick)
        app.add_background_task(slow)
        return "started"

    @app.after_serving
    def after_serving() -> None:
        events.append("after_serving")

    async def main() -> None:
        async with app.test_app():
            response = await AsyncClient(app).post("/tasks")
            assert response.text == "started"
            events.append("response")
        events.append("stopped")

    with caplog.at_level(logging.WARNING):
        asyncio.run(asyncio.wait_for(main(), WAIT))
    assert events == [
        "response",
        "quick done in test_app",
        "slow cancelled",
        "after_serving",
        "stopped",
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Cancelled 1 background task" in r.getMessage() for r in warnings)


def test_background_task_outside_a_request_starts_at_once(app: Erlen) -> None:
    async def main() -> list[str]:
        results: list[str] = []
        done = asyncio.Event()

        async def task(value: str) -> None:
            results.append(f"{value} {current_app.name}")
            done.set()

        async with app.test_app():
            app.add_background_task(task, "direct")
            await asyncio.wait_for(done.wait(), WAIT)
        return results

    assert asyncio.run(asyncio.wait_for(main(), WAIT)) == ["direct test_app"]


def test_sync_after_serving_runs_at_exit_under_wsgi(tmp_path: Path) -> None:
    # At interpreter exit the worker pool is shut down: shutdown must not need it.
    script = tmp_path / "exit_app.py"
    script.write_text(
        "from erlen import Erlen\n"
        "app = Erlen(__name__)\n"
        "@app.after_serving\n"
        "def bye():\n"
        "    print('after_serving ran', flush=True)\n"
        "@app.get('/')\n"
        "def index():\n"
        "    return 'x'\n"
        "print(app.test_client().get('/').status_code, flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "after_serving", "ran"]
    assert "Error" not in result.stderr


def test_async_views_under_wsgi_await_what_startup_created() -> None:
    """Under WSGI, an async view (and an async hook, and an async generator body) runs on the
    loop the lifespan ran on: a real TCP connection opened at startup is usable in requests
    served by several WSGI threads (on a loop of each thread: "attached to a different loop")."""
    app = Erlen("pool_app")
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-with-enough-entropy-0123")
    made: dict[str, t.Any] = {}

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():  # until the client closes
            writer.write(line.upper())
            await writer.drain()
        writer.close()

    @app.lifespan
    async def open_connection(app: Erlen) -> AsyncIterator[None]:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        made["reader"], made["writer"] = await asyncio.open_connection("127.0.0.1", port)
        made["lock"] = asyncio.Lock()  # one request at a time on the shared connection
        yield
        made["writer"].close()
        server.close()

    async def ask(word: str) -> str:
        async with made["lock"]:
            made["writer"].write(f"{word}\n".encode())
            await made["writer"].drain()
            line: bytes = await made["reader"].readline()
            return line.decode().strip()

    @app.before_request
    async def greet() -> None:
        g.greeting = await ask("hello")

    @app.get("/<word>")
    async def shout(word: str) -> str:
        return f"{g.greeting} {await ask(word)}"

    @app.get("/stream/<word>")
    def stream(word: str) -> t.Any:
        async def chunks() -> t.AsyncIterator[str]:
            for letter in word:
                yield await ask(letter)

        return chunks()

    client = app.test_client()
    answers: dict[str, str] = {}

    def fetch(word: str) -> None:
        answers[word] = client.get(f"/{word}").text

    threads = [threading.Thread(target=fetch, args=(word,)) for word in ("one", "two", "six")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert answers == {"one": "HELLO ONE", "two": "HELLO TWO", "six": "HELLO SIX"}
    assert client.get("/stream/abc").text == "ABC"


@pytest.mark.parametrize("freeze", [True, False])
def test_a_server_start_freezes_the_heap(freeze: bool) -> None:
    """A server's start of the app (the ASGI lifespan startup, a WSGI server's first request)
    moves what exists then out of the cycle collector's way, unless GC_FREEZE_ON_SERVE is off;
    the test client's start does not."""
    import gc
    import io

    from werkzeug.test import EnvironBuilder

    def make() -> Erlen:
        app = Erlen(__name__)
        app.config.update(SECRET_KEY="a-secret-key-long-enough-0123", GC_FREEZE_ON_SERVE=freeze)
        app.add_url_rule("/", "index", lambda: "ok")
        return app

    gc.unfreeze()
    assert make().test_client().get("/").text == "ok"
    assert gc.get_freeze_count() == 0  # the test client is no server

    environ = EnvironBuilder("/").get_environ()
    wsgi_app = make()
    body = wsgi_app({**environ, "wsgi.input": io.BytesIO()}, lambda *args: None)
    assert b"".join(body) == b"ok"
    assert (gc.get_freeze_count() > 1000) is freeze
    gc.unfreeze()

    async def lifespan() -> list[Message]:
        sent: list[Message] = []
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> Message:
            return next(messages)

        async def send(message: Message) -> None:
            sent.append(message)

        await make().asgi_app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
        return sent

    sent = asyncio.run(asyncio.wait_for(lifespan(), WAIT))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert (gc.get_freeze_count() > 1000) is freeze
