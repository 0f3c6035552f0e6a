"""Async-native serving over real servers: WebSockets, server-sent events, streamed bodies,
client disconnects and the lifespan, against the ASGI servers (uvicorn, hypercorn, granian);
and the WebSocket route under a WSGI server (gunicorn), which answers 426.

The session-scoped ``server`` fixture of ``conftest.py`` is narrowed to the relevant servers by
indirect parametrization; the lifespan test starts and stops a server of its own, since it
watches the shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import time
import typing as t
import uuid
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidHandshake

from .app_under_test import LIFESPAN_LOG_ENV, download_chunk
from .conftest import RunningServer, run_server, skip_unless_installed

ASGI_SERVERS = ["uvicorn", "hypercorn", "granian-asgi"]
#: Longest wait for any one network operation.
TIMEOUT = 10.0
asgi_servers = pytest.mark.parametrize("server", ASGI_SERVERS, indirect=True)


def _ws_url(server: RunningServer, path: str) -> str:
    return f"ws://{server.host}:{server.port}{path}"


def _status_of(error: InvalidHandshake) -> int | None:
    """The HTTP status of a refused handshake (new and legacy ``websockets`` clients)."""
    status = getattr(error, "status_code", None)  # legacy client
    response: t.Any = getattr(error, "response", None)  # websockets >= 14
    return t.cast("int | None", status if status is not None else response.status_code)


async def _chat(server: RunningServer, name: str, count: int) -> list[str]:
    """Connect as ``name``, send ``count`` messages (yielding between them so that the clients
    interleave) and return the replies."""
    replies: list[str] = []
    async with websockets.connect(
        _ws_url(server, f"/ws/echo/{name}"), open_timeout=TIMEOUT, close_timeout=2
    ) as ws:
        for index in range(count):
            await ws.send(f"message {index} from {name}")
            await asyncio.sleep(0)
        for _ in range(count):
            reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
            replies.append(reply if isinstance(reply, str) else reply.decode())
    return replies


@asgi_servers
def test_websocket_echo(server: RunningServer) -> None:
    async def main() -> list[str | bytes]:
        async with websockets.connect(
            _ws_url(server, "/ws/echo/alice"), open_timeout=TIMEOUT, close_timeout=2
        ) as ws:
            await ws.send("hello")
            first = await asyncio.wait_for(ws.recv(), TIMEOUT)
            await ws.send(b"binary \xc3\xa9")
            second = await asyncio.wait_for(ws.recv(), TIMEOUT)
            return [first, second]

    assert asyncio.run(asyncio.wait_for(main(), 3 * TIMEOUT)) == [
        "alice: hello",
        "alice: binary é",
    ]


@asgi_servers
def test_fifty_concurrent_websocket_clients(server: RunningServer) -> None:
    clients, messages = 50, 5

    async def main() -> list[list[str]]:
        return list(
            await asyncio.gather(*(_chat(server, f"c{i}", messages) for i in range(clients)))
        )

    results = asyncio.run(asyncio.wait_for(main(), 30))
    for index, replies in enumerate(results):
        name = f"c{index}"
        assert replies == [f"{name}: message {j} from {name}" for j in range(messages)]


@asgi_servers
def test_websocket_to_a_missing_route_is_refused(server: RunningServer) -> None:
    async def main() -> int | None:
        try:
            async with websockets.connect(
                _ws_url(server, "/ws/nowhere"), open_timeout=TIMEOUT, close_timeout=2
            ):
                return None
        except InvalidHandshake as error:
            return _status_of(error)

    status = asyncio.run(asyncio.wait_for(main(), 3 * TIMEOUT))
    # 404 where the server supports the websocket.http.response extension, else its 403.
    assert status in (403, 404)


@asgi_servers
def test_server_sent_events_over_raw_http(server: RunningServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/sse?n=5", headers={"Accept": "text/event-stream"})
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("text/event-stream")
        assert response.getheader("Cache-Control") == "no-cache"
        body = response.read(1024 * 1024).decode()
    finally:
        connection.close()
    expected = "".join(
        f"event: tick\nid: {index}\ndata: event {index}\ndata: line two\n\n" for index in range(5)
    )
    assert body == expected


@asgi_servers
def test_streaming_download(server: RunningServer) -> None:
    count = 64  # 4 MiB in 64 KiB chunks
    expected = hashlib.sha256(b"".join(download_chunk(i) for i in range(count))).hexdigest()
    digest = hashlib.sha256()
    size = 0
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
        client.stream("GET", "/download", params={"n": count}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"] == "attachment; filename=data.bin"
        for part in response.iter_bytes():
            digest.update(part)
            size += len(part)
    assert size == count * len(download_chunk(0))
    assert digest.hexdigest() == expected


@asgi_servers
@pytest.mark.parametrize("kind", ["async", "sync"])
def test_client_disconnect_closes_the_stream(server: RunningServer, kind: str) -> None:
    token = f"{kind}-{uuid.uuid4().hex}"
    connection = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", f"/forever/{token}?kind={kind}")
        response = connection.getresponse()
        assert response.status == 200
        lines = [response.readline() for _ in range(3)]  # the stream is running
        assert lines[0] == f"{token} 0\n".encode()
    finally:
        connection.close()  # the client goes away mid-stream
    closed = False
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        deadline = time.monotonic() + TIMEOUT
        for _ in range(int(TIMEOUT / 0.05)):
            closed = client.get(f"/closed/{token}").json()["closed"]
            if closed or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert closed, f"the generator's finally did not run:\n{server.log()}"


@pytest.mark.parametrize("name", ASGI_SERVERS)
def test_lifespan_startup_and_shutdown(name: str, tmp_path: Path) -> None:
    skip_unless_installed(name)
    lifespan_log = tmp_path / "lifespan.log"
    env = {LIFESPAN_LOG_ENV: str(lifespan_log)}
    with run_server(name, tmp_path / f"{name}.log", env) as server:
        first = lifespan_log.read_text().split() if lifespan_log.exists() else []
        response = httpx.get(f"{server.url}/lifespan-request", timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.text == "recorded"
    lines = [line.split() for line in lifespan_log.read_text().splitlines()]
    assert first[:1] == ["startup"], "startup ran before the server answered"
    assert [line[0] for line in lines] == ["startup", "request", "shutdown"], server.log()
    assert len({line[1] for line in lines}) == 1  # all in the one worker process


@pytest.mark.parametrize("server", ["gunicorn"], indirect=True)
def test_websocket_route_under_wsgi_is_426(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/ws/echo/bob", timeout=TIMEOUT)
    assert response.status_code == 426
    assert response.headers["upgrade"].lower() == "websocket"

    async def main() -> int | None:
        try:
            async with websockets.connect(
                _ws_url(server, "/ws/echo/bob"), open_timeout=TIMEOUT, close_timeout=2
            ):
                return None
        except InvalidHandshake as error:
            return _status_of(error)

    assert asyncio.run(asyncio.wait_for(main(), 3 * TIMEOUT)) == 426
