"""Request headers: lookups agree with werkzeug's, present or absent, on both protocols."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import EnvironHeaders, Headers

from erlen import Erlen, request
from erlen.headers import RequestHeaders, WSGIRequestHeaders
from erlen.testing import ErlenClient

PAIRS = [("Host", "example.com"), ("Content-Type", "text/plain"), ("X-Count", "3")]
ENVIRON = {
    "HTTP_HOST": "example.com",
    "CONTENT_TYPE": "text/plain",
    "CONTENT_LENGTH": "",
    "HTTP_X_COUNT": "3",
    "REQUEST_METHOD": "GET",
}
NAMES = ["Host", "host", "CONTENT-TYPE", "Content-Length", "X-Count", "x_count", "Origin", ""]


@pytest.mark.parametrize("name", NAMES)
def test_list_headers_agree_with_werkzeug(name: str) -> None:
    ours, theirs = RequestHeaders(PAIRS), Headers(PAIRS)
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "none") == theirs.get(name, "none")
    assert (name in ours) == (name in theirs)


@pytest.mark.parametrize("name", NAMES)
def test_environ_headers_agree_with_werkzeug(name: str) -> None:
    ours, theirs = WSGIRequestHeaders(ENVIRON), EnvironHeaders(ENVIRON)
    assert ours.getlist(name) == theirs.getlist(name)
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "none") == theirs.get(name, "none")
    assert (name in ours) == (name in theirs)


def test_type_conversion_and_other_keys_stay_werkzeug() -> None:
    for headers in (RequestHeaders(PAIRS), WSGIRequestHeaders(ENVIRON)):
        assert headers.get("X-Count", type=int) == 3
        assert headers.get("Host", type=int) is None  # not a number: the default
        assert headers.get("Missing", 7, type=int) == 7
        assert headers.getlist("X-Count", type=int) == [3]


def test_request_headers_in_views(app: Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def index() -> str:
        headers = request.headers
        return f"{headers.get('x-token')}|{headers.get('Origin', '-')}|{'X-Token' in headers}"

    assert client.get("/", headers={"X-Token": "abc"}).text == "abc|-|True"
    assert client.get("/").text == "None|-|False"
