"""Symlinks and dotfiles in a served folder, over raw HTTP on every server.

``public/`` (served at ``/public/<path>`` by ``send_from_directory``) holds symlinks that leave
it (``escape.txt`` and the folder ``private``, both to ``../private/``), one that stays inside
(``alias.txt``), dotfiles (``.env``, ``.hidden/inner.txt``) and ``.well-known/security.txt``.
The targets are sent as the client wrote them: servers decode them differently, and each
decoding must end at a 404 (or the server's own 400), never at the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .app_under_test import PUBLIC_DIR
from .conftest import RunningServer
from .test_security_servers import exchange, request

PUBLIC = Path(PUBLIC_DIR)
#: Contents that no request may receive.
PRIVATE = [
    (PUBLIC.parent / "private" / "secret.txt").read_bytes(),
    (PUBLIC / ".env").read_bytes(),
    (PUBLIC / ".hidden" / "inner.txt").read_bytes(),
]
HELLO = (PUBLIC / "hello.txt").read_bytes()

SYMLINK_ESCAPES = [
    "/public/escape.txt",
    "/public/%65scape.txt",
    "/public/private/secret.txt",
    "/public/private%2fsecret.txt",
    "/public/private%2Fsecret.txt",
    "/public/x/../escape.txt",
    "/public/x/%2e%2e/escape.txt",
    "/public/./private/./secret.txt",
    "/public/alias.txt/../escape.txt",
]
DOTFILES = [
    "/public/.env",
    "/public/%2eenv",
    "/public/%2Eenv",
    "/public/.%65nv",
    "/public/x/../.env",
    "/public/x/%2e%2e/.env",
    "/public/x/..%2f.env",
    "/public/./.env",
    "/public/.hidden/inner.txt",
    "/public/%2ehidden%2finner.txt",
    "/public/.hidden%2Finner.txt",
    "/public/.well-known/../.env",
    "/public/.well-known/%2e%2e/.hidden/inner.txt",
]


def assert_refused(server: RunningServer, target: str) -> None:
    answer = exchange(server, request("GET", target))
    assert answer.status in (400, 404), (server.name, target, answer.status, server.log())
    assert not any(content in answer.body for content in PRIVATE), (server.name, target)


@pytest.mark.parametrize("target", SYMLINK_ESCAPES)
def test_symlinks_out_of_the_folder_are_refused(server: RunningServer, target: str) -> None:
    assert_refused(server, target)


@pytest.mark.parametrize("target", DOTFILES)
def test_dotfiles_are_refused(server: RunningServer, target: str) -> None:
    assert_refused(server, target)


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("/public/alias.txt", HELLO),
        ("/public/%61lias.txt", HELLO),
        ("/public/.well-known/security.txt", (PUBLIC / ".well-known/security.txt").read_bytes()),
        ("/public/%2ewell-known/security.txt", (PUBLIC / ".well-known/security.txt").read_bytes()),
    ],
)
def test_links_inside_and_well_known_are_served(
    server: RunningServer, target: str, body: bytes
) -> None:
    answer = exchange(server, request("GET", target))
    assert (answer.status, answer.body) == (200, body), (server.name, target, server.log())
