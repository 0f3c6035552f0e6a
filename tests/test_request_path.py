"""One canonical path: the path a hook checks is the path the router matched, on both protocols.

The attack: an admin area guarded by ``before_request`` on ``request.path``, reached through a
path that the router matches to the admin view but that does not start with ``/admin``
(``//admin/panel`` under ASGI was one). Requests are driven raw (``security_harness``), since a
test client would clean the path before erlen sees it.
"""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.security_harness import ADMIN_BODY, GOOD_HEADERS, PATH_TRICKS, both

from erlen import Erlen, abort, request
from erlen.protocols.request_path import canonical_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("", "/"),
        ("users/1", "/users/1"),
        ("//admin/panel", "/admin/panel"),
        ("///admin/panel", "/admin/panel"),
        ("/./admin/panel", "/admin/panel"),
        ("/x/../admin/panel", "/admin/panel"),
        ("/admin/./panel", "/admin/panel"),
        ("/admin/panel/.", "/admin/panel/"),
        ("/admin/panel/..", "/admin/"),
        ("/../../etc/passwd", "/etc/passwd"),
        ("/..//admin", "/admin"),
        ("/a//../b", "/a/b"),
        ("/admin//panel", "/admin//panel"),  # the router redirects it: no view runs
        ("/a/.b/..c/", "/a/.b/..c/"),
        ("/.well-known/x", "/.well-known/x"),
        ("/admin/panel.", "/admin/panel."),
    ],
)
def test_canonical_path(path: str, expected: str) -> None:
    assert canonical_path(path) == expected


def test_canonical_path_is_idempotent_and_rooted() -> None:
    for path in ("//a/./b/../c//", "/..", "./x", "/x/..", "a/../../b"):
        once = canonical_path(path)
        assert once.startswith("/") and not once.startswith("//")
        assert canonical_path(once) == once
        assert "/./" not in once + "/" and "/../" not in once + "/"


class Seen(t.NamedTuple):
    hook_path: str
    view_path: str
    rule: str
    name: str | None


def guarded_app() -> tuple[Erlen, list[Seen]]:
    """An admin area behind a ``before_request`` check on ``request.path``, a catch-all file
    route, and a record of what the hook and each view saw."""
    app = Erlen("guarded")
    app.config.update(SECRET_KEY="guarded-" + "k" * 40, PROPAGATE_EXCEPTIONS=False)
    app.logger.disabled = True
    seen: list[Seen] = []
    hook_paths: list[str] = []

    @app.before_request
    def guard() -> None:
        hook_paths.append(request.path)
        if request.path.startswith("/admin"):
            abort(403)

    def record(name: str | None = None) -> None:
        assert request.url_rule is not None
        seen.append(Seen(hook_paths[-1], request.path, request.url_rule.rule, name))

    @app.get("/admin/panel")
    def admin_panel() -> bytes:
        record()
        return ADMIN_BODY

    @app.get("/admin/")
    def admin_index() -> bytes:
        record()
        return ADMIN_BODY

    @app.get("/files/<path:name>")
    def files(name: str) -> str:
        record(name)
        return f"file {name}"

    @app.get("/public")
    def public() -> str:
        record()
        return "public"

    return app, seen


@pytest.mark.parametrize("target", PATH_TRICKS, ids=lambda target: target.decode())
def test_no_path_trick_reaches_a_guarded_view(target: bytes) -> None:
    app, seen = guarded_app()
    results = both(app, "GET", target, b"", GOOD_HEADERS, b"")
    for protocol, result in results.items():
        assert result.body != ADMIN_BODY, (protocol, target)
        assert result.status in (403, 404, 308), (protocol, target, result.status)
    assert results["wsgi"].status == results["asgi"].status, target
    assert not [entry for entry in seen if entry.rule.startswith("/admin")]


@pytest.mark.parametrize(
    ("target", "path"),
    [
        (b"//public", "/public"),
        (b"/x/../public", "/public"),
        (b"/./public", "/public"),
        (b"//files/a.txt", "/files/a.txt"),
        (b"/files/a/../b.txt", "/files/b.txt"),
        (b"/files/%2e%2e/files/c.txt", "/files/c.txt"),
    ],
)
def test_the_view_sees_the_matched_path(target: bytes, path: str) -> None:
    """Where a trick reaches a view, every part of the request agrees on the canonical path."""
    app, seen = guarded_app()
    for protocol, result in both(app, "GET", target, b"", GOOD_HEADERS, b"").items():
        assert result.status == 200, (protocol, target, result)
        hook_path, view_path, _rule, _name = seen.pop()
        assert hook_path == view_path == path, protocol


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_url_and_full_path_follow_the_canonical_path(protocol: str) -> None:
    app = Erlen("urls")
    app.config["SECRET_KEY"] = "urls-" + "k" * 40

    @app.get("/where")
    def where() -> dict[str, str]:
        return {"path": request.path, "full_path": request.full_path, "url": request.url}

    result = both(app, "GET", b"//x/../where", b"a=1", GOOD_HEADERS, b"")[protocol]
    assert result.status == 200, result
    assert result.body == (
        b'{"full_path":"/where?a=1","path":"/where","url":"http://localhost/where?a=1"}\n'
    )


SEGMENTS = [
    "admin",
    "Admin",
    "panel",
    "public",
    "files",
    "x",
    "",
    ".",
    "..",
    "%2F",
    "%2e",
    "%2E%2E",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=6), st.booleans())
def test_hooks_and_views_agree_on_every_path(segments: list[str], double: bool) -> None:
    """Over paths built from slashes, dots and encoded separators: the admin view never
    answers, both protocols answer alike, and whenever a view runs, the hook saw its path."""
    target = ("//" if double else "/") + "/".join(segments)
    app, seen = guarded_app()
    results = both(app, "GET", target.encode(), b"", GOOD_HEADERS, b"")
    wsgi, asgi = results["wsgi"], results["asgi"]
    assert (wsgi.status, wsgi.body) == (asgi.status, asgi.body), target
    assert wsgi.body != ADMIN_BODY, target
    for hook_path, view_path, rule, name in seen:
        assert hook_path == view_path, target
        assert view_path == (rule if name is None else "/files/" + name), target
