"""Request headers (``erlen._speedups.headers``): lookups agree with werkzeug's ``Headers`` and
``EnvironHeaders``, present or absent, and the header-list functions with the public API."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders, Headers

from erlen import Erlen, request
from erlen._speedups.headers import (
    RequestHeaders,
    WSGIRequestHeaders,
    add_trusted_pairs,
    header_pairs,
    replace_pairs,
    trusted_headers,
)
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


NAME_PARTS = st.sampled_from(["X", "x", "Host", "HOST", "Content", "Type", "Length", "A_B", ""])
header_names = st.lists(NAME_PARTS, min_size=1, max_size=2).map("-".join)
# Names whose lower case is longer ("\u0130") or ASCII ("\u212a", the Kelvin sign), for the
# headers a list holds (an app may add any name to them).
list_header_names = st.lists(
    st.sampled_from(["X", "x", "Content", "Type", "", "\u0130", "i\u0307", "\u212a", "k"]),
    min_size=1,
    max_size=2,
).map("-".join)
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=6)


@settings(max_examples=300, derandomize=True)
@given(
    pairs=st.lists(st.tuples(header_names | list_header_names, header_values), max_size=6),
    keys=st.lists(header_names | list_header_names, min_size=1, max_size=4),
)
def test_any_list_headers_answer_as_werkzeugs(
    pairs: list[tuple[str, str]], keys: list[str]
) -> None:
    ours, theirs = RequestHeaders(pairs), Headers(pairs)
    for key in keys:
        assert ours.get(key) == theirs.get(key)
        assert (key in ours) == (key in theirs)
        assert ours.getlist(key) == theirs.getlist(key)
    assert list(ours) == list(theirs)
    pairs.append(("X-Later", "1"))  # a copy of the pairs, as werkzeug's
    assert list(ours) == list(theirs)


@settings(max_examples=300, derandomize=True)
@given(
    pairs=st.dictionaries(header_names, header_values, max_size=6),
    keys=st.lists(header_names, min_size=1, max_size=4),
)
def test_any_environ_headers_answer_as_werkzeugs(pairs: dict[str, str], keys: list[str]) -> None:
    environ = {}
    for name, value in pairs.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    ours, theirs = WSGIRequestHeaders(environ), EnvironHeaders(environ)
    for key in keys:
        assert ours.get(key) == theirs.get(key)
        assert (key in ours) == (key in theirs)
        assert ours.getlist(key) == theirs.getlist(key)
    assert sorted(ours) == sorted(theirs)


@settings(max_examples=200, derandomize=True)
@given(
    first=st.lists(st.tuples(header_names.filter(bool), header_values), max_size=4),
    added=st.lists(st.tuples(header_names.filter(bool), header_values), max_size=4),
)
def test_header_list_functions_do_what_the_public_api_does(
    first: list[tuple[str, str]], added: list[tuple[str, str]]
) -> None:
    ours, theirs = trusted_headers(list(first)), Headers(first)
    assert ours == theirs and header_pairs(ours) == list(theirs)
    add_trusted_pairs(ours, added)
    theirs.extend(added)
    assert header_pairs(ours) == list(theirs)
    replace_pairs(ours, list(added))
    theirs.clear()
    theirs.extend(added)
    assert header_pairs(ours) == list(theirs)


def test_request_headers_keep_a_value_werkzeug_refuses() -> None:
    """The documented difference: a line break in a request header's value (which an HTTP
    server's parser cannot let through) is not checked for; werkzeug refuses it."""
    with pytest.raises(ValueError):
        Headers([("X-A", "1\n2")])
    assert RequestHeaders([("X-A", "1\n2")]).get("x-a") == "1\n2"
