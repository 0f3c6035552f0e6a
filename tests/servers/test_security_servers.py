"""1,000 mixed requests under gunicorn (WSGI) and uvicorn (ASGI), over raw sockets.

Half are good, with known answers; half are bad: oversized bodies, bad JSON, cross-site POSTs,
traversal paths, garbage headers. No answer may be a 5xx, and every good request must get its
right answer, in between the bad ones.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import time
from collections.abc import Callable

import pytest

from .app_under_test import MAX_CONTENT_LENGTH
from .conftest import RunningServer
from .test_bad_input import skip_logged_errors

TOTAL = 1000
#: Longest wait for one socket operation, for one exchange, and for the whole run.
SOCKET_TIMEOUT = 5.0
EXCHANGE_TIMEOUT = 10.0
RUN_TIMEOUT = 120.0
MAX_READ = 256 * 1024
#: Bad requests that upload more than a megabyte are sent this often (every Nth bad request).
BIG_UPLOAD_EVERY = 50


@dataclasses.dataclass
class Answer:
    status: int | None  # None: the server closed without an answer
    headers: dict[str, str]
    body: bytes


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    for _ in range(100_000):
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def _parse(raw: bytes) -> Answer:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator or not head.startswith(b"HTTP/1."):
        return Answer(None, {}, b"")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", ""):
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return Answer(int(status_line.split(" ")[1]), headers, body)


def exchange(server: RunningServer, data: bytes) -> Answer:
    """Send one request (with ``Connection: close``) and read until the server closes."""
    deadline = time.monotonic() + EXCHANGE_TIMEOUT
    received = bytearray()
    with socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT) as sock:
        # The server may answer (413, 400) and close before reading everything.
        with contextlib.suppress(OSError):
            sock.sendall(data)
        for _ in range(100_000):
            if time.monotonic() > deadline or len(received) > MAX_READ:
                break
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    return _parse(bytes(received))


def request(
    method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body and not any(name.lower() == "transfer-encoding" for name, _ in headers or []):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def raw(head: str, body: bytes = b"") -> bytes:
    return head.encode("latin-1") + body


# --- good requests: (bytes to send, expected status, expected body) ----------------------------

Good = tuple[bytes, int, bytes]


def good_request(index: int) -> Good:
    kind = index % 6
    if kind == 0:
        return request("GET", "/"), 200, b"Hello, servers!"
    if kind == 1:
        return request("GET", f"/users/{index}"), 200, _json({"id": index, "name": f"user-{index}"})
    if kind == 2:
        body = {"args": {"n": [str(index)], "s": ["a b"]}, "path": "/args"}
        return request("GET", f"/args?n={index}&s=a+b"), 200, _json(body)
    if kind == 3:
        payload = json.dumps({"n": index, "s": "é"}).encode()
        sent = request("POST", "/echo-json", [("Content-Type", "application/json")], payload)
        return sent, 200, _json({"view": "sync", "json": {"n": index, "s": "é"}})
    if kind == 4:
        form_body = f"a={index}&b=x%26y".encode()
        headers = [("Content-Type", "application/x-www-form-urlencoded")]
        sent = request("POST", "/form", headers, form_body)
        return sent, 200, _json({"form": {"a": [str(index)], "b": ["x&y"]}})
    return request("GET", "/public/hello.txt"), 200, b"hello from a public file\n"


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode() + b"\n"


# --- bad requests -------------------------------------------------------------------------------

TRAVERSALS = [
    "/public/../app_under_test.py",
    "/public/%2e%2e/app_under_test.py",
    "/public/..%2fapp_under_test.py",
    "/public/%2e%2e%2fconftest.py",
    "/public/..%5cconftest.py",
    "/public/%5c..%5cconftest.py",
    "/public//etc/passwd",
    "/public/%2fetc%2fpasswd",
    "/public/hello.txt%00.py",
    "/public/C:%5cwindows%5cwin.ini",
    "/public/....//....//conftest.py",
    "/public/%252e%252e/conftest.py",
    "/../../../../etc/passwd",
    "/public/.%2e/.%2e/conftest.py",
]
GARBAGE_HEADERS = [
    ("X-Junk", "\xff\xfe\x80"),
    ("Content-Length", "abc"),
    ("Content-Length", "-5"),
    ("Content-Length", "99999999999999999999999"),
    ("Transfer-Encoding", "gzip, identity"),
    ("Content-Type", "multipart/form-data; boundary="),
    ("Range", "bytes=" + ",".join(f"{i}-{i}" for i in range(100))),
    ("Cookie", "session=" + "A" * 3000),
    ("Cookie", "session=eyJhIjoxfQ.bad.signature; session=; =; ;;"),
    ("X-Long", "x" * 9000),
    ("Bad Header Name", "v"),
    ("Host", "[::1"),
    ("If-Modified-Since", "Tue, 99 Foo 2024 99:99:99 GMT"),
    ("Authorization", "Basic ====="),
    ("Sec-Fetch-Site", "\x01"),
]


def bad_requests() -> list[Callable[[int], bytes]]:
    """Kinds of bad request; each builds a distinct request from the index."""
    json_headers = [("Content-Type", "application/json")]

    def oversized_announced(i: int) -> bytes:
        length = MAX_CONTENT_LENGTH + 1 + i
        head = (
            f"POST /echo-json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        )
        return raw(head, b"[" * 1024)  # the rest never comes: the limit is judged on the header

    def oversized_chunked(i: int) -> bytes:
        if i % BIG_UPLOAD_EVERY:  # announced only; a real >1 MiB upload every so often
            return oversized_announced(i)
        piece = b"x" * 65536
        chunks = b"".join(b"10000\r\n" + piece + b"\r\n" for _ in range(17))
        head = (
            "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
        )
        return raw(head, chunks + b"0\r\n\r\n")

    def bad_json(i: int) -> bytes:
        bodies = [
            b"{",
            b'{"a": }',
            b"\xff\xfe{}",
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a":' * 70 + b"1" + b"}" * 70,
            b"NaN-ish",
            b'"\\ud800',
            f'{{"n": {i}'.encode(),
        ]
        return request("POST", "/echo-json", json_headers, bodies[i % len(bodies)])

    def wrong_content_type(i: int) -> bytes:
        headers = [("Content-Type", f"text/plain; v={i}")]
        return request("POST", "/async-echo-json", headers, b'{"a": 1}')

    def cross_site(i: int) -> bytes:
        variants = [
            [("Sec-Fetch-Site", "cross-site")],
            [("Sec-Fetch-Site", "same-site")],
            [("Origin", f"https://evil{i}.example")],
            [("Origin", "null")],
            [("Origin", "http://[")],
        ]
        headers = [*json_headers, *variants[i % len(variants)]]
        return request("POST", "/echo-json", headers, b'{"steal": true}')

    def traversal(i: int) -> bytes:
        return request("GET", TRAVERSALS[i % len(TRAVERSALS)] + f"?v={i}")

    def garbage_header(i: int) -> bytes:
        name, value = GARBAGE_HEADERS[i % len(GARBAGE_HEADERS)]
        return request("POST", f"/form?g={i}", [(name, value)], b"a=1")

    def too_many_headers(i: int) -> bytes:
        return request("GET", "/", [(f"X-H-{n}", str(i)) for n in range(120)])

    def bad_query(i: int) -> bytes:
        queries = ["&".join(f"p{n}=1" for n in range(1001)), "a=%ff%fe", "a=\xff\xfe"]
        return request("GET", "/args?" + queries[i % len(queries)] + f"&i={i}")

    def bad_multipart(i: int) -> bytes:
        body = b'--B\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nab'
        headers = [("Content-Type", "multipart/form-data; boundary=B")]
        return request("POST", "/upload", headers, body[: 20 + i % 40])

    def bad_path(i: int) -> bytes:
        paths = ["/users/not-a-number", f"/users/{10**30 + i}", "/%", "/%zz", "/users/-1"]
        return request("GET", paths[i % len(paths)])

    def bad_method(i: int) -> bytes:
        return request(["PROPFIND", "TRACE", "DELETE", "PATCH"][i % 4], "/echo-json")

    return [
        oversized_announced,
        oversized_chunked,
        bad_json,
        wrong_content_type,
        cross_site,
        traversal,
        garbage_header,
        too_many_headers,
        bad_query,
        bad_multipart,
        bad_path,
        bad_method,
    ]


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"], indirect=True)
def test_mixed_good_and_bad_requests(server: RunningServer) -> None:
    kinds = bad_requests()
    started = time.monotonic()
    failures: list[str] = []
    bad_inputs: set[bytes] = set()
    statuses: dict[int | None, int] = {}
    for index in range(TOTAL):
        assert time.monotonic() - started < RUN_TIMEOUT, f"{server.name}: too slow at {index}"
        if index % 2 == 0:
            data, status, body = good_request(index // 2)
            answer = exchange(server, data)
            if (answer.status, answer.body) != (status, body):
                failures.append(f"good #{index}: {data[:120]!r} -> {answer}")
            continue
        kind = kinds[(index // 2) % len(kinds)]
        data = kind(index // 2)
        bad_inputs.add(data)
        answer = exchange(server, data)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        if answer.status is not None and answer.status >= 500:
            failures.append(f"bad #{index} ({kind.__name__}): {data[:200]!r} -> {answer}")
        if answer.status == 200 and kind.__name__ in ("cross_site", "traversal", "bad_json"):
            failures.append(f"bad #{index} accepted ({kind.__name__}): {data[:200]!r}")
    assert not failures, f"{server.name}:\n" + "\n".join(failures[:20]) + "\n" + server.log()
    # Most bad requests get an answer (a 4xx), not only a closed connection.
    assert sum(count for status, count in statuses.items() if status) > TOTAL // 4, statuses
    assert len(bad_inputs) >= 300, len(bad_inputs)
    print(f"\n{server.name}: {len(bad_inputs)} distinct bad requests, statuses {statuses}")


def test_a_forged_host_never_reaches_a_reset_link(server: RunningServer) -> None:
    """Production mode without TRUSTED_HOSTS or SERVER_NAME: a link built from a forged Host is
    refused (a 500 that says nothing of it), and the router's slash redirect is relative."""
    forged = raw("GET /forgot HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    answer = exchange(server, forged)
    assert answer.status == 500, (server.name, answer)
    assert b"evil.example" not in answer.body
    assert "evil.example" not in json.dumps(answer.headers)
    assert "UntrustedHostError" in server.log()  # the log says what to set
    skip_logged_errors(server)
    relative = raw("GET /reset/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    assert exchange(server, relative).status == 200
