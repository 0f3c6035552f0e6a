"""The private parts of werkzeug that erlen reads or writes, for speed: each must still be
there and mean the same, or a werkzeug release has changed it (pyproject.toml bounds werkzeug
below its next minor release for that reason).

- ``Headers._list``: the (name, value) tuples a ``Headers`` keeps (wrappers.trusted_headers,
  response_headers, security.add_security_headers, the adapters);
- ``Response._on_close``: the callbacks ``call_on_close`` added (protocols/in_thread.py);
- ``LimitedStream._limit_is_max``: whether a stream's limit is a maximum or the exact length
  (protocols/wsgi.py);
- ``Rule._parts`` and ``Rule._converters``: a compiled rule's segments and converters
  (dynamic_routes.py);
- werkzeug's ``cached_property`` keeps its value in the instance ``__dict__`` (security's proxy
  handling sets ``request.__dict__["host"]``).
"""

from __future__ import annotations

import io

from werkzeug.datastructures import Headers
from werkzeug.routing import Map, Rule
from werkzeug.sansio.request import Request as SansIORequest
from werkzeug.wrappers import Response
from werkzeug.wsgi import LimitedStream


def test_headers_keep_name_value_tuples_in_list() -> None:
    headers = Headers([("A", "1")])
    headers.add("B", "2")
    assert headers._list == [("A", "1"), ("B", "2")]
    headers._list = [("C", "3")]
    assert dict(headers) == {"C": "3"}


def test_response_keeps_close_callbacks_in_on_close() -> None:
    response = Response("x")
    assert response._on_close == []

    def callback() -> None:
        pass

    response.call_on_close(callback)
    assert response._on_close == [callback]


def test_limited_stream_says_whether_its_limit_is_a_maximum() -> None:
    assert LimitedStream(io.BytesIO(b"abc"), 3)._limit_is_max is False
    assert LimitedStream(io.BytesIO(b"abc"), 3, is_max=True)._limit_is_max is True


def test_a_compiled_rule_has_parts_and_converters() -> None:
    rule = Rule("/users/<int:user_id>/posts", endpoint="posts")
    Map([rule])
    assert set(rule._converters) == {"user_id"}
    literal = [part.content for part in rule._parts if part.static]
    assert any("posts" in content for content in literal)
    assert any(not part.static for part in rule._parts)


def test_cached_property_values_live_in_the_instance_dict() -> None:
    request = SansIORequest(
        "GET", "http", ("localhost", 80), "", "/", b"", Headers({"Host": "a.example"}), None
    )
    request.__dict__["host"] = "b.example"
    assert request.host == "b.example"
