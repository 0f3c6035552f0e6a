"""Context proxies: every attribute and operator reaches the current object."""

from __future__ import annotations

import asyncio
import copy
import typing as t
from collections.abc import AsyncIterator

import pytest
from markupsafe import escape

from erlen import Erlen, g, render_template_string, request, session
from erlen.globals import context_proxy
from erlen.testing import ErlenClient
from erlen.wrappers import Request

current: dict[str, t.Any] = {}


def _target() -> t.Any:
    if "value" not in current:
        raise RuntimeError("nothing current")
    return current["value"]


proxy: t.Any = context_proxy(_target, "TestProxy")


@pytest.fixture(autouse=True)
def _reset() -> t.Iterator[None]:
    yield
    current.clear()


class Thing:
    def __init__(self) -> None:
        self.name = "thing"

    def __call__(self, value: int) -> int:
        return value * 2


def test_attributes_are_read_written_and_deleted_on_the_current_object() -> None:
    thing = current["value"] = Thing()
    assert proxy.name == "thing"
    proxy.name = "renamed"
    proxy.extra = 1
    assert thing.name == "renamed" and thing.extra == 1  # type: ignore[attr-defined]
    del proxy.extra
    assert not hasattr(thing, "extra")
    assert "name" in dir(proxy)
    assert proxy(21) == 42


def test_follows_the_object_as_it_changes() -> None:
    current["value"] = [1, 2]
    assert len(proxy) == 2
    current["value"] = [1, 2, 3]
    assert len(proxy) == 3 and proxy._get_current_object() is current["value"]


def test_container_operators() -> None:
    data = current["value"] = {"a": 1}
    assert proxy["a"] == 1 and "a" in proxy and "b" not in proxy
    proxy["b"] = 2
    del proxy["a"]
    assert data == {"b": 2} and list(proxy) == ["b"] and len(proxy) == 1
    assert proxy == {"b": 2} and proxy != {"a": 1}
    assert bool(proxy)
    data.clear()
    assert not proxy


def test_identity_like_operations() -> None:
    current["value"] = "text"
    assert str(proxy) == "text" and repr(proxy) == "'text'" and f"{proxy}" == "text"
    assert hash(proxy) == hash("text")
    assert isinstance(proxy, str)
    assert proxy.upper() == "TEXT"


def test_copies_copy_the_object() -> None:
    data = current["value"] = {"a": [1]}
    shallow = copy.copy(proxy)
    deep = copy.deepcopy(proxy)
    assert type(shallow) is dict and shallow == data and shallow is not data
    assert deep["a"] is not data["a"]


def test_async_iteration() -> None:
    async def numbers() -> AsyncIterator[int]:
        for number in range(3):
            yield number

    current["value"] = numbers()

    async def collect() -> list[int]:
        return [number async for number in proxy]

    assert asyncio.run(collect()) == [0, 1, 2]


def test_nothing_current_raises_the_getters_error() -> None:
    with pytest.raises(RuntimeError, match="nothing current"):
        _ = proxy.name
    with pytest.raises(RuntimeError, match="nothing current"):
        _ = proxy["a"]


def test_request_proxy_is_a_request_in_views(app: Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def index() -> str:
        assert isinstance(request, Request)
        g.user = "ann"
        session["seen"] = True
        return f"{request.args['q']}:{g.user}:{'seen' in session}:{len(session)}"

    assert client.get("/?q=1").text == "1:ann:True:1"


def test_proxies_in_templates_and_escaping(app: Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def index() -> str:
        g.user = "<b>"
        session["n"] = 3
        text = render_template_string(
            "{{ g.user }} {{ session['n'] }} {{ session.n }} {{ request.args.q }}"
        )
        return f"{text}|{escape(request.args['q'])}"

    assert client.get("/?q=<i>").text == "&lt;b&gt; 3 3 &lt;i&gt;|&lt;i&gt;"
