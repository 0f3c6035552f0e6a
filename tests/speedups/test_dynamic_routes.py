"""The route shortcuts (``erlen._speedups.route_shortcuts`` and ``.dynamic_routes``) give
werkzeug's answer, or leave it to werkzeug: ``MapAdapter.match`` is the oracle."""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, RequestRedirect
from werkzeug.routing import Rule as WerkzeugRule

from erlen import Erlen
from erlen._speedups.dynamic_routes import DynamicRoutes
from erlen.routing import Rule, UrlMap
from erlen.testing import ErlenClient

LITERALS = ["a", "b", "users", "1"]
CONVERTERS = [
    "<int:n{i}>",
    "<name{i}>",
    "<float:f{i}>",
    "<any(a, b):choice{i}>",
    "<string(length=2):code{i}>",
    "<int(min=5):big{i}>",
    "x<int:x{i}>y",
]
METHODS = [("GET",), ("POST",), ("GET", "POST"), ("PUT",)]


@st.composite
def rule_specs(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...], dict[str, t.Any]]]:
    specs = []
    for _ in range(draw(st.integers(1, 6))):
        segments = []
        for index in range(draw(st.integers(1, 3))):
            if draw(st.integers(0, 2)) == 0:
                segments.append(draw(st.sampled_from(LITERALS)))
            else:
                segments.append(draw(st.sampled_from(CONVERTERS)).format(i=index))
        if draw(st.integers(0, 5)) == 0:
            segments.append(f"<path:rest{len(segments)}>")
        rule = "/" + "/".join(segments) + ("/" if draw(st.booleans()) else "")
        options: dict[str, t.Any] = {}
        if draw(st.integers(0, 40)) == 0:  # turns the matcher off for the whole map
            options["strict_slashes"] = False
        specs.append((rule, draw(st.sampled_from(METHODS)), options))
    return specs


paths = st.lists(st.sampled_from([*LITERALS, "", "7", "07", "1.5", "ab", "x3y", "abc"]), max_size=4)


def _outcome(match: t.Callable[[], tuple[t.Any, t.Mapping[str, t.Any]]]) -> tuple[t.Any, ...]:
    try:
        rule, args = match()
    except RequestRedirect as redirect:
        return ("redirect", redirect.new_url)
    except MethodNotAllowed as error:
        return ("405", sorted(error.valid_methods or ()))
    except HTTPException as error:
        return (type(error).__name__,)
    return ("match", rule.endpoint, dict(args))


def _maps(
    specs: list[tuple[str, tuple[str, ...], dict[str, t.Any]]],
) -> tuple[UrlMap, Map]:
    fast = UrlMap()
    reference = Map()
    for index, (rule, methods, options) in enumerate(specs):
        fast.add(Rule(rule, endpoint=f"e{index}", methods=methods, **options))
        reference.add(WerkzeugRule(rule, endpoint=f"e{index}", methods=methods, **options))
    return fast, reference


SAMPLES = {
    "int": ["7", "07", "12"],
    "float": ["1.5", "2"],
    "any": ["a", "b", "c"],
    "string": ["ab", "abc"],
    "path": ["a/b", "a"],
    "": ["ab", "a", "7"],
}


def _path_near(rule: str, data: st.DataObject) -> str:
    """A path made from ``rule`` with sample values, sometimes with the slash toggled."""
    text = rule
    while "<" in text:
        head, _, rest = text.partition("<")
        spec, _, tail = rest.partition(">")
        kind = spec.partition(":")[0].partition("(")[0] if ":" in spec else ""
        text = head + data.draw(st.sampled_from(SAMPLES.get(kind, ["7"]))) + tail
    if data.draw(st.integers(0, 3)) == 0:
        text = text[:-1] if text.endswith("/") and len(text) > 1 else text + "/"
    return text


@settings(max_examples=1000, deadline=None)
@given(data=st.data(), specs=rule_specs(), method=st.sampled_from(["GET", "POST", "DELETE"]))
def test_agrees_with_werkzeug(
    data: st.DataObject, specs: list[tuple[str, tuple[str, ...], dict[str, t.Any]]], method: str
) -> None:
    fast, reference = _maps(specs)
    if data.draw(st.integers(0, 3)) == 0:
        path = "/" + "/".join(data.draw(paths))
    else:
        path = _path_near(data.draw(st.sampled_from(specs))[0], data)
    adapter = reference.bind("localhost")
    expected = _outcome(lambda: adapter.match(path, method, return_rule=True))
    got = _outcome(lambda: fast.match_path(path, method, False))
    static = fast.route_shortcuts().match_static(path, method)
    if static is not None:
        assert expected == ("match", static.endpoint, {}), (specs, path, method)
    if expected[0] == "redirect":  # match_path's redirects carry a placeholder host
        assert got[0] == "redirect"
    else:
        assert got == expected, (specs, path, method)


def _routes(*rules: str | tuple[str, dict[str, t.Any]]) -> DynamicRoutes:
    url_map = UrlMap()
    for index, rule in enumerate(rules):
        text, options = rule if isinstance(rule, tuple) else (rule, {})
        url_map.add(Rule(text, endpoint=f"e{index}", **options))
    return DynamicRoutes(url_map.iter_rules())


def test_answers_a_single_fitting_rule() -> None:
    routes = _routes("/users/<int:id>", "/users/<int:id>/posts/<slug>", "/files/<path:name>")
    assert routes.usable
    found = routes.match("/users/7/posts/hello", "GET")
    assert (
        found is not None and found[0].endpoint == "e1" and found[1] == {"id": 7, "slug": "hello"}
    )
    found = routes.match("/files/a/b.txt", "GET")
    assert found is not None and found[1] == {"name": "a/b.txt"}


@pytest.mark.parametrize(
    ("rules", "path", "method"),
    [
        (("/<a>", "/<int:b>"), "/5", "GET"),  # two shapes fit: werkzeug's order decides
        ((("/users/<int:id>", {"methods": ["GET"]}),), "/users/5", "POST"),  # 405
        (("/users/<int:id>", "/users/<int:id>/"), "/users/5", "GET"),  # a redirect is possible
        (("/users/<int(min=9):id>",), "/users/5", "GET"),  # the converter refuses the value
        (("/nothing/<int:id>",), "/nothing/x", "GET"),  # nothing fits
    ],
)
def test_leaves_to_werkzeug(
    rules: tuple[str | tuple[str, dict[str, t.Any]], ...], path: str, method: str
) -> None:
    assert _routes(*rules).match(path, method) is None


@pytest.mark.parametrize(
    "options", [{"defaults": {"page": 1}}, {"strict_slashes": False}, {"redirect_to": "/x"}]
)
def test_rules_that_change_matching_turn_it_off(options: dict[str, t.Any]) -> None:
    routes = _routes("/users/<int:id>", ("/list/<int:page>", options))
    assert not routes.usable


def test_same_rule_shape_per_method_in_views(app: Erlen, client: ErlenClient) -> None:
    @app.get("/items/<int:item_id>")
    def show(item_id: int) -> str:
        return f"show {item_id}"

    @app.delete("/items/<int:item_id>")
    def delete(item_id: int) -> str:
        return f"delete {item_id}"

    assert client.get("/items/3").text == "show 3"
    assert client.delete("/items/4").text == "delete 4"
    assert client.post("/items/5").status_code == 405
    assert client.get("/items/x").status_code == 404
