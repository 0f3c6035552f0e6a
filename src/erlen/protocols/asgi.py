"""Serve the app to an ASGI server: scope and ``receive`` in, messages to ``send`` out."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import typing as t
from collections.abc import AsyncIterable, AsyncIterator, Awaitable

from ..concurrency import (
    Invoker,
    LoopHopInvoker,
    WorkerInvoker,
    call_in_worker,
    drive,
    run_in_context,
    run_in_worker,
)
from ..ctx import RequestContext
from ..handoff import iterate_from_worker
from ..wrappers import encode_chunk, sends_no_body
from .asgi_request import FileChunks, RequestBody, encode_headers, request_from_scope
from .asgi_websocket import serve_websocket
from .in_thread import Body, handle_in_thread
from .screening import refusal, screen_scope
from .wsgi import scope_from_environ

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..typing import ASGIApp, Message, Receive, Scope, Send
    from ..wrappers import Request, Response

#: Files are sent in reads of this size.
FILE_CHUNK_SIZE = 64 * 1024
#: The scope extension through which the test client keeps the request context.
PRESERVE_CONTEXT_EXTENSION = "erlen.preserve_context"
_NO_EXTENSIONS: dict[str, t.Any] = {}


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


def serve_asgi(app: Erlen, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
    """Handle one ASGI connection, HTTP, WebSocket or lifespan: the coroutine to await."""
    kind = scope["type"]
    if kind == "http":
        return _serve_http(app, scope, receive, send)
    if kind == "lifespan":
        return _serve_lifespan(app, receive, send)
    if kind == "websocket":
        return serve_websocket(app, scope, receive, send)
    raise ValueError(f"Unsupported ASGI scope type {kind!r}.")


async def _serve_http(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    refused, announced = screen_scope(app.config, scope)
    if refused is not None:
        response = refusal(app, refused, scope.get("scheme", "http"))
        no_body = sends_no_body(response, scope["method"])
        await _send_response(response, scope, receive, send, no_body)
        return
    # (a request that announces no body has none to read)
    body = RequestBody(scope, receive, app.config, announced) if announced[0] else None
    ctx = RequestContext(app, request_from_scope(app.request_class, scope, body))
    preserve = (scope.get("extensions") or _NO_EXTENSIONS).get(PRESERVE_CONTEXT_EXTENSION)
    # A request whose view is sync runs its pipeline, teardown included, in one worker-thread
    # call (async hooks hop back to the loop); otherwise the pipeline runs on the loop.
    context: contextvars.Context | None = None
    invoke: Invoker
    try:
        if preserve is None and app._runs_in_worker(ctx):
            before_async = body.read_before_async if body is not None else None
            invoke = LoopHopInvoker(asyncio.get_running_loop(), before_async)
            if body is not None:
                await body.prefetch()  # (the worker then reads it without the loop)
            context = contextvars.copy_context()
        elif body is not None:
            invoke = WorkerInvoker(body.read_before_async, body.prefetch)
        else:
            invoke = call_in_worker  # (shared)
        pipeline = handle_in_thread(app, ctx, invoke, scope["method"], FileChunks)
        if context is not None:
            response, error, outcome = await run_in_context(context, drive, pipeline)
        else:
            response, error, outcome = await pipeline
    except BaseException:
        if body is not None:
            body.close()
        raise
    if preserve is not None:
        preserve(ctx)
    try:
        if outcome is Body.STREAMED:  # the request context stays until the body is sent
            await _send_streamed(ctx, invoke, context, response, error, scope, receive, send)
        else:
            # Popped already (as under WSGI): a server's send may copy the current context
            # (uvicorn's keep-alive timer does), which would keep the request alive until the
            # connection's next one, and make the garbage collector run.
            try:
                await _send_response(response, scope, receive, send, outcome is Body.NONE)
            finally:
                response.close()
    finally:
        if preserve is None and body is not None:  # a kept context may still read the body
            body.close()  # read for an async view, maybe never opened as request.stream


async def _send_streamed(
    ctx: RequestContext,
    invoke: Invoker,
    context: contextvars.Context | None,
    response: Response,
    error: BaseException | None,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Send a body made while it is sent, then close it and pop the request context
    (teardown): in the worker for a pipeline that ran in one (``context``), a sync generator's
    teardown in the same worker call that produced it."""
    content = response.response
    if context is not None and not isinstance(content, (AsyncIterable, list, tuple)):

        def finish(stream_error: BaseException | None) -> None:
            _finish_in_worker(ctx, invoke, response, error or stream_error)

        chunks = iterate_from_worker(t.cast("t.Iterable[bytes]", content), context, finish)
        await send(_start_message(response))
        await _stream(chunks, receive, send)
        return
    try:
        await _send_response(response, scope, receive, send, False)  # (streamed: a body)
    except BaseException as exc:
        error = error or exc
        raise
    finally:
        if context is not None:
            await run_in_context(context, _finish_in_worker, ctx, invoke, response, error)
        else:
            try:
                response.close()
            finally:
                await ctx._pop(invoke, error)


def _finish_in_worker(
    ctx: RequestContext, invoke: Invoker, response: Response, error: BaseException | None
) -> None:
    """Close a streamed response and pop its request context (teardown), in the worker."""
    try:
        response.close()
    finally:
        drive(ctx._pop(invoke, error))


def _start_message(response: Response) -> Message:
    return {
        "type": "http.response.start",
        "status": response.status_code,
        "headers": encode_headers(response.headers),
    }


async def _send_response(
    response: Response, scope: Scope, receive: Receive, send: Send, no_body: bool
) -> None:
    """Send the response; ``no_body``: whether it has none to send (see
    :func:`~erlen.wrappers.sends_no_body`)."""
    await send(_start_message(response))
    body = response.response
    if no_body:
        await send({"type": "http.response.body", "body": b""})
        return
    if isinstance(body, (list, tuple)):
        data = (
            body[0]
            if len(body) == 1 and type(body[0]) is bytes
            else b"".join(map(encode_chunk, body))
        )
        await send({"type": "http.response.body", "body": data})
        return
    if type(body) is FileChunks:
        await _send_file(body, scope, send)
        return
    if isinstance(body, AsyncIterable):
        chunks: AsyncIterator[t.Any] = aiter(body)
    else:
        chunks = iterate_from_worker(body, contextvars.copy_context())
    await _stream(chunks, receive, send)


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
            await send(
                {"type": "http.response.body", "body": encode_chunk(chunk), "more_body": True}
            )
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


async def _serve_lifespan(app: Erlen, receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol: startup and shutdown of this worker process."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await app.lifecycle.startup()
            except BaseException as error:
                app.logger.exception("Startup failed")
                await send({"type": "lifespan.startup.failed", "message": _describe(error)})
                return
            app.lifecycle.freeze_heap()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await app.lifecycle.shutdown()
            except BaseException as error:
                app.logger.exception("Shutdown failed")
                await send({"type": "lifespan.shutdown.failed", "message": _describe(error)})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
