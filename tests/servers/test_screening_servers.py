"""erlen's own header limits and framing checks on every server, over raw sockets.

Servers let through what erlen then refuses: a header section over ``MAX_HEADER_SIZE``
(uvicorn, granian), a request with both ``Content-Length`` and ``Transfer-Encoding`` (h11 under
uvicorn and hypercorn), which smuggles a second request in its body. The smuggled request must
never be answered.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time

import pytest

from .app_under_test import MAX_HEADER_COUNT
from .conftest import RunningServer
from .test_bad_input import assert_still_serving, exchange, request_bytes

SOCKET_TIMEOUT = 3.0
EXCHANGE_TIMEOUT = 8.0
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def _fields(count: int, size: int = 10) -> list[tuple[str, str]]:
    return [(f"X-Field-{index:03d}", "v" * size) for index in range(count)]


def test_a_header_section_over_the_size_limit_gets_431(server: RunningServer) -> None:
    # Six fields of 7,000 bytes: under every server's limit per field, over erlen's in total.
    fields = [(f"X-Big-{index}", "x" * 7_000) for index in range(6)]
    response = exchange(server, request_bytes("GET", "/", fields))
    assert response.status is not None, f"{server.name}: no answer\n{server.log()}"
    if response.status != 431:  # the server refused it first
        assert 400 <= response.status < 500, response.describe()
    else:
        assert b"over 32768 bytes" in response.body
        assert response.headers["x-content-type-options"] == "nosniff"
    assert_still_serving(server)


def test_a_header_section_under_the_size_limit_is_served(server: RunningServer) -> None:
    fields = [(f"X-Big-{index}", "x" * 7_000) for index in range(4)]
    response = exchange(server, request_bytes("GET", "/", fields))
    assert response.status == 200, response.describe()


def test_exactly_the_header_count_passes_and_one_more_is_refused(server: RunningServer) -> None:
    # request_bytes sends Host and Connection.
    response = exchange(server, request_bytes("GET", "/", _fields(MAX_HEADER_COUNT - 2)))
    assert response.status == 200, f"{server.name}: {response.describe()}"
    refused = exchange(server, request_bytes("GET", "/", _fields(MAX_HEADER_COUNT - 1)))
    assert refused.status == 431, refused.describe()
    assert f"More than {MAX_HEADER_COUNT} header fields".encode() in refused.body
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert_still_serving(server)


def _responses(server: RunningServer, data: bytes) -> list[int]:
    """Send ``data`` on one kept-alive connection and read until the server closes it or is
    silent; the statuses of the responses that came back, in order."""
    received = bytearray()
    deadline = time.monotonic() + EXCHANGE_TIMEOUT
    with socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.settimeout(SOCKET_TIMEOUT)
        with contextlib.suppress(OSError):  # the server may answer and close first
            sock.sendall(data)
        for _ in range(1_000):
            if time.monotonic() > deadline:
                break
            try:
                piece = sock.recv(65536)
            except (TimeoutError, ConnectionError):
                break
            if not piece:
                break
            received += piece
    return [int(status) for status in _STATUS_LINE.findall(bytes(received))]


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
_CHUNKED_BODY = b"0\r\n\r\n"
#: Heads that frame the body two ways, each followed by a body that is empty when read as
#: chunks and holds the smuggled request when read by its Content-Length.
AMBIGUOUS_HEADS = {
    "cl-and-te": b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n",
    "te-and-cl": b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n",
    "te-obs-fold": b"Content-Length: %d\r\nTransfer-Encoding:\r\n chunked\r\n",
    "bare-lf": b"Content-Length: %d\nTransfer-Encoding: chunked\r\n",
    "two-lengths": b"Content-Length: %d\r\nContent-Length: 5\r\n",
    "length-list": b"Content-Length: %d, 5\r\n",
}


@pytest.mark.parametrize("case", list(AMBIGUOUS_HEADS))
def test_a_request_smuggled_in_an_ambiguous_body_is_never_answered(
    server: RunningServer, case: str
) -> None:
    body = _CHUNKED_BODY + SMUGGLED
    head = AMBIGUOUS_HEADS[case] % len(body)
    data = b"POST /echo-json HTTP/1.1\r\nHost: 127.0.0.1\r\n" + head + b"\r\n" + body
    statuses = _responses(server, data)
    # One refusal (from the server or from erlen), then the connection closes: never a second
    # response, which would be the smuggled request's.
    assert len(statuses) <= 1, f"{server.name} answered {statuses}\n{server.log()}"
    assert all(400 <= status < 500 for status in statuses), statuses
    assert "/smuggled" not in server.log()
    assert_still_serving(server)


def test_a_chunked_request_is_still_served(server: RunningServer) -> None:
    body = b'{"chunked": true}'
    data = (
        b"POST /echo-json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n0\r\n\r\n"
        % (len(body), body)
    )
    response = exchange(server, data)
    assert response.status == 200, f"{server.name}: {response.describe()}\n{server.log()}"
    assert b'"chunked"' in response.body
