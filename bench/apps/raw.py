"""The floor: bare WSGI and ASGI callables doing each scenario's essential work by hand
(stdlib json, Jinja2 directly, an itsdangerous-signed cookie, a minimal multipart split)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import typing as t
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

from erlen.workers import WorkerThreads

from . import common as c

Headers = list[tuple[str, str]]
Handler = t.Callable[[str, str, dict[str, str], bytes], tuple[int, Headers, t.Any]]

_REASONS = {200: "200 OK", 404: "404 Not Found"}
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"


def _text(body: str, status: int = 200, ctype: str = TEXT) -> tuple[int, Headers, bytes]:
    data = body.encode()
    return status, [("Content-Type", ctype), ("Content-Length", str(len(data)))], data


def _json(obj: t.Any) -> tuple[int, Headers, bytes]:
    return _text(json.dumps(obj), ctype=JSON)


def multipart_file(body: bytes, content_type: str) -> tuple[str, memoryview]:
    """The first file part's name and data: just enough parsing for the upload scenario."""
    boundary = content_type.partition("boundary=")[2].strip('"').encode()
    start = body.index(b"--" + boundary)
    head_end = body.index(b"\r\n\r\n", start)
    head = body[start:head_end].decode("latin-1")
    filename = head.partition('filename="')[2].partition('"')[0]
    end = body.index(b"\r\n--" + boundary, head_end)
    return filename, memoryview(body)[head_end + 4 : end]  # no copy


def handle(scenario: str, method: str, path: str, headers: dict[str, str], body: bytes) -> t.Any:
    """One request of ``scenario``: (status, headers, body bytes or an iterator of str)."""
    if scenario == "hello":
        if path == "/":
            return _text(c.HELLO)
    elif scenario == "param":
        if path.startswith("/users/") and path[7:].isdigit():
            return _json(c.user(int(path[7:])))
    elif scenario == "routes50":
        if path == c.ROUTES[-1]:
            return _text(path)
    elif scenario == "json":
        if path == "/echo" and method == "POST":
            return _json(json.loads(body))
    elif scenario == "form":
        if path == "/form" and method == "POST":
            form = dict(parse_qsl(body.decode()))
            return _text(",".join(form[name] for name in c.FORM))
    elif scenario == "upload":
        if path == "/upload" and method == "POST":
            name, data = multipart_file(body, headers["content-type"])
            return _text(f"{name}:{len(data)}")
    elif scenario == "template":
        if path == "/template":
            return _text(c.render_items(), ctype=HTML)
    elif scenario == "session":
        if path == "/session":
            data = c.load_session(c.cookie_value(headers.get("cookie")))
            count = data.get("n", 0)
            data["n"] = count + 1
            status, out, text = _text(c.session_answer(count))
            out.append(("Set-Cookie", c.set_cookie_header(data)))
            return status, out, text
    elif scenario == "hooks":
        if path == "/hooks":
            user = c.HOOK_USER  # "before" hook
            status, out, text = _text(f"hooked:{user}")
            out.append((c.HOOK_HEADER, "1"))  # "after" hook
            return status, out, text
    elif scenario == "stream" and path == "/stream":
        return 200, [("Content-Type", TEXT)], c.stream_chunks()
    return _text("Not Found", 404)


def build_wsgi(scenario: str) -> t.Any:
    def app(environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        headers = {}
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        if "HTTP_COOKIE" in environ:
            headers["cookie"] = environ["HTTP_COOKIE"]
        body = b""
        length = environ.get("CONTENT_LENGTH")
        if length:
            body = environ["wsgi.input"].read(int(length))
        status, out, data = handle(scenario, method, environ["PATH_INFO"], headers, body)
        start_response(_REASONS[status], out)
        if isinstance(data, bytes):
            return [data]
        return (chunk.encode() for chunk in data)

    return app


def build_asgi(scenario: str, round_trip: str | None = None) -> t.Any:
    """The raw ASGI callable; with ``round_trip``, it also makes one call of a no-op in a worker
    thread per request: through ``loop.run_in_executor`` (``"executor"``), or erlen's worker
    threads (``"erlen"``, what a ``def`` view's request costs at least under ASGI)."""
    pool = ThreadPoolExecutor(4) if round_trip == "executor" else None
    workers = WorkerThreads(4, "raw-worker") if round_trip == "erlen" else None

    async def app(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await _echo(receive, send)
            return
        if kind != "http":
            return
        headers = {}
        for key, value in scope["headers"]:
            if key in (b"content-type", b"cookie"):
                headers[key.decode()] = value.decode("latin-1")
        parts = []
        while True:  # bounded by the client's body
            message = await receive()
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(parts)
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(pool, int)
        elif workers is not None:
            await workers.submit(contextvars.copy_context(), int)
        status, out, data = handle(scenario, scope["method"], scope["path"], headers, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in out],
            }
        )
        if isinstance(data, bytes):
            await send({"type": "http.response.body", "body": data})
            return
        for chunk in data:
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


async def _echo(receive: t.Any, send: t.Any) -> None:
    while True:  # until the client disconnects
        message = await receive()
        kind = message["type"]
        if kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif kind == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes")})
        else:
            return


def build(scenario: str, interface: str, round_trip: str | None = None) -> t.Any:
    if scenario == "ws" and interface == "wsgi":
        raise c.NotSupported("WSGI has no WebSockets")
    return build_wsgi(scenario) if interface == "wsgi" else build_asgi(scenario, round_trip)
