"""Requests from ASGI scopes: the request fields, the body read from ``receive`` with the size
limit applied, and a WSGI-style environ built on demand."""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
import typing as t

from werkzeug.exceptions import (
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
    RequestTimeout,
)

from .._speedups.headers import header_pairs
from .chunk_reader import ChunkReader
from .request_path import canonical_path
from .screening import announced_body
from .stall import Stall, watchdog_for

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.datastructures import Headers

    from ..config import Config
    from ..typing import Message, Receive, Scope
    from ..wrappers import Connection, Request

#: Bodies up to this size are kept in memory; larger ones are spooled to a temporary file while
#: they are read. The file costs several times as much as memory (bench/RESULTS.md, "Speedups",
#: memory against a temporary file) and its writes block the event loop; 4 MiB bounds the
#: memory one request holds while keeping typical uploads off the disk.
SPOOL_SIZE = 4 * 1024 * 1024

# A body in several messages is kept as the chunks it came in, not joined: one large block per
# request would be fresh memory each time (allocated by mmap and paged in, page by page).
# Chunks under _SMALL_CHUNK are gathered into pieces of _PIECE_SIZE first, so that a
# client sending tiny messages cannot make the per-object overhead outgrow the body.
_SMALL_CHUNK = 8 * 1024
_PIECE_SIZE = 64 * 1024

#: A body announced with a length up to this is read on the loop before sync code is handed to
#: a worker thread (see :meth:`RequestBody.prefetch`), which then reads it without waiting.
PREFETCH_SIZE = 64 * 1024


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


class RequestBody:
    """The body of one ASGI request, read from ``receive`` with the size limit applied.

    A small body of known length is read ahead (:meth:`prefetch`). Otherwise sync code (in a
    worker thread) reads it on demand, and async code, which cannot block the loop to wait for
    it, has it read first: the request's invoker calls :meth:`read_before_async` before an async
    view or hook runs.
    """

    __slots__ = (
        "_announced",
        "_buffer",
        "_config",
        "_held",
        "_loop",
        "_receive",
        "_scope",
        "request",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        config: Config,
        announced: tuple[bool, int | None] | None = None,
    ) -> None:
        """``config``: the app's, for :meth:`prefetch`; ``announced``: whether the headers
        announce a body, and its length if known (as
        :func:`~erlen.protocols.screening.screen_scope` found), read from them if not given."""
        self._scope = scope
        self._config = config
        self._receive = receive
        self._announced = announced
        self._buffer: t.IO[bytes] | None = None
        # What a prefetch leaves for the first reader: the failure to raise, or the length to
        # check against the limit in force then.
        self._held: HTTPException | int | None = None
        self._loop = asyncio.get_running_loop()
        self.request: Request | None = None

    def _content_length(self) -> tuple[bool, int | None]:
        """Whether a body was announced, and its length if known (the headers are read once)."""
        announced = self._announced
        if announced is None:
            announced = self._announced = announced_body(self._scope)
        return announced

    async def prefetch(self) -> None:
        """Before sync code is handed to a worker thread: read the body now, on the loop, if its
        announced length is at most :data:`PREFETCH_SIZE` and the app's ``MAX_CONTENT_LENGTH``,
        and the client does not wait for a go-ahead (``Expect: 100-continue``). A sync view that
        reads it then does not wait for the loop (two thread switches), and a slow client holds
        no worker thread. What reading would raise (a stall, a disconnect, the size limit in
        force at the read) is raised by the first read, as if it were read then."""
        announced, length = self._content_length()
        if (
            self._buffer is not None
            or not announced
            or length is None
            or length > PREFETCH_SIZE
            or any(name == b"expect" for name, _value in self._scope["headers"])
        ):
            return
        config = self._config
        limit = config["MAX_CONTENT_LENGTH"]
        if limit is not None and length > limit:
            return  # refused unread by the first read
        try:
            await self.load(limit, config["BODY_READ_TIMEOUT"])
        except HTTPException as error:  # ClientDisconnected is one
            self._held = error.with_traceback(None)
            return
        buffer = t.cast(t.IO[bytes], self._buffer)
        self._held = buffer.seek(0, io.SEEK_END)  # (a server may deliver more than announced)
        buffer.seek(0)

    def _release_held(self, limit: int | None) -> None:
        """Raise what the prefetch found, for the first read: its failure, or a 413 when the
        body is over the limit now in force."""
        held, self._held = self._held, None
        if isinstance(held, HTTPException):
            raise held
        if limit is not None and held is not None and held > limit:
            if self._buffer is not None:
                self._buffer.close()
            self._buffer = io.BytesIO()  # what later reads see, as after a failed read
            raise RequestEntityTooLarge()

    async def load(self, limit: int | None, timeout: float | None) -> None:
        """Read the whole body (once); 413 when it is, or turns out to be, over ``limit``, 408
        when it stalls for longer than ``timeout`` seconds."""
        if self._buffer is not None:
            return
        announced, length = self._content_length()
        self._buffer = io.BytesIO()  # what later reads see if this one fails
        if not announced:
            return
        if limit is not None and length is not None and length > limit:
            raise RequestEntityTooLarge()
        task = asyncio.current_task() if timeout is not None else None
        # A stall timeout cancels the task; Task.uncancel() (3.11+) tells that apart from a
        # cancellation from outside. 3.10 uses asyncio.wait_for: a task per message.
        if sys.version_info < (3, 11) or task is None or timeout is None:
            self._buffer = await self._read(limit, timeout)
            return
        cancelling = task.cancelling()
        loop = self._loop
        watchdog = watchdog_for(loop)
        stall = Stall(task, timeout, loop.time() + timeout)
        watchdog.watch(stall)
        try:
            self._buffer = await self._read(limit, None, stall)
        except asyncio.CancelledError:
            if stall.expired and task.uncancel() <= cancelling:
                raise RequestTimeout("The request body stalled.") from None
            raise
        finally:
            watchdog.stalls.discard(stall)

    async def _read(
        self, limit: int | None, timeout: float | None, stall: Stall | None = None
    ) -> t.IO[bytes]:
        """The body from ``receive``: in memory, or spooled beyond :data:`SPOOL_SIZE`. Each
        message is awaited within ``timeout``, or moves the deadline of ``stall`` on."""
        receive = self._receive
        pieces: list[bytes] = []
        small = bytearray()  # small chunks, gathered into pieces of _PIECE_SIZE
        spooled: t.IO[bytes] | None = None
        size = 0
        try:
            while True:
                if timeout is None:
                    message = await receive()
                else:
                    message = await _receive_within(receive, timeout)
                if message["type"] == "http.disconnect":
                    raise ClientDisconnected()
                chunk = message.get("body", b"")
                more = message.get("more_body", False)
                if not size and not more:  # the whole body in one message: used as it is
                    if limit is not None and len(chunk) > limit:
                        raise RequestEntityTooLarge()
                    if len(chunk) <= SPOOL_SIZE:
                        return io.BytesIO(chunk)
                size += len(chunk)
                if limit is not None and size > limit:
                    raise RequestEntityTooLarge()
                if spooled is not None:
                    spooled.write(chunk)
                elif size > SPOOL_SIZE:
                    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the request)
                    spooled.writelines(pieces)
                    spooled.write(small)
                    spooled.write(chunk)
                    pieces.clear()
                    small.clear()
                elif len(chunk) >= _SMALL_CHUNK and type(chunk) is bytes:
                    if small:
                        pieces.append(bytes(small))
                        small.clear()
                    pieces.append(chunk)
                else:
                    small += chunk
                    if len(small) >= _PIECE_SIZE:
                        pieces.append(bytes(small))
                        small.clear()
                if not more:
                    break
                if stall is not None:
                    stall.deadline = self._loop.time() + stall.timeout
        except BaseException:
            if spooled is not None:
                spooled.close()
            raise
        if spooled is not None:
            spooled.seek(0)
            return spooled
        if small:
            pieces.append(bytes(small))
        if len(pieces) == 1:
            return io.BytesIO(pieces[0])
        return t.cast(t.IO[bytes], ChunkReader(pieces))

    def __call__(self, request: Request, limit: int | None) -> t.IO[bytes]:
        """The body as a file, for its request (this object is the request's body opener);
        from a worker thread, waits for it to be read on the loop."""
        if self._buffer is None and not self._content_length()[0]:
            self._buffer = io.BytesIO()
        if self._buffer is None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._loop:
                raise RuntimeError("The request body was not read before this async code ran.")
            loading = self.load(limit, request.body_read_timeout)
            asyncio.run_coroutine_threadsafe(loading, self._loop).result()
        elif self._held is not None:
            self._release_held(limit)
        assert self._buffer is not None
        return self._buffer

    async def read_before_async(self) -> None:
        """Read the body now (within the request's limit), if it is still to come."""
        request = self.request
        if request is None:
            return
        if self._held is not None:
            self._release_held(request.max_content_length)
        elif self._buffer is None:  # (load makes an empty one when no body is announced)
            await self.load(request.max_content_length, request.body_read_timeout)

    def close(self) -> None:
        """Release the body (its temporary file, when spooled) and the request; for the end of
        the request, since a body read before an async view may never have been opened as its
        stream. The request refers to the body and the body to the request: letting go here
        frees both at once, not at the garbage collector's next run."""
        self.request = None
        if self._buffer is not None:
            self._buffer.close()


async def _receive_within(receive: Receive, timeout: float) -> Message:
    """The next message; a client that sends nothing for ``timeout`` seconds gets a 408."""
    try:
        return await asyncio.wait_for(receive(), timeout)
    except asyncio.TimeoutError:
        raise RequestTimeout("The request body stalled.") from None


class _LazyInput(io.RawIOBase):
    """``wsgi.input`` of the environ built for an ASGI request: reads ``request.stream``, opened
    on first use."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        return self._request.stream.readinto(buffer)  # type: ignore[attr-defined, no-any-return]


def environ_of(request: Request) -> WSGIEnvironment:
    """A WSGI environ equivalent to an ASGI request's scope (its ``request.environ``), whose
    ``wsgi.input`` reads the request's body."""
    scope = t.cast("Scope", request.scope)
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    root_path = scope.get("root_path", "")
    path = path_under_root(scope)
    environ: WSGIEnvironment = {
        "REQUEST_METHOD": scope.get("method", "GET"),
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
        "wsgi.input": io.BufferedReader(_LazyInput(request)),
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


def request_from_scope(
    request_class: type[Request], scope: Scope, body: RequestBody | None
) -> Request:
    """Build a request from an ASGI HTTP scope, with its body (``None``: none announced);
    headers are decoded on first use."""
    method = scope.get("method", "GET")
    path = path_under_root(scope)
    request = request_class(
        method, path, scope["headers"], scope_connection, body, environ_of, scope
    )
    if body is not None:
        body.request = request
    return request


def path_under_root(scope: Scope) -> str:
    """The scope's path under its root path, in canonical form (see
    :mod:`erlen.protocols.request_path`)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and (path == root_path or path.startswith(root_path.rstrip("/") + "/")):
        path = path[len(root_path) :]
    return canonical_path(path)


def scope_connection(request: Request) -> Connection:
    """An ASGI request's connection fields, read from its scope on first use."""
    scope = t.cast("Scope", request.scope)
    server = scope.get("server")
    client = scope.get("client")
    return (
        scope.get("scheme", "http"),
        (server[0], server[1]) if server else None,
        scope.get("root_path", "").rstrip("/"),
        scope.get("query_string", b""),
        client[0] if client else None,
    )


_encoded: dict[tuple[str, str], tuple[bytes, bytes]] = {}
#: Pairs with values up to this long are kept encoded (the first 4,096 distinct ones).
_KEPT_VALUE_LENGTH = 64


def encode_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    """Response headers as ASGI wants them: lower-case names, latin-1 bytes. Most pairs repeat
    from response to response (the content type, the default security headers), so short ones
    are kept in their encoded form."""
    encoded = []
    for pair in header_pairs(headers):
        found = _encoded.get(pair)
        if found is None:
            name, value = pair
            found = (name.lower().encode("latin-1"), value.encode("latin-1"))
            if len(value) <= _KEPT_VALUE_LENGTH and len(_encoded) < 4096:
                _encoded[pair] = found
        encoded.append(found)
    return encoded
