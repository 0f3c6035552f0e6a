"""Fixtures for the tests of the blog in examples/blog: a fresh app, database and instance
folder per test, and a client on the WSGI or the ASGI path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BLOG_ROOT = Path(__file__).resolve().parents[2] / "examples" / "blog"
if str(BLOG_ROOT) not in sys.path:
    sys.path.insert(0, str(BLOG_ROOT))

from blog import create_app  # noqa: E402

from erlen import Erlen  # noqa: E402
from erlen.testing import ErlenClient  # noqa: E402

#: A password that passes the blog's checks.
PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path: Path) -> Erlen:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "a-test-secret-key-of-some-length-0123",
            # Hashing with scrypt, the default, takes a tenth of a second a password.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp_path / "instance"),
    )


@pytest.fixture(params=["wsgi", "asgi"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(app: Erlen, protocol: str) -> ErlenClient:
    return app.test_client(asgi=protocol == "asgi")
