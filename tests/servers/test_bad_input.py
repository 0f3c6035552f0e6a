"""Malformed requests over raw sockets, on every server.

A bad request must get a 4xx (from the server or from the app) or have its connection closed;
never a 5xx. After each one, the server must still answer a good request correctly.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time

import httpx
import pytest

from .app_under_test import MAX_CONTENT_LENGTH
from .conftest import RunningServer

#: Longest wait for any one socket operation, and for a whole raw exchange.
SOCKET_TIMEOUT = 5.0
EXCHANGE_TIMEOUT = 10.0
#: Most bytes read back from a raw exchange.
MAX_READ = 2 * 1024 * 1024


@dataclasses.dataclass
class RawResponse:
    """What came back on a raw connection: the first response, if any."""

    raw: bytes
    status: int | None
    headers: dict[str, str]
    body: bytes

    def describe(self) -> str:
        return repr(self.raw[:600])


def _parse(raw: bytes) -> RawResponse:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator or not head.startswith(b"HTTP/1."):
        return RawResponse(raw, None, {}, b"")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    assert len(parts) >= 2 and parts[1].isdigit(), f"bad status line {status_line!r}"
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(raw, int(parts[1]), headers, body)


def _complete(raw: bytes) -> bool:
    """Whether ``raw`` holds a whole first response (so there is no need to wait for EOF)."""
    response = _parse(raw)
    if response.status is None:
        return False
    if "content-length" in response.headers:
        return len(response.body) >= int(response.headers["content-length"])
    if "chunked" in response.headers.get("transfer-encoding", ""):
        return response.body.endswith(b"0\r\n\r\n")
    return False


def exchange(server: RunningServer, data: bytes, *, shut_write: bool = False) -> RawResponse:
    """Send ``data`` on a new connection (then close the write side if ``shut_write``) and read
    the first response, until it is complete, the server closes, or time runs out."""
    deadline = time.monotonic() + EXCHANGE_TIMEOUT
    received = bytearray()
    with socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.settimeout(SOCKET_TIMEOUT)
        try:
            sock.sendall(data)
            if shut_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before reading everything
        for _ in range(10_000):
            if time.monotonic() > deadline or len(received) > MAX_READ:
                break
            try:
                piece = sock.recv(65536)
            except (TimeoutError, ConnectionError):
                break
            if not piece:
                break
            received += piece
            if _complete(bytes(received)):
                break
    return _parse(bytes(received))


def request_bytes(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_request(path: str, body: bytes, content_type: str = "application/json") -> bytes:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    return request_bytes("POST", path, headers, body)


def assert_rejected(response: RawResponse, server: RunningServer, *accepted: int) -> None:
    """A 4xx in ``accepted`` (any 4xx if none given), or no response at all (closed)."""
    if response.status is None:
        return
    assert response.status < 500, f"{server.name}: {response.describe()}\n{server.log()}"
    if accepted:
        assert response.status in accepted, response.describe()
    else:
        assert 400 <= response.status < 500, response.describe()


_log_offsets: dict[str, int] = {}


def skip_logged_errors(server: RunningServer) -> None:
    """Let :func:`assert_no_app_error_logged` ignore what is logged so far (errors that a test
    provoked on purpose)."""
    _log_offsets[server.name] = len(server.log_path.read_text(errors="replace"))


def assert_no_app_error_logged(server: RunningServer) -> None:
    """No unhandled exception was logged by the app since the last check (erlen logs them as
    "Exception on <path> [<method>]", also after a response has started)."""
    log = server.log_path.read_text(errors="replace")
    new = log[_log_offsets.get(server.name, 0) :]
    _log_offsets[server.name] = len(log)
    assert "Exception on " not in new, new[-4000:]


def assert_still_serving(server: RunningServer) -> None:
    """The next good requests, on new connections, get correct answers, and the app logged no
    unhandled exception."""
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        hello = client.get("/")
        assert hello.status_code == 200, server.log()
        assert hello.text == "Hello, servers!"
        echoed = client.post("/echo-json", json={"still": "serving"})
        assert echoed.status_code == 200, server.log()
        assert echoed.json() == {"view": "sync", "json": {"still": "serving"}}
        echoed = client.post("/async-echo-json", json=[1, 2])
        assert echoed.status_code == 200, server.log()
        assert echoed.json() == {"view": "async", "json": [1, 2]}
    assert_no_app_error_logged(server)


JSON_PATHS = pytest.mark.parametrize("path", ["/echo-json", "/async-echo-json"])


def test_raw_good_request(server: RunningServer) -> None:
    """The raw-socket helper itself, on a good request."""
    response = exchange(server, json_request("/echo-json", b'{"a": [1, 2]}'))
    assert response.status == 200, response.describe()
    assert json.loads(response.body) == {"view": "sync", "json": {"a": [1, 2]}}


@JSON_PATHS
@pytest.mark.parametrize("body", [b'{"a": ', b"not json", b"\xff\xfe\x00garbage", b""])
def test_invalid_json(server: RunningServer, path: str, body: bytes) -> None:
    response = exchange(server, json_request(path, body))
    assert response.status == 400, response.describe()
    assert_still_serving(server)


@JSON_PATHS
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_with_the_wrong_content_type(
    server: RunningServer, path: str, content_type: str
) -> None:
    response = exchange(server, json_request(path, b'{"a": 1}', content_type))
    assert response.status == 415, response.describe()
    assert_still_serving(server)


@JSON_PATHS
def test_content_length_larger_than_the_body(server: RunningServer, path: str) -> None:
    body = b'{"a": 1}'
    headers = [("Content-Type", "application/json"), ("Content-Length", "100")]
    response = exchange(server, request_bytes("POST", path, headers, body), shut_write=True)
    assert_rejected(response, server)
    assert_still_serving(server)


@JSON_PATHS
def test_content_length_smaller_than_the_body(server: RunningServer, path: str) -> None:
    headers = [("Content-Type", "application/json"), ("Content-Length", "5")]
    response = exchange(server, request_bytes("POST", path, headers, b'{"a": 1}'))
    # The app sees '{"a":' (invalid JSON); the rest is garbage after the request.
    assert response.status == 400, response.describe()
    assert_still_serving(server)


@pytest.mark.parametrize("value", ["abc", "-1", "1, 2", "99999999999999999999999"])
def test_malformed_content_length(server: RunningServer, value: str) -> None:
    headers = [("Content-Type", "application/json"), ("Content-Length", value)]
    data = request_bytes("POST", "/echo-json", headers, b'{"a": 1}')
    response = exchange(server, data, shut_write=True)
    assert_rejected(response, server)
    assert_still_serving(server)


@pytest.mark.parametrize(
    "target",
    ["/%zz", "/users/%zz", "/%", "/users/%", "/%ff%fe", "/users/%C0%AF", "/%2", "/users/1%"],
)
def test_broken_percent_encoding_in_the_path(server: RunningServer, target: str) -> None:
    response = exchange(server, request_bytes("GET", target))
    assert_rejected(response, server, 400, 404)
    assert_still_serving(server)


@pytest.mark.parametrize("query", ["a=%zz", "a=%", "a=%ff&b=%2", "%=%&&=x", "a=%C0%AF%"])
def test_broken_percent_encoding_in_the_query(server: RunningServer, query: str) -> None:
    response = exchange(server, request_bytes("GET", f"/args?{query}"))
    if response.status is not None and response.status < 300:
        assert response.status == 200, response.describe()
        assert json.loads(response.body)["path"] == "/args"
    else:
        assert_rejected(response, server, 400)
    assert_still_serving(server)


def test_huge_header(server: RunningServer) -> None:
    data = request_bytes("GET", "/", [("X-Huge", "x" * 100_000)])
    response = exchange(server, data)
    # Refused by the server, or by erlen (MAX_HEADER_SIZE) when the server lets it through.
    assert_rejected(response, server)
    assert_still_serving(server)


def test_many_headers(server: RunningServer) -> None:
    headers = [(f"X-Header-{index}", "v" * 50) for index in range(500)]
    response = exchange(server, request_bytes("GET", "/", headers))
    assert_rejected(response, server)  # by the server, or by erlen (MAX_HEADER_COUNT)
    assert_still_serving(server)


#: (server, case) pairs where the server itself accepts the malformed head and serves it.
LENIENT_SERVERS = {
    ("hypercorn", "version"),  # h11 parses any HTTP/d.d version and answers in 1.1
    ("werkzeug", "space-in-header-name"),  # http.server's header parser is lenient
    ("werkzeug", "no-colon"),
}
MALFORMED_HEADS = {
    "garbage": b"GARBAGE\r\n\r\n",
    "version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "nul-in-target": b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "space-in-header-name": b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n",
    "no-colon": b"GET / HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n",
}


@pytest.mark.parametrize("case", list(MALFORMED_HEADS))
def test_malformed_request_head(server: RunningServer, case: str) -> None:
    response = exchange(server, MALFORMED_HEADS[case], shut_write=True)
    if (server.name, case) in LENIENT_SERVERS and response.status == 200:
        assert response.body == b"Hello, servers!"
    elif case == "version" and response.status == 505:
        pass  # HTTP Version Not Supported: the server's correct refusal
    else:
        assert_rejected(response, server)
    assert_still_serving(server)


@JSON_PATHS
def test_body_over_the_limit(server: RunningServer, path: str) -> None:
    body = b'"' + b"x" * MAX_CONTENT_LENGTH + b'"'
    response = exchange(server, json_request(path, body))
    assert response.status == 413, response.describe()
    assert_still_serving(server)


@JSON_PATHS
def test_announced_length_over_the_limit(server: RunningServer, path: str) -> None:
    """Only the headers are sent: the app refuses on the announced length, without reading."""
    headers = [("Content-Type", "application/json"), ("Content-Length", str(10 * 1024 * 1024))]
    response = exchange(server, request_bytes("POST", path, headers))
    assert response.status == 413, response.describe()
    assert_still_serving(server)


@JSON_PATHS
def test_chunked_body_over_the_limit(server: RunningServer, path: str) -> None:
    piece = b"x" * 65536
    chunked = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") * 20 + b"0\r\n\r\n"
    headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    response = exchange(server, request_bytes("POST", path, headers, chunked))
    assert_rejected(response, server, 413)
    assert_still_serving(server)


@JSON_PATHS
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_exactly_at_the_limit(server: RunningServer, path: str, chunked: bool) -> None:
    body = b'"' + b"y" * (MAX_CONTENT_LENGTH - 2) + b'"'
    assert len(body) == MAX_CONTENT_LENGTH
    if chunked:
        headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
        data = request_bytes("POST", path, headers, f"{len(body):x}\r\n".encode() + body)
        data += b"\r\n0\r\n\r\n"
    else:
        data = json_request(path, body)
    response = exchange(server, data)
    assert response.status == 200, response.describe()
    assert json.loads(response.body)["json"] == body[1:-1].decode()


@JSON_PATHS
def test_chunked_body_within_the_limit(server: RunningServer, path: str) -> None:
    body = json.dumps({"chunked": list(range(100))}).encode()
    chunked = b"".join(
        f"{len(body[i : i + 50]):x}\r\n".encode() + body[i : i + 50] + b"\r\n"
        for i in range(0, len(body), 50)
    )
    headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    response = exchange(server, request_bytes("POST", path, headers, chunked + b"0\r\n\r\n"))
    assert response.status == 200, response.describe()
    assert json.loads(response.body)["json"] == {"chunked": list(range(100))}


@pytest.mark.parametrize("size_line", [b"zz", b"-5", b"fffffffffffffffffffff"])
def test_malformed_chunked_body(server: RunningServer, size_line: bytes) -> None:
    headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    body = b"4\r\n[1, \r\n" + size_line + b"\r\n2]\r\n0\r\n\r\n"
    response = exchange(server, request_bytes("POST", "/echo-json", headers, body))
    assert_rejected(response, server)
    assert_still_serving(server)


def test_upload_over_the_limit(server: RunningServer) -> None:
    boundary = "over-the-limit"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"\0" * (MAX_CONTENT_LENGTH + 1)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = [
        ("Content-Type", f"multipart/form-data; boundary={boundary}"),
        ("Content-Length", str(len(body))),
    ]
    response = exchange(server, request_bytes("POST", "/upload", headers, body))
    assert response.status == 413, response.describe()
    assert_still_serving(server)


_PART = (
    b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\nhello\r\n"
)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--b\r\n" + _PART + b"--b--\r\n"),
        ("multipart/form-data; boundary=", b"--b\r\n" + _PART + b"--b--\r\n"),
        ("multipart/form-data; boundary=b", b"--b\r\n" + _PART[:40]),
        ("multipart/form-data; boundary=b", b"--b\r\n" + _PART),
        ("multipart/form-data; boundary=b", b"--other\r\n" + _PART + b"--other--\r\n"),
        ("multipart/form-data; boundary=b", b"--b\r\nno headers at all\r\n--b--\r\n"),
        ("multipart/form-data; boundary=b", b"\x00\xff" * 100),
        ("multipart/form-data; boundary=" + "b" * 2000, b"--b\r\n" + _PART + b"--b--\r\n"),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "truncated-headers",
        "no-closing-boundary",
        "other-boundary",
        "part-without-headers",
        "binary-garbage",
        "long-boundary",
    ],
)
def test_malformed_multipart(server: RunningServer, content_type: str, body: bytes) -> None:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    response = exchange(server, request_bytes("POST", "/upload", headers, body))
    assert_rejected(response, server, 400, 413)
    assert_still_serving(server)
