"""The example blog on two workers of one server, its live feed on a real Redis: a post made
through one worker reaches the feeds that every worker serves."""

from __future__ import annotations

import html
import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from support.redis_server import RedisServer

from .conftest import run_server, skip_unless_installed

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15.0
#: Feeds opened at most while looking for one on each worker.
MAX_FEEDS = 24


def _create_instance(instance: Path) -> None:
    """The database and the secret key, made once before the workers start (each would make
    its own otherwise)."""
    sys.path.insert(0, str(ROOT / "examples" / "blog"))
    try:
        from blog import create_app

        create_app(instance_path=str(instance))
    finally:
        sys.path.remove(str(ROOT / "examples" / "blog"))


def _next_event(lines: Iterator[str], deadline: float) -> dict[str, str]:
    """The next event of a feed's lines, within ``deadline``."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "" and fields:
            return fields
        name, _, value = str(line).partition(": ")
        if name and not name.startswith(":"):
            fields[name] = value
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no complete event before the deadline: {fields}")


@pytest.mark.parametrize("server", ["uvicorn", "granian-asgi"])
def test_a_post_on_one_worker_reaches_the_feeds_of_both(
    redis_server: RedisServer, tmp_path: Path, server: str
) -> None:
    skip_unless_installed(server)
    instance = tmp_path / "instance"
    _create_instance(instance)
    env = {
        "BLOG_INSTANCE_PATH": str(instance),
        "ERLEN_CHANNELS_URL": redis_server.url,
        "ERLEN_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    app = "tests.servers.blog_workers:app"
    with (
        run_server(server, tmp_path / "server.log", env, app=app, workers=2) as running,
        httpx.Client(base_url=running.url, timeout=WAIT) as author,
        ExitStack() as streams,
    ):
        index = author.get("/")
        feed_url = html.unescape(re.search(r'data-feed-url="([^"]+)"', index.text)[1])  # type: ignore[index]
        feeds: dict[str, list[Iterator[str]]] = {}
        for _ in range(MAX_FEEDS):
            client = streams.enter_context(httpx.Client(base_url=running.url, timeout=WAIT))
            response = streams.enter_context(client.stream("GET", feed_url))
            assert response.status_code == 200, running.log()
            lines = response.iter_lines()
            assert _next_event(lines, time.monotonic() + WAIT)["event"] == "ready"
            feeds.setdefault(response.headers["X-Worker"], []).append(lines)
            if len(feeds) == 2:
                break
        assert len(feeds) == 2, f"every feed went to one worker: {list(feeds)}"

        form = {"username": "ada", "password": "correct horse battery"}
        assert author.post("/auth/register", data=form).status_code == 302, running.log()
        assert author.post("/auth/login", data=form).status_code == 302
        made = author.post("/api/posts", json={"title": "Across workers"})
        assert made.status_code == 201, made.text
        writer = made.headers["X-Worker"]

        deadline = time.monotonic() + WAIT
        for worker, worker_feeds in feeds.items():
            for lines in worker_feeds:
                event = _next_event(lines, deadline)
                assert event["event"] == "post", (worker, writer, event)
                assert json.loads(event["data"])["title"] == "Across workers"
