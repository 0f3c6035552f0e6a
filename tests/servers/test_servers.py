"""The test app over real HTTP, on every server (see ``conftest.py`` for the servers)."""

from __future__ import annotations

import hashlib
import json
import random
import socket
from collections.abc import Iterator

import httpx
import pytest

from .app_under_test import app, chunk
from .conftest import RunningServer

TIMEOUT = httpx.Timeout(10.0)
SOCKET_TIMEOUT = 10.0


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


def test_server_uses_the_expected_interface(server: RunningServer, http: httpx.Client) -> None:
    response = http.get("/interface")
    assert response.status_code == 200
    data = response.json()
    assert data["interface"] == server.interface
    if server.interface == "wsgi":
        assert data["wsgi.version"] == [1, 0]
    else:
        # uvicorn picks ASGI 2 for an object whose __call__ is sync; the others call ASGI 3.
        expected = "2.0" if server.name == "uvicorn" else "3.0"
        assert data["asgi"].get("version", "2.0") == expected


def test_server_start_freezes_the_heap(http: httpx.Client) -> None:
    """The objects that exist when a server starts the app (its lifespan startup, a WSGI
    server's first request) are out of the cycle collector's way (GC_FREEZE_ON_SERVE)."""
    http.get("/")  # (a WSGI server starts the app with its first request)
    response = http.get("/gc-frozen")
    assert response.status_code == 200
    assert response.json()["frozen"] > 1000  # the modules and the app, at least


def test_hello(http: httpx.Client) -> None:
    response = http.get("/")
    assert response.status_code == 200
    assert response.text == "Hello, servers!"
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-length"] == str(len(b"Hello, servers!"))


def test_async_view(http: httpx.Client) -> None:
    response = http.get("/async-hello")
    assert response.status_code == 200
    assert response.text == "Hello from an async view!"


def test_path_parameter(http: httpx.Client) -> None:
    response = http.get("/users/42")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": 42, "name": "user-42"}
    assert http.get("/users/not-a-number").status_code == 404


def test_query_string(http: httpx.Client) -> None:
    response = http.get("/args", params=[("a", "1"), ("a", "2"), ("é", "ü & =")])
    assert response.status_code == 200
    assert response.json() == {"args": {"a": ["1", "2"], "é": ["ü & ="]}, "path": "/args"}


@pytest.mark.parametrize("path", ["/echo-json", "/async-echo-json"])
def test_json_echo(http: httpx.Client, path: str) -> None:
    payload = {"text": "grüße ✓", "numbers": [1, 2.5, -3], "nested": {"ok": True, "none": None}}
    response = http.post(path, json=payload)
    assert response.status_code == 200
    assert response.json() == {
        "view": "async" if path.startswith("/async") else "sync",
        "json": payload,
    }


@pytest.mark.parametrize("path", ["/echo-json", "/async-echo-json"])
def test_json_echo_of_a_larger_body(http: httpx.Client, path: str) -> None:
    payload = {"items": [f"item-{index}" for index in range(20_000)]}  # ~ 300 KB
    body = json.dumps(payload).encode()
    assert 100_000 < len(body) < 1024 * 1024
    response = http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["json"] == payload


def test_form(http: httpx.Client) -> None:
    response = http.post("/form", data={"name": "Zoë", "tags": ["a", "b & c"], "empty": ""})
    assert response.status_code == 200
    assert response.json() == {"form": {"name": ["Zoë"], "tags": ["a", "b & c"], "empty": [""]}}


def test_multipart_upload(http: httpx.Client) -> None:
    content = random.Random(1234).randbytes(300 * 1024)
    response = http.post(
        "/upload",
        files={"file": ("données.bin", content, "application/octet-stream")},
        data={"note": "hello"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "filename": "données.bin",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "fields": {"note": "hello"},
    }


def test_empty_upload(http: httpx.Client) -> None:
    response = http.post("/upload", files={"file": ("empty.txt", b"", "text/plain")})
    assert response.status_code == 200
    assert response.json()["size"] == 0
    assert response.json()["sha256"] == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("path", ["/stream", "/astream"])
def test_streaming(http: httpx.Client, path: str) -> None:
    count = 60
    received: list[bytes] = []
    with http.stream("GET", path, params={"n": count}) as response:
        assert response.status_code == 200
        # A streamed body has no length known in advance: chunked, or delimited by close.
        assert "content-length" not in response.headers
        if response.http_version == "HTTP/1.1" and "close" not in response.headers.get(
            "connection", ""
        ):
            assert response.headers["transfer-encoding"] == "chunked"
        for index, piece in enumerate(response.iter_raw()):
            assert index < 10_000
            received.append(piece)
    assert b"".join(received) == b"".join(chunk(index) for index in range(count))


@pytest.mark.parametrize("path", ["/stream", "/astream"])
def test_empty_stream(http: httpx.Client, path: str) -> None:
    response = http.get(path, params={"n": 0})
    assert response.status_code == 200
    assert response.content == b""


def test_head(http: httpx.Client) -> None:
    response = http.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/html")
    if "content-length" in response.headers:
        assert response.headers["content-length"] == str(len(b"Hello, servers!"))


def test_head_of_a_stream(http: httpx.Client) -> None:
    response = http.head("/stream")
    assert response.status_code == 200
    assert response.content == b""


def test_not_found(http: httpx.Client) -> None:
    response = http.get("/no/such/page")
    assert response.status_code == 404
    assert "Not Found" in response.text


def test_method_not_allowed(http: httpx.Client) -> None:
    response = http.get("/echo-json")
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed == {"POST", "OPTIONS"}


def test_automatic_options(http: httpx.Client) -> None:
    response = http.options("/users/1")
    assert response.status_code == 200
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed == {"GET", "HEAD", "OPTIONS"}


def test_several_requests_on_one_connection(http: httpx.Client) -> None:
    for index in range(5):
        assert http.get("/stream", params={"n": 3}).content == chunk(0) + chunk(1) + chunk(2)
        echoed = http.post("/async-echo-json", json={"index": index}).json()
        assert echoed == {"view": "async", "json": {"index": index}}
        assert http.get(f"/users/{index}").json()["id"] == index


def test_why_hypercorn_is_given_the_asgi_mode() -> None:
    """hypercorn picks ASGI only for an object whose ``__call__`` is a coroutine function; the
    app's ``__call__`` is sync (it also serves WSGI), hence ``asgi:module:app`` in conftest."""
    utils = pytest.importorskip("hypercorn.utils")
    assert not utils.is_asgi(app)
    assert utils.is_asgi(app.asgi_app)


#: The servers that leave the ``100 Continue`` of ``Expect: 100-continue`` to the app (it goes
#: out when the app asks for the body); the others send it as soon as the headers arrive.
GO_AHEAD_FROM_THE_APP = frozenset({"uvicorn", "granian-asgi", "granian-wsgi"})


def _expecting(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()


def test_a_body_the_client_holds_back_is_not_asked_for_before_a_hook_refuses(
    server: RunningServer,
) -> None:
    # erlen reads small bodies ahead for sync views, but not one sent only on a go-ahead.
    if server.name not in GO_AHEAD_FROM_THE_APP:
        pytest.skip(f"{server.name} sends 100 Continue itself")
    body = b'{"a": 1}'
    with socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(_expecting("/admin/upload", body))
        assert sock.recv(4096).startswith(b"HTTP/1.1 403 ")
    with socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(_expecting("/echo-json", body))
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 ")  # asked for when the view reads it
        sock.sendall(body)
        answer = b""
        for _ in range(100):
            answer += sock.recv(4096)
            if answer.endswith(b"}\n"):
                break
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'{"json":{"a":1},"view":"sync"}\n')
