"""Request headers (``erlen._speedups.headers``): lookups agree with werkzeug's ``Headers`` and
``EnvironHeaders``, present or absent, and the header-list functions with the public API."""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders, Headers

from erlen import Erlen, request
from erlen._speedups.headers import (
    RequestHeaders,
    ResponseHeaders,
    WSGIRequestHeaders,
    add_trusted_pairs,
    decoded_headers,
    header_pairs,
    replace_pairs,
    trusted_headers,
)
from erlen.testing import ErlenClient

PAIRS = [("Host", "example.com"), ("Content-Type", "text/plain"), ("X-Count", "3")]
RAW = [(b"host", b"example.com"), (b"content-type", b"text/plain"), (b"x-count", b"3")]


def _raw(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


ENVIRON = {
    "HTTP_HOST": "example.com",
    "CONTENT_TYPE": "text/plain",
    "CONTENT_LENGTH": "",
    "HTTP_X_COUNT": "3",
    "REQUEST_METHOD": "GET",
}
NAMES = ["Host", "host", "CONTENT-TYPE", "Content-Length", "X-Count", "x_count", "Origin", ""]


@pytest.mark.parametrize(
    "raw", [RAW, _raw(PAIRS), tuple(RAW)], ids=["lower-case names", "mixed case", "a tuple"]
)
@pytest.mark.parametrize("name", NAMES)
def test_scope_headers_agree_with_werkzeug(raw: t.Sequence[tuple[bytes, bytes]], name: str) -> None:
    ours, theirs = RequestHeaders(raw), decoded_headers(raw)
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "none") == theirs.get(name, "none")
    assert (name in ours) == (name in theirs)
    if name in theirs:
        assert ours[name] == theirs[name]
    else:
        with pytest.raises(KeyError):
            ours[name]


@pytest.mark.parametrize("name", NAMES)
def test_environ_headers_agree_with_werkzeug(name: str) -> None:
    ours, theirs = WSGIRequestHeaders(ENVIRON), EnvironHeaders(ENVIRON)
    assert ours.getlist(name) == theirs.getlist(name)
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "none") == theirs.get(name, "none")
    assert (name in ours) == (name in theirs)


def test_type_conversion_and_other_keys_stay_werkzeug() -> None:
    for headers in (RequestHeaders(RAW), WSGIRequestHeaders(ENVIRON)):
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
# Names whose lower case is longer ("\u0130") or ASCII ("\u212a", the Kelvin sign): asked for,
# or added to the headers by werkzeug's methods (an app may add any name).
odd_names = st.lists(
    st.sampled_from(["X", "x", "Content", "Type", "", "\u0130", "i\u0307", "\u212a", "k"]),
    min_size=1,
    max_size=2,
).map("-".join)
# What a server may send: latin-1 names (a letter over 127 lower-cases to one over 127).
sent_names = header_names | st.sampled_from(["\xc0-X", "\xe0-x", "\xb5"])
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=6)


def _same_lookups(ours: Headers, theirs: Headers, keys: list[str]) -> None:
    for key in keys:
        assert ours.get(key) == theirs.get(key)
        assert (key in ours) == (key in theirs)
        assert ours.getlist(key) == theirs.getlist(key)
    assert list(ours) == list(theirs)


@settings(max_examples=300, derandomize=True)
@given(
    pairs=st.lists(st.tuples(sent_names, header_values), max_size=6),
    keys=st.lists(sent_names | odd_names, min_size=1, max_size=4),
    added=st.lists(st.tuples(header_names | odd_names, header_values), max_size=2),
)
def test_any_scope_headers_answer_as_werkzeugs(
    pairs: list[tuple[str, str]], keys: list[str], added: list[tuple[str, str]]
) -> None:
    raw = _raw(pairs)
    ours, theirs = RequestHeaders(raw), decoded_headers(raw)
    undecoded = RequestHeaders(raw)  # only looked up by name: never decoded
    for key in keys:
        assert undecoded.get(key) == theirs.get(key)
        assert (key in undecoded) == (key in theirs)
        assert undecoded.getlist(key) == theirs.getlist(key)
    _same_lookups(ours, theirs, keys)
    if pairs:  # by position, a slice and a copy: werkzeug's own
        assert ours[0] == theirs[0] and ours[-1:] == theirs[-1:]
        assert ours.copy() == theirs.copy() and type(ours.copy()) is type(theirs.copy())
        assert repr(ours) == repr(theirs).replace("Headers", "RequestHeaders", 1)
    raw.append((b"x-later", b"1"))  # a copy of the pairs, as werkzeug's
    assert list(ours) == list(theirs)
    for name, value in added:  # werkzeug's own methods change the pairs, decoded
        ours.add(name, value)
        theirs.add(name, value)
    ours.set("X-Set", "2")
    theirs.set("X-Set", "2")
    _same_lookups(ours, theirs, [*keys, *(name for name, _value in added), "x-set"])


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


@pytest.mark.parametrize(
    "raw",
    [
        [(b"cookie", b"a=1"), (b"host", b"h"), (b"cookie", b"b=2")],  # HTTP/2: a line each
        [(b"Cookie", b"a=1"), (b"host", b"h"), (b"cookie", b"b=2")],  # a name not lower case
    ],
)
def test_every_line_of_a_repeated_header(raw: list[tuple[bytes, bytes]]) -> None:
    ours, theirs = RequestHeaders(raw), decoded_headers(raw)
    assert ours.getlist("Cookie") == theirs.getlist("Cookie") == ["a=1", "b=2"]
    assert ours.get("cookie") == "a=1"


def test_request_headers_keep_a_value_werkzeug_refuses() -> None:
    """The documented difference: a line break in a request header's value (which an HTTP
    server's parser cannot let through) is not checked for; werkzeug refuses it."""
    with pytest.raises(ValueError):
        decoded_headers([(b"x-a", b"1\n2")])
    assert RequestHeaders([(b"x-a", b"1\n2")]).get("X-A") == "1\n2"


set_values = st.one_of(
    header_values,
    st.sampled_from(["a\nb", "a\rb", "\n", "x\r\n"]),  # refused
    st.integers(),  # converted by werkzeug
)


@settings(max_examples=400, derandomize=True)
@given(
    pairs=st.lists(st.tuples(header_names | odd_names, header_values), max_size=6),
    changes=st.lists(st.tuples(header_names | odd_names, set_values), min_size=1, max_size=3),
    by_item=st.booleans(),
)
def test_setting_a_response_header_does_what_werkzeug_does(
    pairs: list[tuple[str, str]], changes: list[tuple[str, t.Any]], by_item: bool
) -> None:
    ours, theirs = ResponseHeaders(pairs), Headers(pairs)
    for name, value in changes:
        outcomes: list[str | None] = []
        for headers in (ours, theirs):
            try:
                if by_item:
                    headers[name] = value
                else:
                    headers.set(name, value)
                outcomes.append(None)
            except ValueError as error:
                outcomes.append(str(error))
        assert outcomes[0] == outcomes[1]
        assert list(ours) == list(theirs)


def test_setting_a_response_header_with_options_stays_werkzeugs() -> None:
    ours, theirs = ResponseHeaders(PAIRS), Headers(PAIRS)
    ours.set("Content-Disposition", "attachment", filename="a b.txt")
    theirs.set("Content-Disposition", "attachment", filename="a b.txt")
    assert list(ours) == list(theirs)


def test_response_headers_equal_werkzeugs_as_werkzeug_compares() -> None:
    ours = ResponseHeaders([("Content-Type", "text/plain"), ("X-A", "1")])
    same = Headers([("content-type", "text/plain"), ("x-a", "1")])
    other = Headers([("Content-Type", "text/plain")])
    assert ours == same and same == ours
    assert ours != other and other != ours
    assert ours == ResponseHeaders(same) and ours != "X-A: 1"
