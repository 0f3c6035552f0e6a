"""Property-based tests: whatever a client sends, a realistic app never answers with a 5xx, never
shows a traceback or a source path, and still answers good requests afterwards, on both paths.

The requests are built raw (see ``security_harness``). The profile is fixed (derandomized, a
bounded number of examples) so that runs are repeatable and short.
"""

from __future__ import annotations

import json
import string
import typing as t

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.security_harness import (
    GOOD_HEADERS,
    Headers,
    both,
    build_app,
    call_wsgi,
    check_good_request,
)
from support.security_harness import (
    assert_sane as _assert_sane,
)

from erlen import Erlen

PROFILE = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Every distinct bad input the properties tried, by test (reported at the end of the module).
TRIED: dict[str, set[str]] = {}


@pytest.fixture(scope="module")
def app() -> Erlen:
    return build_app()


def assert_sane(results: t.Any, what: object, test: str) -> None:
    TRIED.setdefault(test, set()).add(repr(what))
    _assert_sane(results, what)


# --- strategies ---------------------------------------------------------------------------------

ROUTES = [
    "/",
    "/users/",
    "/items/",
    "/files/",
    "/json",
    "/async-json",
    "/form",
    "/upload",
    "/session",
    "/page",
    "/next",
    "/where",
    "/hooks/",
    "/static/",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "get"]
URL_CHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/%?#[] \"<>\\^`{|}"
segment = st.one_of(
    st.sampled_from(["..", ".", "", "%2e%2e", "%2E.", "..%2f", "%2f", "%00", "%ff", "%", "%zz"]),
    st.text(alphabet=URL_CHARS, max_size=12),
    st.text(max_size=6),  # any unicode, sent raw as UTF-8
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
paths = st.builds(
    lambda route, parts: (route + "/".join(parts)).encode("utf-8", "surrogatepass"),
    st.sampled_from(ROUTES),
    st.lists(segment, max_size=6),
).filter(lambda raw: b"\xed" not in raw or raw.decode("utf-8", "replace") != "")

TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
# Field values a server passes on: visible ASCII, space, tab and obs-text (no CR, LF, NUL).
VALUE_CHARS = (
    "".join(chr(c) for c in range(0x20, 0x7F)) + "\t" + "".join(chr(c) for c in range(0x80, 0x100))
)
header_value = st.text(alphabet=VALUE_CHARS, max_size=60)
KNOWN_HEADERS = [
    "Host",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Cookie",
    "Origin",
    "Sec-Fetch-Site",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "Forwarded",
    "Range",
    "If-Range",
    "If-None-Match",
    "If-Modified-Since",
    "Accept",
    "Accept-Encoding",
    "Authorization",
    "X-CSRF-Token",
    "Upgrade",
    "Connection",
]
JUNK_VALUES = [
    "",
    " ",
    "-1",
    "99999999999999999999999",
    "bytes=0-0,-1,5-,100-50",
    "bytes=" + ",".join(f"{i}-{i}" for i in range(40)),
    "multipart/form-data; boundary=",
    'multipart/form-data; boundary="',
    "application/json; charset=utf-99",
    "null",
    "http://",
    "https://[::1",
    "for=;proto=;host=",
    'for="[2001:db8::1]:4711";proto=https',
    "chunked, gzip",
    "\xff\xfe",
    "a" * 2000,
    "session=..; session=",
    "Tue, 99 Foo 2024 99:99:99 GMT",
]
header = st.tuples(
    st.one_of(
        st.sampled_from(KNOWN_HEADERS), st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=20)
    ),
    st.one_of(header_value, st.sampled_from(JUNK_VALUES)),
)
headers = st.lists(header, max_size=12)
query_strings = st.one_of(
    st.binary(max_size=200),
    st.text(alphabet=URL_CHARS + "%&=", max_size=200).map(lambda s: s.encode()),
    st.integers(0, 1200).map(lambda n: "&".join(f"p{i}=v" for i in range(n)).encode()),
    st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=10).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")
    ),
)
COOKIE_CHARS = string.ascii_letters + string.digits + "!#$%&'()*+-./:<=>?@[]^_`{|}~\"\\,; "
session_values = st.one_of(
    st.text(alphabet=COOKIE_CHARS, max_size=120),
    st.binary(max_size=80).map(lambda b: b.hex()),
    st.sampled_from(
        [
            "eyJjb3VudCI6MX0.ZZZZZZ.invalid-signature",
            ".eJyrVkrOzy0oSSwpTVGyMjQAAC_2BWs.ZZ.sig",  # "compressed" form
            "e30.AAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "." * 50,
            "a" * 5000,
        ]
    ),
)
cookies = st.lists(
    st.one_of(
        session_values.map(lambda v: f"session={v}"),
        st.tuples(
            st.text(alphabet=TOKEN_CHARS, max_size=10), st.text(COOKIE_CHARS, max_size=30)
        ).map(lambda kv: f"{kv[0]}={kv[1]}"),
        st.text(alphabet=COOKIE_CHARS, max_size=40),
    ),
    max_size=6,
).map("; ".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
json_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 20_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(1, 20_000).map(lambda n: b"[" * n),
    json_values.map(lambda v: json.dumps(v).encode()).flatmap(
        lambda data: st.integers(0, max(len(data) - 1, 0)).map(lambda cut: data[:cut])
    ),
    st.sampled_from(
        [
            b"NaN",
            b"Infinity",
            b"-Infinity",
            b"1e999999",
            b"\xef\xbb\xbf{}",
            b'"\\ud800"',
            b"9" * 5000,
        ]
    ),
)
BOUNDARY_CHARS = string.ascii_letters + string.digits + "'()+_,-./:=? "


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """A multipart body (content type and bytes): random boundary, parts, truncation."""
    boundary = draw(st.text(alphabet=BOUNDARY_CHARS, min_size=0, max_size=72))
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.text(max_size=10))
        filename = draw(st.none() | st.text(max_size=12))
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        part_headers = [f"Content-Disposition: {disposition}"]
        if draw(st.booleans()):
            part_headers.append(f"Content-Type: {draw(header_value)}")
        content = draw(st.binary(max_size=200))
        head = "\r\n".join(part_headers).encode("utf-8", "surrogatepass")
        parts.append(b"--" + boundary.encode() + b"\r\n" + head + b"\r\n\r\n" + content + b"\r\n")
    body = b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    if draw(st.booleans()):  # bytes where they should not be
        junk = draw(st.binary(min_size=1, max_size=40))
        at = draw(st.integers(0, len(body)))
        body = body[:at] + junk + body[at:]
    declared = boundary if draw(st.booleans()) else draw(st.text(BOUNDARY_CHARS, max_size=20))
    quoted = draw(st.booleans())
    content_type = (
        f'multipart/form-data; boundary="{declared}"'
        if quoted
        else f"multipart/form-data; boundary={declared}"
    )
    return content_type, body


def _with_length(extra: Headers, body: bytes) -> Headers:
    return [*GOOD_HEADERS, *extra, ("Content-Length", str(len(body)))]


# --- properties ---------------------------------------------------------------------------------


@PROFILE
@given(method=st.sampled_from(METHODS), target=paths)
def test_arbitrary_paths(app: Erlen, method: str, target: bytes) -> None:
    results = both(app, method.upper(), target, b"", GOOD_HEADERS, b"")
    assert_sane(results, (method, target), "paths")
    for result in results.values():
        if result.status == 200 and target.startswith(b"/files/"):
            # Only the one file inside the folder can be sent, whatever the path.
            assert result.body in (b"hello file\n", b""), target
    check_good_request(app)


@PROFILE
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    route=st.sampled_from(ROUTES),
    extra=headers,
    body=st.binary(max_size=100),
)
def test_arbitrary_headers(
    app: Erlen, method: str, route: str, extra: Headers, body: bytes
) -> None:
    # The given headers may include Host and Content-Length: sent as they are.
    results = both(app, method, route.encode(), b"", extra, body)
    assert_sane(results, (method, route, extra, body), "headers")
    check_good_request(app)


@PROFILE
@given(
    route=st.sampled_from(["/form", "/page", "/next", "/where", "/", "/users/1"]),
    query=query_strings,
)
def test_arbitrary_query_strings(app: Erlen, route: str, query: bytes) -> None:
    results = both(app, "GET", route.encode(), query, GOOD_HEADERS, b"")
    assert_sane(results, (route, query), "query")
    for result in results.values():
        if route == "/next" and result.status == 302:
            location = {k.lower(): v for k, v in result.headers}["location"]
            assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    check_good_request(app)


@PROFILE
@given(cookie=cookies, method=st.sampled_from(["GET", "POST"]))
def test_arbitrary_cookies(app: Erlen, cookie: str, method: str) -> None:
    results = both(app, method, b"/session", b"", [*GOOD_HEADERS, ("Cookie", cookie)], b"")
    assert_sane(results, cookie, "cookies")
    for name, result in results.items():
        # A cookie that is not ours (or tampered) gives a fresh session, never someone else's.
        assert result.status == 200, (name, result)
        assert json.loads(result.body)["count"] == 1, (name, cookie, result.body)
    check_good_request(app)


@PROFILE
@given(
    route=st.sampled_from(["/json", "/async-json"]),
    body=json_bodies,
    content_type=st.sampled_from(
        ["application/json", "application/vnd.api+json", "text/plain", "application/json; x=y"]
    ),
)
def test_arbitrary_json_bodies(app: Erlen, route: str, body: bytes, content_type: str) -> None:
    sent = _with_length([("Content-Type", content_type)], body)
    results = both(app, "POST", route.encode(), b"", sent, body)
    assert_sane(results, (route, content_type, body[:200], len(body)), "json")
    check_good_request(app)


@PROFILE
@given(route=st.sampled_from(["/upload", "/form"]), multipart=multipart_bodies())
def test_arbitrary_multipart_bodies(app: Erlen, route: str, multipart: tuple[str, bytes]) -> None:
    content_type, body = multipart
    sent = _with_length([("Content-Type", content_type)], body)
    results = both(app, "POST", route.encode(), b"", sent, body)
    assert_sane(results, (route, content_type, body[:300]), "multipart")
    check_good_request(app)


@PROFILE
@given(
    method=st.sampled_from(METHODS),
    target=paths,
    query=query_strings,
    extra=headers,
    body=st.one_of(json_bodies, st.binary(max_size=300)),
)
def test_everything_at_once(
    app: Erlen, method: str, target: bytes, query: bytes, extra: Headers, body: bytes
) -> None:
    results = both(app, method.upper(), target, query, [*GOOD_HEADERS, *extra], body)
    assert_sane(results, (method, target, query, extra, body[:100]), "combined")
    check_good_request(app)


def test_the_harness_can_detect_a_failure(app: Erlen) -> None:
    """The invariants are not vacuous: a view that raises gives a 5xx the checks would see."""
    broken = build_app()

    @broken.get("/broken")
    def broken_view() -> str:
        raise RuntimeError("boom")

    result = call_wsgi(broken, "GET", b"/broken", b"", GOOD_HEADERS, b"")
    assert result.status == 500
    with pytest.raises(AssertionError):
        _assert_sane({"wsgi": result}, "broken")


def test_report_distinct_inputs(request: pytest.FixtureRequest) -> None:
    """Runs last in this module: reports how many distinct bad inputs the properties tried."""
    total = sum(len(inputs) for inputs in TRIED.values())
    counts = ", ".join(f"{name}={len(inputs)}" for name, inputs in sorted(TRIED.items()))
    print(f"\ndistinct inputs tried by the properties: {total} ({counts})")
    if TRIED:  # when the properties ran in this session
        assert total > 0
