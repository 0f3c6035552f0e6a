"""Reading the request body from ASGI ``receive``: chunks, spooling, limits, the stall timeout,
disconnects and cancellation."""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
import typing as t
import weakref

import pytest
from support.asgi_scopes import http_scope
from werkzeug.exceptions import ClientDisconnected

from erlen import Erlen, request
from erlen.protocols import asgi_request
from erlen.protocols import stall as stall_module
from erlen.protocols.chunk_reader import ChunkReader
from erlen.typing import Message, Scope

needs_uncancel = pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.uncancel is 3.11+")


def _length(body: bytes) -> tuple[bytes, bytes]:
    return (b"content-length", str(len(body)).encode())


CHUNKED = (b"transfer-encoding", b"chunked")


def _pieces(body: bytes, size: int) -> list[Message]:
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    return [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]


class Client:
    """Feeds ``messages`` to the app (each after ``delay`` seconds, if given), then waits; a
    ``None`` in ``messages`` never arrives. Records what the app sends."""

    def __init__(self, messages: t.Sequence[Message | None], delay: float = 0.0) -> None:
        self.messages = list(messages)
        self.delay = delay
        self.received = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = self.messages[self.received] if self.received < len(self.messages) else None
        if message is not None:
            self.received += 1
            return message
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def _run(app: Erlen, scope: Scope, client: Client) -> Client:
    async def main() -> None:
        await asyncio.wait_for(app.asgi_app(scope, client.receive, client.send), 10)

    asyncio.run(main())
    return client


@pytest.fixture
def echo_app(app: Erlen) -> Erlen:
    @app.post("/async")
    async def echo_async() -> bytes:
        return request.get_data()

    @app.post("/sync")
    def echo_sync() -> bytes:
        return request.get_data()

    @app.post("/form")
    def form() -> dict[str, t.Any]:
        upload = request.files["upload"]
        return {"name": request.form["name"], "size": len(upload.read())}

    @app.post("/untouched")
    def untouched() -> str:
        return "not read"

    return app


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_single_message_body(echo_app: Erlen, path: str) -> None:
    body = b'{"greeting": "hello"}'
    client = _run(echo_app, http_scope(path, _length(body)), Client(_pieces(body, 1024)))
    assert (client.status, client.body) == (200, body)


def test_single_message_body_is_not_copied(app: Erlen) -> None:
    body = bytes(range(256)) * 40
    seen: list[bytes] = []

    @app.post("/")
    async def view() -> str:
        seen.append(request.get_data())
        return "ok"

    _run(app, http_scope("/", _length(body)), Client(_pieces(body, len(body))))
    assert seen[0] is body


@pytest.mark.parametrize("path", ["/async", "/sync"])
@pytest.mark.parametrize("announce", ["content-length", "chunked"])
@pytest.mark.parametrize("size", [7, 1000, 65536])
def test_body_in_many_chunks(echo_app: Erlen, path: str, announce: str, size: int) -> None:
    body = bytes(range(256)) * 1000 + b"tail"
    header = _length(body) if announce == "content-length" else CHUNKED
    client = _run(echo_app, http_scope(path, header), Client(_pieces(body, size)))
    assert (client.status, client.body) == (200, body)


def test_empty_chunks_between_data(echo_app: Erlen) -> None:
    messages: list[Message | None] = [
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"one", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"two", "more_body": False},
    ]
    client = _run(echo_app, http_scope("/async", CHUNKED), Client(messages))
    assert client.body == b"onetwo"


@pytest.mark.parametrize("headers", [[], [(b"content-length", b"0")]])
def test_no_body_is_not_received(echo_app: Erlen, headers: list[tuple[bytes, bytes]]) -> None:
    client = _run(echo_app, http_scope("/async", *headers), Client([]))
    assert (client.status, client.body, client.received) == (200, b"", 0)


# --- reading ahead -------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["sync", "async"])
def test_small_body_is_read_before_the_app_runs(app: Erlen, view: str) -> None:
    # So a sync view reads it in its worker thread without waiting for the loop.
    events: list[str] = []

    class Recording(Client):
        async def receive(self) -> Message:
            events.append("receive")
            return await super().receive()

    def read() -> bytes:
        events.append("view")
        return request.get_data()

    async def read_async() -> bytes:
        return read()

    app.add_url_rule("/", "read", read_async if view == "async" else read, methods=["POST"])
    body = b"x" * asgi_request.PREFETCH_SIZE
    client = _run(app, http_scope("/", _length(body)), Recording(_pieces(body, 1000)))
    assert (client.status, client.body) == (200, body)
    assert events == ["receive"] * 66 + ["view"]  # the body came in 66 messages


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([_length(b"x" * (asgi_request.PREFETCH_SIZE + 1))], id="longer"),
        pytest.param([CHUNKED], id="no-length"),
        pytest.param([_length(b"x" * 100), (b"expect", b"100-continue")], id="expect-continue"),
    ],
)
def test_sync_view_that_ignores_the_body_does_not_read_it(
    echo_app: Erlen, headers: list[tuple[bytes, bytes]]
) -> None:
    # Not read ahead: a larger body, one of unknown length, one the client sends only when told.
    body = b"x" * (asgi_request.PREFETCH_SIZE + 1)
    client = _run(echo_app, http_scope("/untouched", *headers), Client(_pieces(body, 1000)))
    assert (client.status, client.received) == (200, 0)


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_limit_lowered_by_a_hook_applies_to_a_body_read_ahead(echo_app: Erlen, path: str) -> None:
    @echo_app.before_request
    def lower() -> None:
        request.max_content_length = 10

    body = b"x" * 11
    client = _run(echo_app, http_scope(path, _length(body)), Client(_pieces(body, 100)))
    assert client.status == 413


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_failed_read_ahead_is_raised_only_by_reading(echo_app: Erlen, path: str) -> None:
    # The client leaves before sending its body: a view that ignores the body still runs.
    disconnect: list[Message | None] = [{"type": "http.disconnect"}]
    client = _run(echo_app, http_scope("/untouched", _length(b"x" * 10)), Client(disconnect))
    assert (client.status, client.body) == (200, b"not read")
    client = _run(echo_app, http_scope(path, _length(b"x" * 10)), Client(disconnect))
    assert client.status == 400


def test_stalled_read_ahead_lets_a_view_that_ignores_the_body_answer(echo_app: Erlen) -> None:
    echo_app.config["BODY_READ_TIMEOUT"] = 0.05
    client = _run(echo_app, http_scope("/untouched", _length(b"x" * 10)), Client([None]))
    assert (client.status, client.body) == (200, b"not read")


def test_multipart_upload_in_chunks(echo_app: Erlen) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    body = (
        b"--b\r\nContent-Disposition: form-data; name=name\r\n\r\nfile.bin\r\n"
        b'--b\r\nContent-Disposition: form-data; name=upload; filename="file.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--b--\r\n"
    )
    scope = http_scope(
        "/form", _length(body), (b"content-type", b"multipart/form-data; boundary=b")
    )
    client = _run(echo_app, scope, Client(_pieces(body, 65536)))
    assert client.status == 200
    assert client.body == b'{"name":"file.bin","size":1048576}\n'


def test_small_chunks_are_gathered(echo_app: Erlen) -> None:
    # Thousands of tiny messages: read back whole, but not kept as thousands of objects.
    body = bytes(range(256)) * 800
    kept: list[list[bytes]] = []

    @echo_app.post("/stream")
    async def stream() -> bytes:
        kept.append(list(t.cast(ChunkReader, request.stream)._chunks))
        return request.stream.read()

    client = _run(echo_app, http_scope("/stream", CHUNKED), Client(_pieces(body, 50)))
    assert (client.status, client.body) == (200, body)
    assert len(kept[0]) == -(-len(body) // asgi_request._PIECE_SIZE)


def test_large_chunks_are_kept_as_they_came(echo_app: Erlen) -> None:
    body = bytes(range(250)) * 1000
    messages = _pieces(body, 10_000)  # each over _SMALL_CHUNK
    kept: list[list[bytes]] = []

    @echo_app.post("/stream")
    async def stream() -> bytes:
        kept.append(list(t.cast(ChunkReader, request.stream)._chunks))
        return request.stream.read()

    client = _run(echo_app, http_scope("/stream", CHUNKED), Client(messages))
    assert (client.status, client.body) == (200, body)
    assert all(ours is message["body"] for ours, message in zip(kept[0], messages, strict=True))


@pytest.mark.parametrize("asynchronous", [False, True])
def test_body_in_chunks_read_as_a_stream(app: Erlen, asynchronous: bool) -> None:
    body = b"".join(b"line %d\n" % i for i in range(5000))
    seen: dict[str, t.Any] = {}

    def read_lines() -> str:
        stream = request.stream
        seen["head"] = stream.read(10)
        stream.seek(0)
        seen["lines"] = list(stream)
        seen["tell"] = stream.tell()
        return "ok"

    async def read_lines_async() -> str:
        return read_lines()

    app.post("/")(read_lines_async if asynchronous else read_lines)
    client = _run(app, http_scope("/", _length(body)), Client(_pieces(body, 20000)))
    assert client.status == 200
    assert seen["head"] == b"line 0\nlin"
    assert b"".join(seen["lines"]) == body and seen["lines"][4999] == b"line 4999\n"
    assert seen["tell"] == len(body)


def test_wsgi_input_of_a_body_in_chunks(app: Erlen) -> None:
    body = bytes(range(256)) * 1000

    @app.post("/")
    def view() -> bytes:
        return t.cast(bytes, request.environ["wsgi.input"].read())

    client = _run(app, http_scope("/", CHUNKED), Client(_pieces(body, 30000)))
    assert client.body == body


# --- spooling -----------------------------------------------------------------------------------


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch) -> list[t.IO[bytes]]:
    """The temporary files the body is spooled to, with a spool size of 1000 bytes."""
    files: list[t.IO[bytes]] = []
    original = tempfile.TemporaryFile

    def temporary_file() -> t.IO[bytes]:
        file = original()
        files.append(file)
        return file

    monkeypatch.setattr(asgi_request, "SPOOL_SIZE", 1000)
    monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)
    return files


@pytest.mark.parametrize("path", ["/async", "/sync"])
@pytest.mark.parametrize("size", [1000, 1001, 5000])
def test_large_body_is_spooled(
    echo_app: Erlen, spooled: list[t.IO[bytes]], path: str, size: int
) -> None:
    body = bytes(range(256)) * 40
    client = _run(echo_app, http_scope(path, CHUNKED), Client(_pieces(body, size)))
    assert (client.status, client.body) == (200, body)
    assert len(spooled) == 1
    assert spooled[0].closed  # with the request


def test_close_releases_a_body_never_opened(spooled: list[t.IO[bytes]]) -> None:
    # Read before an async view that ignores it: only closing the body releases the file.
    async def main() -> None:
        client = Client(_pieces(b"x" * 3000, 1000))
        body = asgi_request.RequestBody(
            http_scope("/", CHUNKED), client.receive, Erlen(__name__).config
        )
        await body.load(None, None)
        assert len(spooled) == 1 and not spooled[0].closed
        body.close()

    asyncio.run(main())
    assert spooled[0].closed


def test_spooled_body_an_async_view_ignores_is_closed_with_the_request(
    app: Erlen, spooled: list[t.IO[bytes]]
) -> None:
    @app.post("/")
    async def ignore() -> str:
        return "ignored"

    client = _run(app, http_scope("/", CHUNKED), Client(_pieces(b"x" * 3000, 1000)))
    assert (client.status, client.body) == (200, b"ignored")
    assert len(spooled) == 1 and spooled[0].closed


def test_body_up_to_the_spool_size_stays_in_memory(
    echo_app: Erlen, spooled: list[t.IO[bytes]]
) -> None:
    body = b"m" * 1000
    client = _run(echo_app, http_scope("/async", CHUNKED), Client(_pieces(body, 300)))
    assert (client.status, client.body, spooled) == (200, body, [])


def test_body_over_the_default_spool_size(echo_app: Erlen) -> None:
    body = bytes(range(256)) * (asgi_request.SPOOL_SIZE // 256) + b"!"
    client = _run(echo_app, http_scope("/sync", _length(body)), Client(_pieces(body, 65536)))
    assert (client.status, client.body) == (200, body)


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_announced_length_over_the_limit_is_refused_unread(echo_app: Erlen, path: str) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 100
    body = b"x" * 101
    client = _run(echo_app, http_scope(path, _length(body)), Client(_pieces(body, 1000)))
    assert (client.status, client.received) == (413, 0)


@pytest.mark.parametrize("path", ["/async", "/sync"])
@pytest.mark.parametrize("size", [10, 1000])
def test_chunked_body_over_the_limit(echo_app: Erlen, path: str, size: int) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 100
    client = _run(echo_app, http_scope(path, CHUNKED), Client(_pieces(b"x" * 101, size)))
    assert client.status == 413


def test_body_longer_than_announced_over_the_limit(echo_app: Erlen) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 100
    client = _run(
        echo_app, http_scope("/async", (b"content-length", b"50")), Client(_pieces(b"x" * 500, 64))
    )
    assert client.status == 413


def test_body_at_the_limit_is_accepted(echo_app: Erlen) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 100
    body = b"x" * 100
    client = _run(echo_app, http_scope("/async", CHUNKED), Client(_pieces(body, 30)))
    assert (client.status, client.body) == (200, body)


def test_limit_reached_after_spooling_closes_the_file(
    echo_app: Erlen, spooled: list[t.IO[bytes]]
) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 3000
    client = _run(echo_app, http_scope("/async", CHUNKED), Client(_pieces(b"x" * 4000, 500)))
    assert client.status == 413
    assert len(spooled) == 1 and spooled[0].closed


# --- disconnect ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spool", [False, True])
def test_disconnect_mid_body(app: Erlen, spooled: list[t.IO[bytes]], spool: bool) -> None:
    errors: list[BaseException] = []

    @app.post("/")
    def view() -> str:
        try:
            request.get_data()
        except ClientDisconnected as error:
            errors.append(error)
            raise
        return "unreachable"

    first: Message = {
        "type": "http.request",
        "body": b"x" * (2000 if spool else 10),
        "more_body": True,
    }
    client = _run(app, http_scope("/", CHUNKED), Client([first, {"type": "http.disconnect"}]))
    assert len(errors) == 1
    assert client.status == 400
    assert all(file.closed for file in spooled) and len(spooled) == int(spool)


# --- the stall timeout --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/async", "/sync"])
@pytest.mark.parametrize("announce", ["content-length", "chunked"])
def test_stall_before_the_first_message_is_a_408(echo_app: Erlen, path: str, announce: str) -> None:
    echo_app.config["BODY_READ_TIMEOUT"] = 0.05
    header = (b"content-length", b"10") if announce == "content-length" else CHUNKED
    start = time.monotonic()
    client = _run(echo_app, http_scope(path, header), Client([None]))
    assert 0.05 <= time.monotonic() - start < 5
    assert client.status == 408
    assert b"stalled" in client.body


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_stall_mid_body_is_a_408(echo_app: Erlen, path: str) -> None:
    echo_app.config["BODY_READ_TIMEOUT"] = 0.05
    first: Message = {"type": "http.request", "body": b"x" * 10, "more_body": True}
    client = _run(echo_app, http_scope(path, CHUNKED), Client([first, None]))
    assert client.status == 408


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_slow_steady_body_is_not_a_stall(echo_app: Erlen, path: str) -> None:
    # Every message arrives within the timeout, the whole body takes several times as long.
    echo_app.config["BODY_READ_TIMEOUT"] = 0.15
    body = b"0123456789" * 6
    start = time.monotonic()
    client = _run(echo_app, http_scope(path, CHUNKED), Client(_pieces(body, 10), delay=0.05))
    assert time.monotonic() - start >= 0.3
    assert (client.status, client.body) == (200, body)


def test_no_timeout_waits_for_the_body(echo_app: Erlen) -> None:
    echo_app.config["BODY_READ_TIMEOUT"] = None
    body = b"late"
    client = _run(
        echo_app, http_scope("/async", _length(body)), Client(_pieces(body, 10), delay=0.1)
    )
    assert (client.status, client.body) == (200, body)


def test_stalls_of_concurrent_requests_each_time_out() -> None:
    """A short timeout started after a long one still fires on time, and the longer one
    fires after it."""
    short_app, long_app = Erlen("short"), Erlen("long")
    short_app.config["BODY_READ_TIMEOUT"] = 0.05
    long_app.config["BODY_READ_TIMEOUT"] = 0.3
    for each in (short_app, long_app):
        each.post("/")(lambda: request.get_data())
    finished: dict[str, float] = {}

    async def serve(name: str, target: Erlen, client: Client, after: float) -> None:
        await asyncio.sleep(after)
        await target.asgi_app(http_scope("/", CHUNKED), client.receive, client.send)
        finished[name] = time.monotonic() - start

    short, long = Client([None]), Client([None])

    async def main() -> None:
        await asyncio.wait_for(
            asyncio.gather(
                serve("long", long_app, long, 0), serve("short", short_app, short, 0.02)
            ),
            10,
        )

    start = time.monotonic()
    asyncio.run(main())
    assert (short.status, long.status) == (408, 408)
    assert finished["short"] < finished["long"]
    assert finished["long"] >= 0.3


@needs_uncancel
def test_timeout_leaves_the_task_uncancelled(echo_app: Erlen) -> None:
    echo_app.config["BODY_READ_TIMEOUT"] = 0.05
    client = Client([None])

    async def main() -> int:
        await echo_app.asgi_app(http_scope("/async", CHUNKED), client.receive, client.send)
        task = asyncio.current_task()
        assert task is not None
        cancelling: int = task.cancelling()  # type: ignore[attr-defined,unused-ignore]  # 3.11+
        return cancelling

    assert asyncio.run(main()) == 0
    assert client.status == 408


def test_stall_timer_does_not_keep_the_loop_alive(echo_app: Erlen) -> None:
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []
    body = b"body"

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        client = Client(_pieces(body, 10))
        await echo_app.asgi_app(http_scope("/async", _length(body)), client.receive, client.send)
        assert client.body == body

    asyncio.run(main())
    gc.collect()
    assert loops[0]() is None


# --- cancellation from outside ------------------------------------------------------------------


async def _until_received(client: Client) -> None:
    """Wait (at most 10 s) until the app has asked for the first message."""
    for _ in range(1000):
        if client.received >= 1:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the app never called receive()")


@pytest.mark.parametrize("timeout", [None, 30.0])
@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_outside_cancellation_while_reading_propagates(
    echo_app: Erlen, path: str, timeout: float | None
) -> None:
    echo_app.config["BODY_READ_TIMEOUT"] = timeout
    first: Message = {"type": "http.request", "body": b"x" * 10, "more_body": True}
    client = Client([first, None])

    async def main() -> None:
        task = asyncio.ensure_future(
            echo_app.asgi_app(http_scope(path, CHUNKED), client.receive, client.send)
        )
        await _until_received(client)
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert all(message.get("status") != 408 for message in client.sent)


@pytest.mark.parametrize("hook", [False, True], ids=["view-in-worker", "pipeline-in-worker"])
def test_cancelled_while_reading_ahead_releases_the_request(app: Erlen, hook: bool) -> None:
    # With a sync hook the whole pipeline goes to the worker, and the body is read before.
    requests: list[weakref.ref[t.Any]] = []

    @app.post("/")
    def view() -> bytes:
        return request.get_data()

    if hook:
        app.before_request(lambda: None)
    first: Message = {"type": "http.request", "body": b"x" * 10, "more_body": True}
    client = Client([first, None])
    original = asgi_request.RequestBody.prefetch

    async def prefetch(self: asgi_request.RequestBody) -> None:
        assert self.request is not None
        requests.append(weakref.ref(self.request))
        await original(self)

    async def main() -> None:
        task = asyncio.ensure_future(
            app.asgi_app(http_scope("/", _length(b"x" * 20)), client.receive, client.send)
        )
        await _until_received(client)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)

    gc.disable()  # freed by reference counting, not by the collector
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(asgi_request.RequestBody, "prefetch", prefetch)
            asyncio.run(main())
        assert client.sent == [] and len(requests) == 1
        assert requests[0]() is None
    finally:
        gc.enable()


@needs_uncancel
def test_outside_cancellation_as_the_stall_timeout_fires_propagates(echo_app: Erlen) -> None:
    echo_app.config["BODY_READ_TIMEOUT"] = 0.05
    client = Client([None])

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(
            echo_app.asgi_app(http_scope("/async", CHUNKED), client.receive, client.send)
        )
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the body is being read, the stall timer set
        watchdog = stall_module._watchdogs[id(loop)]
        (stall,) = watchdog.stalls
        # Both cancellations reach the task before it runs again.
        loop.call_at(watchdog.when, task.cancel)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        assert stall.expired

    asyncio.run(main())
    assert client.sent == []


@pytest.mark.parametrize("path", ["/async", "/sync"])
@pytest.mark.parametrize(
    ("version", "expected"), [("2", b"h2 body"), ("3", b"h2 body"), ("1.1", b"")]
)
def test_body_without_length_is_read_over_http2_and_3(
    echo_app: Erlen, path: str, version: str, expected: bytes
) -> None:
    """HTTP/2 and 3 frame the body themselves; over HTTP/1.1 no length means no body."""
    scope = {**http_scope(path), "http_version": version}
    client = _run(echo_app, scope, Client(_pieces(b"h2 body", 3)))
    assert (client.status, client.body) == (200, expected)


def test_encode_headers_lowercases_names_and_keeps_latin1_values() -> None:
    from werkzeug.datastructures import Headers

    long_value = "v" * 200
    headers = Headers([("Content-Type", "text/plain"), ("X-Long", long_value), ("X-Name", "é")])
    expected = [
        (b"content-type", b"text/plain"),
        (b"x-long", long_value.encode()),
        (b"x-name", "é".encode("latin-1")),
    ]
    assert asgi_request.encode_headers(headers) == expected
    assert asgi_request.encode_headers(headers) == expected  # kept pairs answer the same
