"""One request's pipeline as a single call, teardown included unless the body is streamed: how a
WSGI server's thread runs every request, how a worker thread runs an ASGI request whose view is
sync (both drive it in one step), and how the server's loop awaits any other ASGI request."""

from __future__ import annotations

import enum
import typing as t

from ..wrappers import sends_no_body

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..concurrency import Invoker
    from ..ctx import RequestContext
    from ..wrappers import Response


class Body(enum.Enum):
    """What the pipeline found about the response's body."""

    NONE = "none"  #: nothing to send (HEAD, 204, 304...); the request context is popped
    KNOWN = "known"  #: made already (a list of bytes, a file); the request context is popped
    STREAMED = "streamed"  #: made while it is sent: the request context stays until it ends


async def handle_in_thread(
    app: Erlen,
    ctx: RequestContext,
    invoke: Invoker,
    method: str,
    file_wrapper: type | None,
) -> tuple[Response, BaseException | None, Body]:
    """Push ``ctx``, run the pipeline, and pop ``ctx`` (teardown) unless the body is streamed.
    ``file_wrapper`` is the type of a body that sends a file (known, not streamed). On a thread
    it never suspends (see :func:`~erlen.concurrency.drive`)."""
    ctx.push()
    try:
        response, error = await app.handle_request(ctx, invoke)
    except BaseException as exc:
        await ctx._pop(invoke, exc)
        raise
    content = response.response
    if sends_no_body(response, method):
        response.close()
        body = Body.NONE
    elif type(content) is list:  # known, unless a function runs when it has been sent
        body = Body.STREAMED if response._on_close else Body.KNOWN
    elif file_wrapper is not None and type(content) is file_wrapper:
        body = Body.KNOWN
    else:
        body = Body.STREAMED  # made while it is sent: the request context must stay
    if body is not Body.STREAMED:
        running = ctx._leave(invoke, error)
        if running is not None:
            await running
    return response, error, body
