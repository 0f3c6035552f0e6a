"""The erlen app that the real-server tests serve.

Every server gets ``tests.servers.app_under_test:app`` except hypercorn, whose loader is given
``asgi:tests.servers.app_under_test:app`` (see ``conftest.py``). ``asgi`` is the explicit ASGI
entry point, kept for servers that cannot be told the interface.
"""

from __future__ import annotations

import asyncio
import hashlib
import typing as t
from collections.abc import AsyncIterator, Iterator

from werkzeug.exceptions import BadRequest

from erlen import Erlen, request

#: The body limit; the over-limit tests send a little more than this.
MAX_CONTENT_LENGTH = 1024 * 1024
#: Default number of chunks of /stream and /astream.
STREAM_CHUNKS = 8

app = Erlen(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH

#: The ASGI application callable, for servers that need it named explicitly.
asgi = app.asgi_app
#: The WSGI application callable.
wsgi = app.wsgi_app


def chunk(index: int) -> bytes:
    """The ``index``-th chunk of the streaming views (tests rebuild the expected body)."""
    return f"chunk-{index:03d};".encode()


def _chunk_count() -> int:
    try:
        count = int(request.args.get("n", STREAM_CHUNKS))
    except ValueError as error:
        raise BadRequest("n must be an integer") from error
    if not 0 <= count <= 1000:
        raise BadRequest("n must be between 0 and 1000")
    return count


@app.get("/")
def hello() -> str:
    return "Hello, servers!"


@app.get("/interface")
def interface() -> dict[str, t.Any]:
    """Which protocol the server used: a WSGI environ, or an ASGI scope (and its version)."""
    scope = request.scope
    if scope is None:
        return {"interface": "wsgi", "wsgi.version": list(request.environ["wsgi.version"])}
    return {"interface": "asgi", "asgi": dict(scope.get("asgi", {}))}


@app.get("/users/<int:user_id>")
def user(user_id: int) -> dict[str, t.Any]:
    return {"id": user_id, "name": f"user-{user_id}"}


@app.get("/args")
def args() -> dict[str, t.Any]:
    return {"args": request.args.to_dict(flat=False), "path": request.path}


@app.post("/echo-json")
def echo_json() -> dict[str, t.Any]:
    return {"view": "sync", "json": request.get_json()}


@app.post("/async-echo-json")
async def async_echo_json() -> dict[str, t.Any]:
    await asyncio.sleep(0)
    return {"view": "async", "json": request.get_json()}


@app.post("/form")
def form() -> dict[str, t.Any]:
    return {"form": request.form.to_dict(flat=False)}


@app.post("/upload")
def upload() -> tuple[dict[str, t.Any], int] | dict[str, t.Any]:
    uploaded = request.files.get("file")
    if uploaded is None:
        return {"error": "no file"}, 400
    content = uploaded.read()
    return {
        "filename": uploaded.filename,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "fields": request.form.to_dict(),
    }


@app.get("/stream")
def stream() -> t.Any:
    count = _chunk_count()

    def generate() -> Iterator[bytes]:
        for index in range(count):
            yield chunk(index)

    return generate(), {"Content-Type": "text/plain"}


@app.get("/astream")
def astream() -> t.Any:
    count = _chunk_count()

    async def generate() -> AsyncIterator[bytes]:
        for index in range(count):
            await asyncio.sleep(0)
            yield chunk(index)

    return generate(), {"Content-Type": "text/plain"}


@app.get("/async-hello")
async def async_hello() -> str:
    await asyncio.sleep(0)
    return "Hello from an async view!"
