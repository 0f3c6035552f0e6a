"""Drive WSGI and ASGI apps in-process: build the requests of each scenario, check an app's
answer, and time it. No server and no socket: an environ or a scope goes straight in."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import sys
import time
import typing as t
from collections.abc import Callable
from urllib.parse import urlencode

from apps import common as c

#: ``run(n)`` serves n requests (or n WebSocket messages) and returns the seconds it took.
Run = Callable[[int], float]
BODY_CHUNK = 64 * 1024  # ASGI servers hand the body over in pieces; this size is typical


class CheckFailed(Exception):
    """An app answered wrongly: it is not timed."""


@dataclasses.dataclass
class Req:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclasses.dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"


def multipart_body() -> bytes:
    return (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{c.UPLOAD_NAME}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + c.UPLOAD_DATA
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def request_for(scenario: str) -> Req:
    get = {
        "hello": "/",
        "param": f"/users/{c.USER_ID}",
        "routes50": c.ROUTES[-1],
        "template": "/template",
        "session": "/session",
        "404": "/missing",
        "hooks": "/hooks",
        "stream": "/stream",
        "ws": "/ws",
    }
    if scenario in get:
        return Req("GET", get[scenario], [])
    if scenario == "json":
        return Req("POST", "/echo", [("Content-Type", "application/json")], c.JSON_BODY)
    if scenario == "form":
        form = urlencode(c.FORM).encode()
        return Req("POST", "/form", [("Content-Type", "application/x-www-form-urlencoded")], form)
    if scenario == "upload":
        ctype = f"multipart/form-data; boundary={BOUNDARY}"
        return Req("POST", "/upload", [("Content-Type", ctype)], multipart_body())
    raise ValueError(scenario)


def check(scenario: str, answer: Answer) -> None:
    """Raise :class:`CheckFailed` unless ``answer`` is right for ``scenario``."""

    def fail(why: str) -> t.NoReturn:
        raise CheckFailed(f"{why}: status {answer.status}, body {answer.body[:80]!r}")

    if scenario == "404":
        if answer.status != 404 or not answer.body:
            fail("expected a 404 with a body")
        return
    if answer.status != 200:
        fail("expected 200")
    body = answer.body
    if scenario in ("param", "json"):
        expected_obj = c.user(c.USER_ID) if scenario == "param" else c.JSON_DOC
        try:
            ok = json.loads(body) == expected_obj
        except ValueError:
            ok = False
        if not ok:
            fail("wrong JSON")
        return
    expected = {
        "hello": c.HELLO.encode(),
        "routes50": c.ROUTES[-1].encode(),
        "form": c.FORM_ANSWER.encode(),
        "upload": c.UPLOAD_ANSWER.encode(),
        "template": c.render_items().strip().encode(),
        "session": c.session_answer(1).encode(),
        "hooks": f"hooked:{c.HOOK_USER}".encode(),
        "stream": c.STREAM_BODY,
    }[scenario]
    if (body.strip() if scenario == "template" else body) != expected:
        fail("wrong body")
    if scenario == "session" and not (answer.header("set-cookie") or "").startswith(
        c.SESSION_COOKIE + "="
    ):
        fail("no session cookie set")
    if scenario == "hooks" and answer.header(c.HOOK_HEADER) != "1":
        fail("the after hook's header is missing")


def session_cookie(answer: Answer) -> str:
    value = answer.header("set-cookie")
    if not value:
        raise CheckFailed("the session scenario set no cookie")
    return value.split(";", 1)[0]


# --- WSGI ---------------------------------------------------------------------------------------


def wsgi_environ(req: Req) -> dict[str, t.Any]:
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": req.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": req.path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if req.body:
        environ["CONTENT_LENGTH"] = str(len(req.body))
    for name, value in req.headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


def wsgi_call(app: t.Any, req: Req) -> Answer:
    environ = wsgi_environ(req)
    environ["wsgi.input"] = io.BytesIO(req.body)
    got: list[t.Any] = []

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        got[:] = [status, headers]
        return lambda data: None

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return Answer(int(got[0].split()[0]), list(got[1]), data)


def wsgi_case(app: t.Any, scenario: str) -> Run:
    """Check ``app`` on ``scenario`` and return its timing function."""
    req = request_for(scenario)
    if scenario == "session":
        first = wsgi_call(app, req)
        req.headers.append(("Cookie", session_cookie(first)))
    check(scenario, wsgi_call(app, req))
    base = wsgi_environ(req)
    payload = req.body

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        return None

    def run(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            environ = base.copy()
            environ["wsgi.input"] = io.BytesIO(payload)
            body = app(environ, start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return time.perf_counter() - start

    return run


# --- ASGI ---------------------------------------------------------------------------------------


def asgi_scope(req: Req, kind: str = "http") -> dict[str, t.Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    headers += [(k.lower().encode(), v.encode("latin-1")) for k, v in req.headers]
    if req.body:
        headers.append((b"content-length", str(len(req.body)).encode()))
    scope: dict[str, t.Any] = {
        "type": kind,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "http" if kind == "http" else "ws",
        "path": req.path,
        "raw_path": req.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    if kind == "http":
        scope["method"] = req.method
    else:
        scope["subprotocols"] = []
        scope["headers"] += [
            (b"connection", b"Upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        ]
    return scope


def body_messages(body: bytes) -> list[dict[str, t.Any]]:
    pieces = [body[i : i + BODY_CHUNK] for i in range(0, len(body), BODY_CHUNK)] or [b""]
    return [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
        for i, piece in enumerate(pieces)
    ]


_DISCONNECT = {"type": "http.disconnect"}


class Exchange:
    """One HTTP request's ``receive`` and ``send``: the body messages, then (as a server does)
    ``receive`` waits until the response is complete and reports the disconnect."""

    __slots__ = (
        "body",
        "chunks",
        "collect",
        "done",
        "headers",
        "i",
        "messages",
        "status",
        "waiter",
    )

    def __init__(self, messages: list[dict[str, t.Any]], collect: bool = False) -> None:
        self.messages = messages
        self.i = 0
        self.done = False
        self.waiter: asyncio.Future[None] | None = None
        self.collect = collect
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []

    async def receive(self) -> dict[str, t.Any]:
        i = self.i
        if i < len(self.messages):
            self.i = i + 1
            return self.messages[i]
        if not self.done:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return _DISCONNECT

    async def send(self, message: dict[str, t.Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            if self.collect:
                self.headers = [(k.decode(), v.decode("latin-1")) for k, v in message["headers"]]
        elif kind == "http.response.body":
            if self.collect:
                self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.done = True
                waiter = self.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)


def asgi_call(app: t.Any, req: Req, loop: asyncio.AbstractEventLoop) -> Answer:
    exchange = Exchange(body_messages(req.body), collect=True)
    loop.run_until_complete(app(asgi_scope(req), exchange.receive, exchange.send))
    if not exchange.done:
        raise CheckFailed("the response was not completed")
    return Answer(exchange.status, exchange.headers, b"".join(exchange.chunks))


def asgi_case(app: t.Any, scenario: str, loop: asyncio.AbstractEventLoop) -> Run:
    if scenario == "ws":
        return websocket_case(app, loop)
    req = request_for(scenario)
    if scenario == "session":
        first = asgi_call(app, req, loop)
        req.headers.append(("Cookie", session_cookie(first)))
    check(scenario, asgi_call(app, req, loop))
    scope = asgi_scope(req)
    messages = body_messages(req.body)

    async def many(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            exchange = Exchange(messages)
            await app(scope.copy(), exchange.receive, exchange.send)
        return time.perf_counter() - start

    def run(n: int) -> float:
        return loop.run_until_complete(many(n))

    return run


WS_TIMEOUT = 10.0


def websocket_case(app: t.Any, loop: asyncio.AbstractEventLoop) -> Run:
    """One connection per call of ``run``; the figure is per echoed message (text frames)."""
    scope = asgi_scope(request_for("ws"), kind="websocket")

    async def session(n: int, verify: bool) -> float:
        inbox: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
        task = asyncio.ensure_future(app(scope.copy(), inbox.get, outbox.put))
        try:
            inbox.put_nowait({"type": "websocket.connect"})
            accept = await asyncio.wait_for(outbox.get(), WS_TIMEOUT)
            if accept["type"] != "websocket.accept":
                raise CheckFailed(f"expected websocket.accept, got {accept}")
            message = {"type": "websocket.receive", "text": "ping"}
            start = time.perf_counter()
            for i in range(n):
                if verify:
                    message = {"type": "websocket.receive", "text": f"ping {i}"}
                inbox.put_nowait(message)
                reply = await outbox.get()
                if verify and reply.get("text") != message["text"]:
                    raise CheckFailed(f"echo: sent {message['text']!r}, got {reply}")
            elapsed = time.perf_counter() - start
            inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait_for(task, WS_TIMEOUT)
            return elapsed
        finally:
            if not task.done():
                task.cancel()

    loop.run_until_complete(session(3, verify=True))

    def run(n: int) -> float:
        return loop.run_until_complete(session(n, verify=False))

    return run


def calibrate(run: Run, target: float, max_n: int = 1_000_000) -> int:
    """How many requests take about ``target`` seconds (doubling, bounded)."""
    run(1)
    n = 1
    elapsed = run(n)
    while elapsed < target / 8 and n < max_n:
        n *= 2
        elapsed = run(n)
    return max(1, min(max_n, round(n * target / max(elapsed, 1e-9))))
