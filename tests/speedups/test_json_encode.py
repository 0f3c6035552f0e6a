"""Compact JSON (``erlen._speedups.json_encode``) is the text the standard library's
``JSONEncoder(..., separators=(",", ":")).encode`` gives, or the same error, for any settings
and any document: every JSON type, keys of several types, values only ``default`` handles, a
reference cycle, nesting too deep to encode, from several threads at once."""

from __future__ import annotations

import datetime
import decimal
import sys
import threading
import typing as t
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erlen._speedups import json_encode
from erlen._speedups.json_encode import fast_encoder, upstream_encoder
from erlen.json.provider import DefaultJSONProvider

default = DefaultJSONProvider.default
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**80),
    st.floats(),  # NaN and the infinities included
    st.text(),
    st.dates(),
    st.decimals(allow_nan=False),
    st.uuids(),
    st.builds(object),  # default() refuses it: a TypeError
)
keys = st.one_of(st.text(max_size=8), st.integers(), st.floats(), st.booleans(), st.none())
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=20,
)
settings = st.tuples(st.booleans(), st.booleans())


def _outcome(encode: t.Callable[[t.Any], str], document: t.Any) -> tuple[str, str]:
    try:
        return "text", encode(document)
    except (TypeError, ValueError, RecursionError) as error:
        return type(error).__name__, str(error)


def _both(document: t.Any, ensure_ascii: bool = True, sort_keys: bool = True) -> None:
    ours = fast_encoder(default, ensure_ascii, sort_keys)
    upstream = upstream_encoder(default, ensure_ascii, sort_keys)
    assert _outcome(ours, document) == _outcome(upstream, document)


@given(documents, settings)
def test_any_document_encodes_as_upstream(document: t.Any, flags: tuple[bool, bool]) -> None:
    _both(document, *flags)


@pytest.mark.parametrize("flags", [(True, True), (False, False)])
def test_a_reference_cycle_is_the_same_error(flags: tuple[bool, bool]) -> None:
    looped_list: list[t.Any] = [1]
    looped_list.append(looped_list)
    looped_dict: dict[str, t.Any] = {"a": 1}
    looped_dict["self"] = [looped_dict]
    for document in (looped_list, looped_dict, {"x": looped_list}):
        ours = fast_encoder(default, *flags)
        assert _outcome(ours, document) == ("ValueError", "Circular reference detected")
        _both(document, *flags)


def test_nesting_too_deep_is_the_same_error() -> None:
    document: list[t.Any] = []
    for _ in range(sys.getrecursionlimit() + 100):
        document = [document]
    assert _outcome(fast_encoder(default, True, True), document)[0] == "RecursionError"
    _both(document)


def test_a_shared_encoder_is_safe_across_threads() -> None:
    """A document shared by threads encoding at once is no cycle to any of them."""
    items = [decimal.Decimal("1.5"), uuid.UUID(int=7)]
    shared = {"when": datetime.date(2026, 12, 4), "items": items}
    document = {"a": shared, "b": [shared, shared]}
    encode = fast_encoder(default, True, True)
    expected = upstream_encoder(default, True, True)(document)
    results: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(300):
                results.append(encode(document))
        except BaseException as error:  # reported below
            errors.append(error)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sys.setswitchinterval(old_interval)
    assert not errors
    assert results == [expected] * 1200


@pytest.mark.parametrize("accelerator", ["absent", "other arguments"])
def test_without_a_usable_c_encoder_it_is_upstreams(
    monkeypatch: pytest.MonkeyPatch, accelerator: str
) -> None:
    def other_signature(*args: t.Any) -> t.Any:
        raise TypeError("make_encoder() takes other arguments")

    replacement = None if accelerator == "absent" else other_signature
    monkeypatch.setattr(json_encode, "c_make_encoder", replacement)
    encode = fast_encoder(default, True, True)
    assert encode.__qualname__ == "JSONEncoder.encode"
    assert encode({"b": [1, 2.5], "a": "é"}) == '{"a":"\\u00e9","b":[1,2.5]}'
