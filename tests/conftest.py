"""Fixtures shared by the test modules.

Behavioural tests take ``client``: it is parametrized over the WSGI and the ASGI path, so each
behaviour is checked through both adapters with the same test code.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.redis_server import RedisServer, running_redis
from support.redis_server import installed as redis_installed

from erlen import Erlen
from erlen.testing import ErlenClient


@pytest.fixture
def app() -> Erlen:
    app = Erlen("test_app")
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-with-enough-entropy-0123")
    return app


@pytest.fixture(autouse=True)
def _unfrozen_heap() -> Iterator[None]:
    """A test that starts an app as a server does freezes the heap (GC_FREEZE_ON_SERVE): the
    next test gets it back unfrozen."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()


@pytest.fixture(params=["wsgi", "asgi"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(app: Erlen, protocol: str) -> ErlenClient:
    return app.test_client(asgi=protocol == "asgi")


_MARKED_FOLDERS = frozenset({"servers", "browser"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by where it lives (see the markers in pyproject.toml)."""
    tests = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(tests).parts
        if parts[0] in _MARKED_FOLDERS:
            item.add_marker(parts[0])
        elif parts[0] == "test_docs.py":
            item.add_marker("docs")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis for the module's tests (skipped without Debian's redis-server)."""
    if not redis_installed():
        pytest.skip("needs Debian's redis-server (make test installs it)")
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server
