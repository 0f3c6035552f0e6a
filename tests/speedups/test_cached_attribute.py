"""The request's cached attributes answer as werkzeug's ``cached_property`` does (the oracle):
what reads return, how often the function runs, what setting and deleting leave."""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.utils import cached_property

from erlen._speedups.cached_attribute import _plain, cached_attribute
from erlen.wrappers import Request


def _make(plain: bool) -> type:
    class Base:
        def __init__(self) -> None:
            self.calls: list[str] = []
            self.fail = False

        @cached_property
        def value(self) -> int:
            self.calls.append("value")
            if self.fail:
                raise ValueError("no value")
            return len(self.calls)

        @cached_property
        def stored(self) -> str:
            # Stores itself, as werkzeug's form parsing stores form, files and stream.
            self.calls.append("stored")
            self.__dict__["stored"] = f"stored {len(self.calls)}"
            return t.cast(str, self.__dict__["stored"])

    class Child(Base):
        @cached_property
        def own(self) -> str:
            self.calls.append("own")
            return "own"

    if plain:
        _plain(Child)
    return Child


Operation = tuple[str, str, int]
operations = st.lists(
    st.tuples(
        st.sampled_from(["read", "set", "delete", "fail", "succeed"]),
        st.sampled_from(["value", "stored", "own"]),
        st.integers(0, 3),
    ),
    max_size=12,
)


def _apply(obj: t.Any, steps: list[Operation]) -> list[object]:
    seen: list[object] = []
    for action, name, number in steps:
        try:
            if action == "read":
                seen.append(getattr(obj, name))
            elif action == "set":
                setattr(obj, name, number)
            elif action == "delete":
                delattr(obj, name)
            else:
                obj.fail = action == "fail"
        except (AttributeError, KeyError):  # deleting what is not cached: either error
            seen.append("missing")
        except ValueError as error:
            seen.append(str(error))
    seen.append(list(obj.calls))
    seen.append({k: v for k, v in vars(obj).items() if k not in ("calls", "fail")})
    return seen


@settings(max_examples=300, derandomize=True)
@given(steps=operations)
def test_any_operations_answer_as_werkzeugs(steps: list[Operation]) -> None:
    assert _apply(_make(plain=True)(), steps) == _apply(_make(plain=False)(), steps)


def test_a_read_value_is_a_plain_attribute() -> None:
    obj = _make(plain=True)()
    assert isinstance(type(obj).__dict__["value"], cached_attribute)  # the inherited one too
    assert obj.value == 1 and obj.value == 1 and obj.calls == ["value"]
    assert "value" in vars(obj)
    assert type(obj).value.__name__ == "value"  # the class reads the descriptor


def test_a_property_stored_under_another_name_stays_werkzeugs() -> None:
    class Renamed:
        other = cached_property(lambda self: 1, name="elsewhere")

    _plain(Renamed)
    assert isinstance(Renamed.__dict__["other"], cached_property)
    assert Renamed().other == 1


@pytest.mark.parametrize("name", ["form", "args", "cookies", "files", "stream", "url"])
def test_the_requests_cached_properties_are_plain(name: str) -> None:
    assert isinstance(Request.__dict__[name], cached_attribute)
