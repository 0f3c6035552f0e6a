"""Nothing unsafe leaves in a response header, on every real server: a redirect to a non-ASCII
target is a valid percent-encoded ``Location``; a header value with a control character or a
character outside latin-1 is never sent (a 500), and the server answers the next request."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .conftest import RunningServer
from .test_bad_input import skip_logged_errors
from .test_security_servers import exchange, request


def test_redirect_to_a_non_ascii_target_is_percent_encoded(server: RunningServer) -> None:
    target = quote("/ok\u560d\u560aX: 1")
    answer = exchange(server, request("GET", f"/redirect-to?target={target}"))
    assert answer.status == 302, server.name
    assert answer.headers["location"] == "/ok%E5%98%8D%E5%98%8AX:%201", server.name
    assert "x" not in answer.headers  # no header was smuggled in by the low bytes CR LF


@pytest.mark.parametrize(
    "value", ["a\x00b", "a\rb", "a\nX-Injected: 1", "a\x1bb", "a\x7fb", "\u560d\u560aX: 1"]
)
def test_an_unsafe_header_value_never_reaches_the_wire(server: RunningServer, value: str) -> None:
    answer = exchange(server, request("GET", f"/header-from-input?value={quote(value)}"))
    assert answer.status == 500, (server.name, value)
    assert "x-echo" not in answer.headers and "x-injected" not in answer.headers
    assert b"Traceback" not in answer.body and b"header set" not in answer.body
    assert exchange(server, request("GET", "/")).status == 200  # still serving
    skip_logged_errors(server)  # the 500 was logged on purpose


def test_a_safe_header_value_is_sent(server: RunningServer) -> None:
    value = "a tab\there"  # (obs-text is tested in-process: granian-wsgi sends it as UTF-8)
    answer = exchange(server, request("GET", f"/header-from-input?value={quote(value)}"))
    assert answer.status == 200, server.name
    assert answer.headers["x-echo"] == value
