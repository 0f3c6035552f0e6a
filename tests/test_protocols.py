"""The protocol adapters: what reaches the app from a WSGI environ or an ASGI scope, and back."""

from __future__ import annotations

import asyncio
import typing as t

import pytest
from support.asgi_scopes import http_scope

from erlen import Erlen, request
from erlen._speedups import ENABLED as SPEEDUPS
from erlen.testing import ErlenClient
from erlen.typing import Message, Receive, Scope, Send


class TextApp:
    """A minimal ASGI response object of another framework's kind."""

    def __init__(self, text: str, status: int = 200) -> None:
        self.text = text
        self.status = status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        body = f"{self.text} {scope['method']} {message.get('body', b'').decode()}".encode()
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", b"text/plain"), (b"x-from", b"asgi")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def test_view_may_return_an_asgi_application(app: Erlen, client: ErlenClient) -> None:
    @app.route("/foreign", methods=["GET", "POST"])
    def foreign() -> t.Any:
        return TextApp("hello", status=201)

    response = client.post("/foreign", data=b"payload")
    assert response.status_code == 201
    assert response.headers["X-From"] == "asgi"
    assert response.data == b"hello POST payload"


def test_async_view_may_return_an_asgi_application(app: Erlen, client: ErlenClient) -> None:
    @app.get("/foreign")
    async def foreign() -> t.Any:
        return TextApp("async")

    assert client.get("/foreign").data == b"async GET "


def test_view_may_return_a_wsgi_application(app: Erlen, client: ErlenClient) -> None:
    def wsgi(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("202 Accepted", [("Content-Type", "text/plain")])
        return [b"wsgi saw ", environ["PATH_INFO"].encode()]

    @app.get("/wsgi")
    def view() -> t.Any:
        return wsgi

    response = client.get("/wsgi")
    assert response.status_code == 202
    assert response.data == b"wsgi saw /wsgi"


def test_environ_is_available_on_both_paths(app: Erlen, client: ErlenClient) -> None:
    @app.get("/environ")
    def view() -> dict[str, t.Any]:
        environ = request.environ
        return {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "remote": environ["REMOTE_ADDR"],
            "header": environ.get("HTTP_X_CUSTOM"),
        }

    data = client.get("/environ?a=1", headers={"X-Custom": "yes"}).get_json()
    assert data == {
        "method": "GET",
        "path": "/environ",
        "query": "a=1",
        "remote": "127.0.0.1",
        "header": "yes",
    }


def _scope(path: str, method: str = "GET", **extra: t.Any) -> Scope:
    return {**http_scope(path, method=method), **extra}


async def _call(app: t.Any, scope: Scope, messages: list[Message]) -> list[Message]:
    sent: list[Message] = []
    inbox = list(messages)

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return sent


def test_asgi_root_path_is_stripped_from_the_path() -> None:
    app = Erlen(__name__)

    @app.get("/inner")
    def inner() -> str:
        return f"{request.root_path}|{request.path}|{request.url}"

    scope = _scope("/mount/inner", root_path="/mount")
    sent = asyncio.run(_call(app, scope, [{"type": "http.request", "body": b""}]))
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"/mount|/inner|http://localhost/mount/inner"


def test_asgi2_single_argument_call() -> None:
    app = Erlen(__name__)

    @app.get("/")
    async def index() -> str:
        return "asgi2"

    instance = app(_scope("/"))

    async def run() -> list[Message]:
        return await _call(lambda s, r, w: instance(r, w), _scope("/"), [{"type": "http.request"}])

    sent = asyncio.run(run())
    assert sent[1]["body"] == b"asgi2"


def test_asgi_lifespan_startup_and_shutdown_complete() -> None:
    app = Erlen(__name__)
    messages: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = asyncio.run(_call(app, {"type": "lifespan", "asgi": {"version": "3.0"}}, messages))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_asgi_websocket_is_refused_not_hung() -> None:
    app = Erlen(__name__)
    scope = _scope("/ws", type="websocket")
    sent = asyncio.run(_call(app, scope, [{"type": "websocket.connect"}]))
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_unknown_scope_type_is_an_error() -> None:
    app = Erlen(__name__)
    with pytest.raises(ValueError, match="Unsupported ASGI scope type"):
        asyncio.run(_call(app, {"type": "mystery"}, []))


def test_asgi_client_disconnect_closes_the_streamed_generator() -> None:
    app = Erlen(__name__)
    events: list[str] = []

    @app.get("/forever")
    def forever() -> t.Any:
        async def chunks() -> t.AsyncIterator[str]:
            try:
                for number in range(10_000):
                    yield f"{number}\n"
                    await asyncio.sleep(0.001)
            finally:
                events.append("closed")

        return chunks()

    async def run() -> list[Message]:
        sent: list[Message] = []
        disconnected = asyncio.Event()
        first_request = True

        async def receive() -> Message:
            nonlocal first_request
            if first_request:
                first_request = False
                return {"type": "http.request", "body": b""}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if len(sent) == 4:  # start and three chunks: the client goes away
                disconnected.set()

        await asyncio.wait_for(app(_scope("/forever"), receive, send), timeout=10)
        return sent

    sent = asyncio.run(run())
    assert events == ["closed"]
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert 3 <= len(bodies) < 100
    assert bodies[0]["body"] == b"0\n"


def test_asgi_head_sends_headers_without_body() -> None:
    app = Erlen(__name__)

    @app.get("/")
    async def index() -> str:
        return "not sent"

    sent = asyncio.run(_call(app, _scope("/", method="HEAD"), [{"type": "http.request"}]))
    assert sent[0]["status"] == 200
    assert (b"content-length", b"8") in sent[0]["headers"]
    assert sent[1]["body"] == b""


def test_asgi_body_arriving_in_chunks(app: Erlen) -> None:
    @app.post("/echo")
    async def echo() -> bytes:
        return request.get_data()

    messages: list[Message] = [
        {"type": "http.request", "body": b"one ", "more_body": True},
        {"type": "http.request", "body": b"two ", "more_body": True},
        {"type": "http.request", "body": b"three", "more_body": False},
    ]
    scope = _scope("/echo", method="POST")
    scope["headers"] = [(b"host", b"x"), (b"transfer-encoding", b"chunked")]
    sent = asyncio.run(_call(app, scope, messages))
    assert sent[1]["body"] == b"one two three"


# --- no garbage cycles ----------------------------------------------------------------------


def _garbage_after(serve: t.Callable[[], None], requests: int = 50) -> int:
    """Objects the cycle collector finds after ``requests`` calls of ``serve`` (with automatic
    collection off meanwhile): a request that leaves none is freed by reference counting."""
    import gc

    serve()  # first-use caches
    gc.collect()
    gc.disable()
    try:
        for _ in range(requests):
            serve()
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.skipif(
    not SPEEDUPS, reason="werkzeug's own URL matcher leaves a closure cycle per match"
)
@pytest.mark.parametrize("path", ["/", "/missing", "/items/3", "/echo"])
def test_requests_leave_no_reference_cycles(app: Erlen, path: str) -> None:
    from werkzeug.test import EnvironBuilder

    from erlen.protocols.wsgi import scope_from_environ

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.get("/items/<int:item_id>")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.post("/echo")
    async def echo() -> t.Any:
        return request.get_json()

    method = "POST" if path == "/echo" else "GET"
    body = b'{"a": 1}' if method == "POST" else b""
    environ = EnvironBuilder(
        path, method=method, data=body, content_type="application/json"
    ).get_environ()

    def wsgi() -> None:
        import io

        served = app({**environ, "wsgi.input": io.BytesIO(body)}, lambda *args: None)
        b"".join(served)

    scope = scope_from_environ(environ)

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        pass

    loop = asyncio.new_event_loop()
    try:
        assert _garbage_after(wsgi) == 0
        assert _garbage_after(lambda: loop.run_until_complete(app(dict(scope), receive, send))) == 0
    finally:
        loop.close()


@pytest.mark.parametrize("view_kind", ["async", "sync"])
def test_asgi_known_body_is_sent_after_teardown(view_kind: str) -> None:
    """A server's ``send`` may copy the current context (uvicorn's keep-alive timer does): a
    known body goes out with the request context popped, as under WSGI, so that the copy
    does not keep the request alive until the connection's next request."""
    import contextvars
    import weakref

    from erlen.globals import _cv_app, _cv_request

    app = Erlen(__name__)
    events: list[str] = []

    async def async_index() -> str:
        return "ok"

    def sync_index() -> str:
        return "ok"

    app.add_url_rule("/", view_func=async_index if view_kind == "async" else sync_index)

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append("teardown")

    captured: list[contextvars.Context] = []
    requests: list[weakref.ref[t.Any]] = []

    @app.before_request
    def remember() -> None:
        requests.append(weakref.ref(request._get_current_object()))  # type: ignore[attr-defined]

    async def send(message: Message) -> None:
        events.append(message["type"])
        captured.append(contextvars.copy_context())

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(app(_scope("/"), receive, send))
    assert events == ["teardown", "http.response.start", "http.response.body"]
    assert all(ctx.get(_cv_request) is None and ctx.get(_cv_app) is None for ctx in captured)
    assert requests[0]() is None  # freed while the copies live on


# --- small WSGI bodies, read in one call ------------------------------------------------------


class _BrokenInput:
    def read(self, size: int = -1) -> bytes:
        raise OSError("the connection broke")


@pytest.mark.parametrize(
    ("body", "length", "max_length", "status", "answer"),
    [
        (b'{"a": 1}', "8", None, 200, b"8"),
        (b"short", "8", None, 400, None),  # the client sent less than announced
        (b"x" * 20, "20", 10, 413, None),  # announced over the limit: refused unread
        (b"", "0", None, 200, b"0"),
        (None, "8", None, 400, None),  # the server's input fails
    ],
)
def test_small_wsgi_body(
    app: Erlen,
    body: bytes | None,
    length: str,
    max_length: int | None,
    status: int,
    answer: bytes | None,
) -> None:
    import io

    from werkzeug.test import EnvironBuilder

    app.config["MAX_CONTENT_LENGTH"] = max_length

    @app.post("/")
    def view() -> str:
        return str(len(request.get_data()))

    environ = EnvironBuilder("/", method="POST").get_environ()
    environ["CONTENT_LENGTH"] = length
    environ["wsgi.input"] = _BrokenInput() if body is None else io.BytesIO(body)
    statuses: list[str] = []
    served = b"".join(app(environ, lambda line, headers, *rest: statuses.append(line)))
    assert int(statuses[0].split()[0]) == status
    if answer is not None:
        assert served == answer
