"""Serve the app to an ASGI server: scope and ``receive`` in, messages to ``send`` out."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import tempfile
import typing as t
from collections.abc import AsyncIterable, AsyncIterator, Callable
from types import CoroutineType

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from ..concurrency import is_async_callable, iterate_in_worker, run_in_worker
from ..ctx import RequestContext
from .wsgi import scope_from_environ

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..app import Erlen
    from ..typing import ASGIApp, Message, Receive, Scope, Send
    from ..wrappers import Request, Response

#: Files are sent in reads of this size.
FILE_CHUNK_SIZE = 64 * 1024
#: Bodies larger than this are spooled to a temporary file while they are read.
SPOOL_SIZE = 1024 * 1024
#: The scope extension through which the test client keeps the request context.
PRESERVE_CONTEXT_EXTENSION = "erlen.preserve_context"


class RequestBody:
    """The body of one ASGI request, read from ``receive`` with the size limit applied.

    Sync code (in a worker thread) reads it on demand; before an async view or hook runs, the
    invoker reads it first, since async code cannot block the loop to wait for it.
    """

    __slots__ = ("_buffer", "_loop", "_receive", "_scope", "request")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self._scope = scope
        self._receive = receive
        self._buffer: t.IO[bytes] | None = None
        self._loop = asyncio.get_running_loop()
        self.request: Request | None = None

    def _content_length(self) -> tuple[bool, int | None]:
        """Whether a body was announced, and its length if known."""
        for key, value in self._scope["headers"]:
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return False, None
                return length > 0, length
            if key == b"transfer-encoding" and b"chunked" in value.lower():
                return True, None
        return False, None

    @property
    def pending(self) -> bool:
        """Whether a body is announced and not read yet."""
        return self._buffer is None and self._content_length()[0]

    async def load(self, limit: int | None) -> None:
        """Read the whole body (once); 413 when it is, or turns out to be, over ``limit``."""
        if self._buffer is not None:
            return
        announced, length = self._content_length()
        if not announced:
            self._buffer = io.BytesIO()
            return
        self._buffer = io.BytesIO()  # what later reads see if this one fails
        if limit is not None and length is not None and length > limit:
            raise RequestEntityTooLarge()
        buffer: t.IO[bytes] = io.BytesIO()
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected()
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                raise RequestEntityTooLarge()
            if size > SPOOL_SIZE and isinstance(buffer, io.BytesIO):
                spooled = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the request)
                spooled.write(buffer.getbuffer())
                buffer = t.cast(t.IO[bytes], spooled)
            buffer.write(chunk)
            if not message.get("more_body", False):
                break
        buffer.seek(0)
        self._buffer = buffer

    def open(self, limit: int | None) -> t.IO[bytes]:
        """The body as a file; from a worker thread, waits for it to be read on the loop."""
        if self._buffer is None and not self._content_length()[0]:
            self._buffer = io.BytesIO()
        if self._buffer is None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._loop:
                raise RuntimeError("The request body was not read before this async code ran.")
            asyncio.run_coroutine_threadsafe(self.load(limit), self._loop).result()
        assert self._buffer is not None
        return self._buffer

    async def invoke(self, func: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """The ASGI invoker: await async functions (body read first), run sync ones in a worker
        thread."""
        if is_async_callable(func):
            if self._buffer is None and self.request is not None and self.pending:
                await self.load(self.request.max_content_length)
            return await func(*args, **kwargs)
        result = await run_in_worker(func, *args, **kwargs)
        if type(result) is CoroutineType:  # a sync wrapper around an async function
            if self._buffer is None and self.request is not None and self.pending:
                try:  # the body must be read before async code runs on the loop
                    await self.load(self.request.max_content_length)
                except BaseException:
                    result.close()
                    raise
            return await result
        return result


class FileChunks:
    """``wsgi.file_wrapper`` in the environ of an ASGI request: marks a file body so the adapter
    sends it in large reads in a worker thread, or by path where the server supports the
    ``http.response.pathsend`` extension, instead of one thread hop per 8 KiB."""

    def __init__(self, file: t.IO[bytes], buffer_size: int = 8192) -> None:
        self.file = file
        self.buffer_size = buffer_size

    def __iter__(self) -> FileChunks:
        return self

    def __next__(self) -> bytes:
        data = self.file.read(self.buffer_size)
        if not data:
            raise StopIteration()
        return data

    # werkzeug's range responses seek in the file through these.
    def seekable(self) -> bool:
        return hasattr(self.file, "seekable") and self.file.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        self.file.close()


class _LazyInput(io.RawIOBase):
    """``wsgi.input`` of the environ built for an ASGI request: reads the body on first use."""

    def __init__(self, body: RequestBody) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        limit = self._body.request.max_content_length if self._body.request else None
        return self._body.open(limit).readinto(buffer)  # type: ignore[attr-defined, no-any-return]


def _environ_from_scope(scope: Scope, body: RequestBody) -> WSGIEnvironment:
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    root_path = scope.get("root_path", "")
    path = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    environ: WSGIEnvironment = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path.encode().decode("latin-1"),
        "PATH_INFO": path.encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BufferedReader(_LazyInput(body)),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileChunks,
        "asgi.scope": scope,
    }
    for key, value in scope["headers"]:
        name = key.decode("latin-1").upper().replace("-", "_")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = f"HTTP_{name}"
        text = value.decode("latin-1")
        environ[name] = f"{environ[name]},{text}" if name in environ else text
    return environ


def request_from_scope(request_class: type[Request], scope: Scope, body: RequestBody) -> Request:
    """Build a request from an ASGI HTTP scope; headers are decoded on first use."""
    root_path = scope.get("root_path", "")
    path = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :] or "/"
    server = scope.get("server")
    client = scope.get("client")
    request = request_class(
        scope["method"],
        scope.get("scheme", "http"),
        (server[0], server[1]) if server else None,
        root_path.rstrip("/"),
        path,
        scope.get("query_string", b""),
        scope["headers"],
        client[0] if client else None,
        body=body.open,
        environ=lambda: _environ_from_scope(scope, body),
        scope=scope,
    )
    body.request = request
    return request


async def call_asgi_app(
    asgi_app: ASGIApp, scope: Scope, body_parts: list[bytes]
) -> tuple[int, list[tuple[str, str]], list[bytes]]:
    """Call an ASGI HTTP application in-process: ``receive`` delivers ``body_parts``, then a
    disconnect once the response is complete. Returns the status, headers and body chunks."""
    parts = list(body_parts) or [b""]
    finished = asyncio.Event()
    started: list[Message] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        if parts:
            body = parts.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(parts)}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    try:
        await asgi_app(scope, receive, send)
    finally:
        finished.set()
    if not started:
        raise RuntimeError("The ASGI application sent no response.")
    raw_headers = started[0]["headers"]
    headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in raw_headers]
    return started[0]["status"], headers, chunks


async def response_from_asgi_app(app: Erlen, asgi_app: ASGIApp, request: Request) -> Response:
    """Run an ASGI application returned by a view and collect what it sends into a response.
    Under WSGI the scope is built from the environ."""
    scope = request.scope if request.scope is not None else scope_from_environ(request.environ)
    status, headers, chunks = await call_asgi_app(asgi_app, scope, [request.get_data()])
    return app.response_class(chunks, status, headers, direct_passthrough=True)


async def serve_asgi(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    """Handle one ASGI connection: HTTP, lifespan, or (refused for now) WebSocket."""
    kind = scope["type"]
    if kind == "http":
        await _serve_http(app, scope, receive, send)
    elif kind == "lifespan":
        await _serve_lifespan(receive, send)
    elif kind == "websocket":
        await send({"type": "websocket.close", "code": 1008})
    else:
        raise ValueError(f"Unsupported ASGI scope type {kind!r}.")


async def _serve_http(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    body = RequestBody(scope, receive)
    ctx = RequestContext(app, request_from_scope(app.request_class, scope, body))
    invoke = body.invoke
    ctx.push()
    try:
        response, error = await app.handle_request(ctx, invoke)
    except BaseException as exc:
        await ctx._pop(invoke, exc)
        raise
    try:
        await _send_response(response, scope, receive, send)
    except BaseException as exc:
        error = error or exc
        raise
    finally:
        preserve = scope.get("extensions", {}).get(PRESERVE_CONTEXT_EXTENSION)
        if preserve is not None:
            preserve(ctx)
        try:
            await ctx._pop(invoke, error)
        finally:
            response.close()


def _encode(chunk: bytes | str) -> bytes:
    return chunk.encode() if isinstance(chunk, str) else bytes(chunk)


async def _send_response(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [
                (key.lower().encode("latin-1"), value.encode("latin-1"))
                for key, value in response.headers.items()
            ],
        }
    )
    body = response.response
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    if isinstance(body, (list, tuple)):
        data = (
            body[0] if len(body) == 1 and type(body[0]) is bytes else b"".join(map(_encode, body))
        )
        await send({"type": "http.response.body", "body": data})
        return
    if type(body) is FileChunks:
        await _send_file(body, scope, send)
        return
    chunks = body if isinstance(body, AsyncIterable) else iterate_in_worker(body)
    await _stream(aiter(chunks), receive, send)


async def _send_file(body: FileChunks, scope: Scope, send: Send) -> None:
    path = getattr(body.file, "name", None)
    pathsend = "http.response.pathsend" in scope.get("extensions", {})
    if pathsend and isinstance(path, str) and body.file.tell() == 0:
        await send({"type": "http.response.pathsend", "path": os.path.abspath(path)})
        return
    while data := await run_in_worker(body.file.read, FILE_CHUNK_SIZE):
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _stream(chunks: AsyncIterator[bytes | str], receive: Receive, send: Send) -> None:
    """Send chunks as they come; stop (closing the iterator) when the client disconnects."""

    async def pump() -> None:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": _encode(chunk), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait((pumping, watching), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watching.cancel()
        if not pumping.done():
            pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumping
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    if not pumping.cancelled():
        pumping.result()


async def _serve_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
