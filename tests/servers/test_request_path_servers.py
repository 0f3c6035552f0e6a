"""The canonical path on real servers: no path trick gets past a ``before_request`` check that
guards ``/admin`` by ``request.path`` (``app_under_test.guard_admin``), on every server."""

from __future__ import annotations

import pytest
from support.security_harness import PATH_TRICKS

from .app_under_test import ADMIN_BODY
from .conftest import RunningServer
from .test_security_servers import exchange, request


@pytest.mark.parametrize("target", PATH_TRICKS, ids=lambda target: target.decode())
def test_no_path_trick_reaches_the_guarded_view(server: RunningServer, target: bytes) -> None:
    answer = exchange(server, request("GET", target.decode()))
    assert ADMIN_BODY.encode() not in answer.body, (server.name, target)
    assert answer.status in (400, 403, 404, 308), (server.name, target, answer.status)


@pytest.mark.parametrize("target", ["//", "/x/../", "/./", "//%2F"])
def test_tricks_on_an_open_path_reach_it_canonically(server: RunningServer, target: str) -> None:
    answer = exchange(server, request("GET", target))
    assert (answer.status, answer.body) == (200, b"Hello, servers!"), (server.name, target)
