"""The private parts of werkzeug that erlen reads or writes, all inside ``erlen._speedups``
(``tests/import_contracts.py`` fails the lint if one is used elsewhere): each must still be there
and mean the same, or a werkzeug release has changed it. pyproject.toml bounds werkzeug below
its next minor release for that reason, and ``ERLEN_SPEEDUPS=0`` runs erlen without them.

- ``Headers._list``: the (name, value) tuples a ``Headers`` keeps (``_speedups.headers``);
- ``Response._status_code`` and ``Response._status``: what the ``status`` setter stores
  (``_speedups.response_init``);
- ``Rule._parts`` and ``Rule._converters``: a compiled rule's segments and converters
  (``_speedups.dynamic_routes``).
"""

from __future__ import annotations

from werkzeug.datastructures import Headers
from werkzeug.routing import Map, Rule
from werkzeug.sansio.response import Response


def test_headers_keep_name_value_tuples_in_list() -> None:
    headers = Headers([("A", "1")])
    headers.add("B", "2")
    assert headers._list == [("A", "1"), ("B", "2")]
    headers._list = [("C", "3")]
    assert dict(headers) == {"C": "3"}


def test_response_status_setter_stores_code_and_line() -> None:
    response = Response()
    response.status = 404
    assert (response._status_code, response._status) == (404, "404 NOT FOUND")
    response._status_code, response._status = 201, "201 CREATED"
    assert (response.status_code, response.status) == (201, "201 CREATED")


def test_a_compiled_rule_has_parts_and_converters() -> None:
    rule = Rule("/users/<int:user_id>/posts", endpoint="posts")
    Map([rule])
    assert set(rule._converters) == {"user_id"}
    literal = [part.content for part in rule._parts if part.static]
    assert any("posts" in content for content in literal)
    assert any(not part.static for part in rule._parts)
