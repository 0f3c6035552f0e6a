"""One request's sync functions on one thread (erlen.protocols.in_thread): a WSGI server's thread,
or under ASGI one worker-thread call for a request whose view and hooks are sync, async hooks
hopping to the server's loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t

import pytest
from support.asgi_scopes import http_scope

from erlen import Erlen, Response, g, request
from erlen.testing import ErlenClient

if t.TYPE_CHECKING:
    from erlen.typing import Message

user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="anonymous")


def test_sync_hooks_and_view_share_a_thread_and_a_context(app: Erlen, client: ErlenClient) -> None:
    threads: dict[str, int] = {}
    seen: dict[str, str] = {}

    @app.before_request
    def before() -> None:
        threads["before"] = threading.get_ident()
        user.set("ada")  # a ContextVar set by a hook, as extensions do

    @app.get("/")
    def index() -> str:
        threads["view"] = threading.get_ident()
        return user.get()

    @app.after_request
    def after(response: Response) -> Response:
        threads["after"] = threading.get_ident()
        return response

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        threads["teardown"] = threading.get_ident()
        seen["teardown"] = user.get()

    response = client.get("/")
    assert response.text == "ada"
    assert seen["teardown"] == "ada"
    assert len(set(threads.values())) == 1, threads


def test_a_sync_generator_streams_in_order_and_teardown_runs_after_it(
    app: Erlen, client: ErlenClient
) -> None:
    events: list[str] = []

    @app.get("/stream")
    def stream() -> t.Iterator[str]:
        def chunks() -> t.Iterator[str]:
            for index in range(1_000):
                yield f"{index},"
            events.append(f"generated for {request.path}")  # the request context is active

        return chunks()

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append("teardown")

    response = client.get("/stream")
    assert response.text == "".join(f"{index}," for index in range(1_000))
    assert events == ["generated for /stream", "teardown"]


def test_an_error_in_a_sync_view_reaches_teardown_and_the_handler(
    app: Erlen, client: ErlenClient
) -> None:
    app.testing = False
    errors: list[str] = []

    @app.before_request
    def before() -> None:
        g.stage = "before"

    @app.get("/")
    def index() -> str:
        raise LookupError("no such thing")

    @app.errorhandler(LookupError)
    def not_found(error: LookupError) -> tuple[str, int]:
        return f"handled after {g.stage}", 404

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        errors.append(repr(error))

    response = client.get("/")
    assert response.status_code == 404
    assert response.text == "handled after before"
    assert errors == ["None"]  # a handled error is not teardown's


def _call(app: Erlen, scope: dict[str, t.Any], body: bytes = b"") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await app.asgi_app(scope, receive, send)

    asyncio.run(asyncio.wait_for(main(), 10))
    return sent


def test_an_async_hook_of_a_sync_view_runs_on_the_servers_loop(app: Erlen) -> None:
    """Under ASGI, an async hook of a request driven in a worker awaits objects bound to the
    server's loop (a queue made at startup, a client pool), and reads the body there."""
    made: dict[str, t.Any] = {}

    @app.before_request
    async def take_ticket() -> None:
        g.ticket = await made["queue"].get()
        g.payload = request.get_json()

    @app.post("/")
    def index() -> str:
        return f"{g.ticket}:{g.payload['n']}:{threading.current_thread().name}"

    @app.after_request
    def after(response: Response) -> Response:  # a sync hook: the request runs in a worker
        return response

    async def main() -> list[Message]:
        queue: asyncio.Queue[str] = asyncio.Queue()  # bound to this loop once used
        made["queue"] = queue
        await queue.put("ticket-1")
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b'{"n": 7}', "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = http_scope("/", (b"content-type", b"application/json"), (b"content-length", b"8"))
        await app.asgi_app(scope, receive, send)
        return sent

    sent = asyncio.run(asyncio.wait_for(main(), 10))
    assert sent[0]["status"] == 200, sent
    ticket, number, thread = sent[1]["body"].decode().split(":")
    assert (ticket, number) == ("ticket-1", "7")
    assert thread.startswith("erlen-worker")


@pytest.mark.parametrize("hooks", ["none", "sync", "async"])
def test_which_requests_run_in_one_worker_call(app: Erlen, hooks: str) -> None:
    """A sync view with a sync hook runs with its hooks in the worker; a sync view alone, or
    with async hooks only, runs its pipeline on the loop (the view alone in the worker)."""
    threads: dict[str, str] = {}

    if hooks == "sync":

        @app.before_request
        def before() -> None:
            threads["hook"] = threading.current_thread().name

    elif hooks == "async":

        @app.before_request
        async def async_before() -> None:
            threads["hook"] = threading.current_thread().name

    @app.get("/")
    def index() -> str:
        threads["view"] = threading.current_thread().name
        return "ok"

    sent = _call(app, http_scope("/", method="GET"))
    assert sent[1]["body"] == b"ok"
    assert threads["view"].startswith("erlen-worker")
    if hooks == "sync":
        assert threads["hook"] == threads["view"]
    elif hooks == "async":
        assert threads["hook"] == threading.current_thread().name  # the loop's thread
