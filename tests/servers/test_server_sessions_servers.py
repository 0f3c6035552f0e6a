"""Server-side sessions across servers, on a real Redis: a user signs in through one server,
the session opens on another, and revoking it through that other server signs the user out
everywhere."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support.redis_server import RedisServer

from .conftest import run_server, skip_unless_installed

WAIT = 10.0


@pytest.fixture(scope="module")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.mark.parametrize(
    ("first", "second"), [("gunicorn", "uvicorn"), ("granian-asgi", "hypercorn")]
)
def test_a_session_revoked_on_one_server_is_refused_on_the_other(
    redis_url: str, tmp_path: Path, first: str, second: str
) -> None:
    skip_unless_installed(first)
    skip_unless_installed(second)
    env = {
        "ERLEN_SESSION_STORE_URL": redis_url,
        "ERLEN_TEST_SECRET_KEY": "a-long-enough-secret-key-shared-by-the-servers-0123",
    }
    with (
        run_server(first, tmp_path / "first.log", env) as one,
        run_server(second, tmp_path / "second.log", env) as other,
        httpx.Client(timeout=WAIT) as browser,
        httpx.Client(timeout=WAIT) as admin,
    ):
        assert browser.post(f"{one.url}/sessions/login/ann").text == "in"
        cookie = browser.cookies.get("session")
        assert cookie and "ann" not in cookie
        assert browser.get(f"{other.url}/sessions/whoami").text == "ann"  # the shared store
        assert admin.post(f"{other.url}/sessions/revoke/ann").text == "1"
        assert browser.get(f"{one.url}/sessions/whoami").text == "nobody"
        assert browser.get(f"{other.url}/sessions/whoami").text == "nobody"
