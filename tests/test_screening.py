"""Requests erlen refuses before the app sees them (erlen.protocols.screening): header fields
past MAX_HEADER_COUNT and MAX_HEADER_SIZE, and ambiguous framing; and the security headers on
every response erlen makes outside a view."""

from __future__ import annotations

import asyncio
import typing as t

import pytest
from support.asgi_scopes import http_scope
from werkzeug.test import EnvironBuilder

from erlen import Erlen, abort, request
from erlen.testing import ErlenClient

if t.TYPE_CHECKING:
    from erlen.typing import Message

HEADER_LIMIT = 20
SIZE_LIMIT = 2_000


@pytest.fixture
def screened(app: Erlen) -> Erlen:
    app.config.update(MAX_HEADER_COUNT=HEADER_LIMIT, MAX_HEADER_SIZE=SIZE_LIMIT)

    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return f"{len(list(request.headers))} fields"

    return app


def _own_fields(client: ErlenClient) -> int:
    """How many header fields the test client sends by itself (Host, User-Agent...)."""
    response = client.get("/")
    assert response.status_code == 200
    return int(response.text.split()[0])


def test_exactly_the_header_count_passes_and_one_more_is_refused(
    screened: Erlen, client: ErlenClient
) -> None:
    extra = HEADER_LIMIT - _own_fields(client)
    at_limit = {f"X-Field-{index}": "v" for index in range(extra)}
    response = client.get("/", headers=at_limit)
    assert response.text == f"{HEADER_LIMIT} fields"
    refused = client.get("/", headers={**at_limit, "X-One-More": "v"})
    assert refused.status_code == 431
    assert b"More than 20 header fields" in refused.data


def test_content_type_and_length_count_as_fields(screened: Erlen, client: ErlenClient) -> None:
    extra = HEADER_LIMIT - _own_fields(client)
    at_limit = {f"X-Field-{index}": "v" for index in range(extra - 2)}
    ok = client.post("/", headers=at_limit, data=b"x", content_type="text/plain")
    assert ok.text == f"{HEADER_LIMIT} fields"
    refused = client.post("/", headers={**at_limit, "X-A": "1"}, data=b"x", content_type="x/y")
    assert refused.status_code == 431


def test_empty_content_type_and_length_in_a_wsgi_environ_are_no_fields(screened: Erlen) -> None:
    # (A WSGI server may set both keys empty for a request without them.)
    statuses: list[str] = []

    def status_of(extra: int) -> str:
        environ = EnvironBuilder("/").get_environ()
        for key in [key for key in environ if key.startswith("HTTP_")]:
            del environ[key]
        environ.update({f"HTTP_X_FIELD_{index}": "v" for index in range(extra)})
        environ.update(CONTENT_TYPE="", CONTENT_LENGTH="")
        body = screened(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        return statuses[-1]

    assert status_of(HEADER_LIMIT).startswith("200")
    assert status_of(HEADER_LIMIT + 1).startswith("431")


def test_header_size_limit(screened: Erlen, client: ErlenClient) -> None:
    base = client.get("/", headers={"X-Big": ""})
    assert base.status_code == 200
    # Measure what the client sends besides X-Big: the same request with a value of n bytes is
    # then over the limit exactly when the total passes SIZE_LIMIT.
    probe = SIZE_LIMIT // 2
    assert client.get("/", headers={"X-Big": "x" * probe}).status_code == 200
    low, high = probe, SIZE_LIMIT
    for _ in range(20):  # bisect the largest value that passes
        if high - low <= 1:
            break
        middle = (low + high) // 2
        if client.get("/", headers={"X-Big": "x" * middle}).status_code == 200:
            low = middle
        else:
            high = middle
    assert high == low + 1
    refused = client.get("/", headers={"X-Big": "x" * high})
    assert refused.status_code == 431
    assert b"over 2000 bytes" in refused.data
    # The same bytes in the name count as much as in the value.
    assert client.get("/", headers={"X-Big" + "x" * high: ""}).status_code == 431


def test_header_size_default_refuses_a_64_kib_header(app: Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def index() -> str:
        return "ok"

    assert client.get("/", headers={"X-Big": "x" * 16_000}).status_code == 200
    assert client.get("/", headers={"X-Big": "x" * 65_536}).status_code == 431
    app.config["MAX_HEADER_SIZE"] = None
    assert client.get("/", headers={"X-Big": "x" * 65_536}).status_code == 200


def test_refusals_carry_the_security_headers(screened: Erlen, client: ErlenClient) -> None:
    screened.config.update(
        HSTS="max-age=60", CONTENT_SECURITY_POLICY="default-src 'self'; script-src 'nonce-{nonce}'"
    )
    too_many = {f"X-Field-{index}": "v" for index in range(HEADER_LIMIT)}
    for response in (
        client.get("/", headers=too_many, base_url="https://localhost"),
        client.get("/", headers={"X-Big": "x" * SIZE_LIMIT}, base_url="https://localhost"),
        client.post(
            "/", data=b"x", environ_overrides={"CONTENT_LENGTH": "1x"}, base_url="https://localhost"
        ),
    ):
        assert response.status_code in (400, 431)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert response.headers["Strict-Transport-Security"] == "max-age=60"
        assert "script-src 'nonce-" in response.headers["Content-Security-Policy"]
        assert "{nonce}" not in response.headers["Content-Security-Policy"]
    plain = client.get("/", headers=too_many)
    assert "Strict-Transport-Security" not in plain.headers  # HSTS on https only


@pytest.mark.parametrize("status", [400, 404, 405, 408, 413, 500])
def test_every_error_erlen_makes_carries_the_security_headers(
    app: Erlen, client: ErlenClient, status: int
) -> None:
    app.testing = False

    @app.get("/raise/<int:code>")
    def raise_code(code: int) -> str:
        if code == 500:
            raise RuntimeError("boom")
        abort(code)

    path = "/nowhere" if status == 404 else f"/raise/{status}"
    response = client.post(path) if status == 405 else client.get(path)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("value", ["1x", "-1", "1, 1", "1,2", "", "+1"])
def test_invalid_content_length_is_refused(
    screened: Erlen, client: ErlenClient, value: str
) -> None:
    response = client.post("/", data=b"x", environ_overrides={"CONTENT_LENGTH": value})
    if value == "":  # no Content-Length at all
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert response.headers["Connection"] == "close"
    assert b"ambiguous" in response.data


def test_content_length_with_transfer_encoding_is_refused(
    screened: Erlen, client: ErlenClient
) -> None:
    response = client.post(
        "/",
        data=b"5\r\nhello\r\n0\r\n\r\n",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"CONTENT_LENGTH": "19"},
    )
    assert response.status_code == 400
    assert response.headers["Connection"] == "close"


def test_a_chunked_request_without_a_length_is_served(screened: Erlen, client: ErlenClient) -> None:
    import io

    response = client.post(
        "/",
        input_stream=io.BytesIO(b"hello"),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200


# --- ASGI: each header line as the server passed it ---------------------------------------------


def _call(app: Erlen, *headers: tuple[bytes, bytes]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await asyncio.wait_for(app.asgi_app(http_scope("/", *headers), receive, send), 10)

    asyncio.run(main())
    return sent


def test_repeated_content_length_lines_are_refused(screened: Erlen) -> None:
    sent = _call(screened, (b"content-length", b"0"), (b"content-length", b"0"))
    assert sent[0]["status"] == 400
    assert (b"connection", b"close") in sent[0]["headers"]


def test_each_asgi_header_line_counts(screened: Erlen) -> None:
    lines = [(b"x-same", b"v")] * (HEADER_LIMIT - 1)  # and the Host line
    assert _call(screened, *lines)[0]["status"] == 200
    assert _call(screened, *lines, (b"x-same", b"v"))[0]["status"] == 431


@pytest.mark.parametrize(
    "framing",
    [
        [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")],
        [(b"transfer-encoding", b"chunked"), (b"content-length", b"5")],
        [(b"content-length", b"5"), (b"transfer-encoding", b"identity")],
        [(b"content-length", b"0x5")],
        [(b"content-length", b"5"), (b"content-length", b"6")],
    ],
)
def test_ambiguous_framing_under_asgi(screened: Erlen, framing: list[tuple[bytes, bytes]]) -> None:
    sent = _call(screened, *framing)
    assert sent[0]["status"] == 400
    assert (b"connection", b"close") in sent[0]["headers"]
    assert (b"x-content-type-options", b"nosniff") in sent[0]["headers"]
