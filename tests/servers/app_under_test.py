"""The erlen app that the real-server tests serve.

Every server gets ``tests.servers.app_under_test:app`` except hypercorn, whose loader is given
``asgi:tests.servers.app_under_test:app`` (see ``conftest.py``). ``asgi`` is the explicit ASGI
entry point, kept for servers that cannot be told the interface.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import time
import typing as t
from collections.abc import AsyncIterator, Iterator

from werkzeug.exceptions import BadRequest

from erlen import Erlen, abort, request, session, url_for, websocket
from erlen.channels import Channels
from erlen.server_sessions import ServerSessions, regenerate_session, revoke_user_sessions
from erlen.sse import EventStream, ServerSentEvent

#: The body limit; the over-limit tests send a little more than this.
MAX_CONTENT_LENGTH = 1024 * 1024
#: Under every server's own limit, so that erlen's is the one tested.
MAX_HEADER_COUNT = 50
#: Default number of chunks of /stream and /astream.
STREAM_CHUNKS = 8

app = Erlen(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
app.config["MAX_HEADER_COUNT"] = MAX_HEADER_COUNT

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


@app.get("/gc-frozen")
def gc_frozen() -> dict[str, int]:
    """How many objects the server's start of the app froze (GC_FREEZE_ON_SERVE)."""
    return {"frozen": gc.get_freeze_count()}


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


#: The folder /public/<path> serves (the path traversal tests try to leave it; its symlinks
#: and dotfiles are for test_files_servers.py).
PUBLIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "public")


@app.get("/public/<path:name>")
def public_file(name: str) -> t.Any:
    from erlen import send_from_directory

    return send_from_directory(PUBLIC_DIR, name)


# --- async-native serving: WebSockets, server-sent events, streams, lifespan ------------------

#: Tokens of the /forever streams whose generator has run its ``finally`` (client gone).
closed_streams: set[str] = set()
#: The file the lifespan functions append to, when the server is started with this variable.
LIFESPAN_LOG_ENV = "ERLEN_TEST_LIFESPAN_LOG"
#: Bytes of each chunk of /download.
DOWNLOAD_CHUNK = 64 * 1024


def download_chunk(index: int) -> bytes:
    """The ``index``-th chunk of /download (the test rebuilds the expected body)."""
    return hashlib.sha256(str(index).encode()).digest() * (DOWNLOAD_CHUNK // 32)


@app.websocket("/ws/echo/<name>")
async def ws_echo(name: str) -> None:
    """A chat-style echo: every message comes back prefixed with the connection's name."""
    await websocket.accept()
    async for message in websocket:
        text = message if isinstance(message, str) else message.decode()
        await websocket.send(f"{name}: {text}")


@app.get("/sse")
def sse() -> EventStream:
    count = _chunk_count()

    async def events() -> AsyncIterator[ServerSentEvent]:
        for index in range(count):
            await asyncio.sleep(0)
            yield ServerSentEvent(data=f"event {index}\nline two", event="tick", id=str(index))

    return EventStream(events())


@app.get("/download")
def download() -> t.Any:
    count = _chunk_count()

    def generate() -> Iterator[bytes]:
        for index in range(count):
            yield download_chunk(index)

    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": "attachment; filename=data.bin",
    }
    return generate(), headers


@app.get("/forever/<token>")
def forever(token: str) -> t.Any:
    """An endless slow stream; its ``finally`` records ``token`` once the client has gone."""
    is_async = request.args.get("kind", "async") == "async"

    async def async_chunks() -> AsyncIterator[bytes]:
        try:
            for index in range(100_000):
                yield f"{token} {index}\n".encode()
                await asyncio.sleep(0.02)
        finally:
            closed_streams.add(token)

    def sync_chunks() -> Iterator[bytes]:
        try:
            for index in range(100_000):
                yield f"{token} {index}\n".encode()
                time.sleep(0.02)
        finally:
            closed_streams.add(token)

    body = async_chunks() if is_async else sync_chunks()
    return body, {"Content-Type": "text/plain"}


#: What the admin view answers; a bypass of the hook below would show it.
ADMIN_BODY = "admin area"


@app.before_request
def guard_admin() -> None:
    """The access check the canonical-path tests attack: written on ``request.path``, as an
    app would write it."""
    if request.path.startswith("/admin"):
        abort(403)


@app.get("/admin/panel")
def admin_panel() -> str:
    return ADMIN_BODY


@app.get("/closed/<token>")
def closed(token: str) -> dict[str, bool]:
    return {"closed": token in closed_streams}


if os.environ.get(LIFESPAN_LOG_ENV):
    _lifespan_log = os.environ[LIFESPAN_LOG_ENV]

    def _record(line: str) -> None:
        with open(_lifespan_log, "a", encoding="utf-8") as log:
            log.write(f"{line} {os.getpid()}\n")

    @app.before_serving
    async def record_startup() -> None:
        _record("startup")

    @app.after_serving
    def record_shutdown() -> None:
        _record("shutdown")

    @app.get("/lifespan-request")
    def lifespan_request() -> str:
        _record("request")
        return "recorded"


@app.get("/redirect-to")
def redirect_to() -> t.Any:
    """A redirect to the target the client chose (percent-encoded into a valid Location)."""
    from erlen import redirect

    return redirect(request.args["target"])


@app.get("/header-from-input")
def header_from_input() -> t.Any:
    """A header whose value comes from the query string: refused when it cannot be sent."""
    response = app.response_class("header set")
    response.headers._list.append(("X-Echo", request.args["value"]))
    return response


@app.get("/forgot")
def forgot() -> str:
    """A password-reset link: an absolute URL, which the request's Host must not make."""
    return url_for("reset", token="t0k3n", _external=True)


@app.get("/reset/<token>")
def reset(token: str) -> str:
    return token


# Channels: in memory, or on the Redis that tests/servers/test_channels_servers.py gives every
# server it starts (so that one server's views publish to another's clients).
app.config["CHANNELS_URL"] = os.environ.get("ERLEN_CHANNELS_URL")
channels = Channels(app)


@app.post("/channels/publish")
def publish() -> str:
    """A def view (a worker thread under ASGI, the server's thread under WSGI) publishing."""
    return channels.publish("servers", request.get_data(as_text=True))


@app.get("/channels/live")
def live() -> EventStream:
    last_id = request.headers.get("Last-Event-ID")
    return channels.event_stream("servers", last_id=last_id, ping_interval=None)


@app.websocket("/channels/ws")
async def live_socket() -> None:
    """The channel over a WebSocket: ``ready`` once subscribed, then each message as
    ``id data``."""
    await websocket.accept()
    subscription = channels.subscribe("servers", last_id=request.args.get("after"))
    await websocket.send("ready")
    async for message in subscription:
        await websocket.send(f"{message.id} {message.data}")


# Server-side sessions on the Redis that tests/servers/test_server_sessions_servers.py gives
# every server it starts, with one secret key: a session of one server opens on another.
if os.environ.get("ERLEN_SESSION_STORE_URL"):
    app.config["SECRET_KEY"] = os.environ["ERLEN_TEST_SECRET_KEY"]
    app.config["SESSION_STORE_URL"] = os.environ["ERLEN_SESSION_STORE_URL"]
    ServerSessions(app)


@app.post("/sessions/login/<user>")
def session_login(user: str) -> str:
    regenerate_session()
    session["_user_id"] = user
    return "in"


@app.get("/sessions/whoami")
async def session_whoami() -> str:
    return str(session.get("_user_id", "nobody"))


@app.post("/sessions/revoke/<user>")
def session_revoke(user: str) -> str:
    return str(revoke_user_sessions(user))
