"""Channels across servers and processes, on a real Redis: a ``def`` view served by one server
publishes, and the server-sent event streams of clients connected to another server receive it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from support.redis_server import RedisServer

from .conftest import RunningServer, run_server, skip_unless_installed

WAIT = 10.0


@pytest.fixture(scope="module")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


def _events(response: httpx.Response, count: int) -> list[tuple[str, str]]:
    """The first ``count`` events of a stream as (id, data), within WAIT seconds."""
    events: list[tuple[str, str]] = []
    event_id = data = ""
    deadline = time.monotonic() + WAIT
    for line in response.iter_lines():
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            events.append((event_id, data))
            event_id = data = ""
            if len(events) == count:
                break
        if time.monotonic() > deadline:
            break
    return events


@pytest.mark.parametrize(
    ("publisher", "listener"),
    [("gunicorn", "uvicorn"), ("uvicorn", "granian-asgi"), ("granian-wsgi", "hypercorn")],
)
def test_a_post_on_one_server_reaches_the_streams_of_another(
    redis_url: str, tmp_path: Path, publisher: str, listener: str
) -> None:
    with _two_servers(publisher, listener, redis_url, tmp_path) as (publishing, listening, client):
        marker = client.post(f"{publishing.url}/channels/publish", content="marker").text
        headers = {"Last-Event-ID": marker}
        with client.stream("GET", f"{listening.url}/channels/live", headers=headers) as stream:
            assert stream.status_code == 200, _logs(publishing, listening)
            sent = [
                client.post(f"{publishing.url}/channels/publish", content=f"post {index}").text
                for index in range(3)
            ]
            events = _events(stream, 3)
    assert events == [(sent[index], f"post {index}") for index in range(3)], _logs(
        publishing, listening
    )


@contextlib.contextmanager
def _two_servers(
    publisher: str, listener: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[RunningServer, RunningServer, httpx.Client]]:
    """Server ``publisher`` and server ``listener`` on one Redis, and an HTTP client."""
    skip_unless_installed(publisher)
    skip_unless_installed(listener)
    env = {"ERLEN_CHANNELS_URL": redis_url}
    with (
        run_server(publisher, tmp_path / "publisher.log", env) as publishing,
        run_server(listener, tmp_path / "listener.log", env) as listening,
        httpx.Client(timeout=WAIT) as client,
    ):
        yield publishing, listening, client


def _logs(*servers: RunningServer) -> str:
    return "\n".join(f"--- {server.name}\n{server.log()}" for server in servers)


@pytest.mark.parametrize(("publisher", "listener"), [("gunicorn", "uvicorn")])
def test_a_def_view_on_gunicorn_publishes_to_websocket_clients_on_uvicorn(
    redis_url: str, tmp_path: Path, publisher: str, listener: str
) -> None:
    with _two_servers(publisher, listener, redis_url, tmp_path) as (publishing, listening, client):
        marker = client.post(f"{publishing.url}/channels/publish", content="marker").text
        url = f"ws://{listening.host}:{listening.port}/channels/ws?after={marker}"

        async def listen(sent: list[str]) -> list[list[str]]:
            async with contextlib.AsyncExitStack() as stack:
                sockets = [
                    await stack.enter_async_context(
                        websockets.connect(url, open_timeout=WAIT, close_timeout=2)
                    )
                    for _ in range(3)
                ]
                for socket in sockets:
                    assert await asyncio.wait_for(socket.recv(), WAIT) == "ready"
                for index in range(3):  # from gunicorn's def view, while the sockets listen
                    response = await asyncio.to_thread(
                        client.post, f"{publishing.url}/channels/publish", content=f"post {index}"
                    )
                    sent.append(response.text)
                return [
                    [str(await asyncio.wait_for(socket.recv(), WAIT)) for _ in range(3)]
                    for socket in sockets
                ]

        sent: list[str] = []
        received = asyncio.run(asyncio.wait_for(listen(sent), 4 * WAIT))
    expected = [f"{sent[index]} post {index}" for index in range(3)]
    assert received == [expected] * 3, _logs(publishing, listening)
