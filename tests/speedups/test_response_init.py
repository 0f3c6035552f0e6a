"""A response's headers and status (``erlen._speedups.response_init``) are what werkzeug's
``Response.__init__`` sets, for any status, headers, mimetype and content type."""

from __future__ import annotations

import typing as t

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Headers
from werkzeug.sansio.response import Response as SansIOResponse

from erlen._speedups.response_init import STATUS_LINES, init_for_bytes, init_headers_and_status


class Reference(SansIOResponse):
    default_mimetype = "text/html"  # erlen's


statuses = st.sampled_from(
    [None, 200, 201, 204, 301, 404, 418, 500, 299, 599, "200 OK", "299 CUSTOM", "404", "abc OK"]
)
mimetypes = st.sampled_from([None, "text/plain", "text/html", "application/json", "image/png"])
content_types = st.sampled_from([None, "text/csv; charset=utf-8", "application/octet-stream"])
pairs = st.lists(
    st.tuples(
        st.sampled_from(["X-A", "Content-Type", "content-type", "Vary"]),
        st.sampled_from(["1", "text/plain", "a b"]),
    ),
    max_size=3,
)
header_arguments: st.SearchStrategy[t.Any] = st.one_of(
    st.none(), pairs, pairs.map(dict), pairs.map(Headers), st.just({})
)


def _state(response: SansIOResponse) -> tuple[t.Any, ...]:
    return (list(response.headers), response.status, response.status_code)


@settings(max_examples=400, derandomize=True)
@given(status=statuses, headers=header_arguments, mimetype=mimetypes, content_type=content_types)
def test_headers_and_status_as_werkzeug_sets_them(
    status: t.Any, headers: t.Any, mimetype: str | None, content_type: str | None
) -> None:
    copy = Headers(headers) if isinstance(headers, Headers) else headers
    theirs = Reference(status, copy, mimetype, content_type)
    ours = Reference.__new__(Reference)
    init_headers_and_status(ours, status, headers, mimetype, content_type)
    assert _state(ours) == _state(theirs)


@settings(max_examples=200, derandomize=True)
@given(
    status=st.sampled_from(sorted(STATUS_LINES)),
    mimetype=st.sampled_from(["text/plain", "text/html", "application/json", "image/png"]),
    length=st.integers(0, 10**9),
)
def test_a_body_of_bytes_as_werkzeug_sets_it(status: int, mimetype: str, length: int) -> None:
    theirs = Reference(status, mimetype=mimetype)
    theirs.headers["Content-Length"] = str(length)
    ours = Reference.__new__(Reference)
    init_for_bytes(ours, length, status, mimetype)
    assert _state(ours) == _state(theirs)
