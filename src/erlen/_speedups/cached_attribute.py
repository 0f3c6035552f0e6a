"""Request attributes computed once, read afterwards at the cost of a plain attribute.

Upstream: ``werkzeug.utils.cached_property``. werkzeug's is a data descriptor (it has
``__set__``), so every read of ``request.form``, ``request.args`` or ``request.cookies`` runs
its ``__get__`` in Python, which finds the value in the instance's ``__dict__``. A
:class:`cached_attribute` is not a data descriptor: it runs once, stores the value in the
instance's ``__dict__`` under its name, and from then on the instance's ``__dict__`` answers
without a call. Setting and deleting act on that ``__dict__`` as werkzeug's do.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable

from werkzeug.utils import cached_property

from . import ENABLED

T = t.TypeVar("T")


class cached_attribute(t.Generic[T]):  # (lower case, as the decorators it replaces)
    """``fget(obj)``, computed on first read and kept in ``obj.__dict__``."""

    def __init__(self, fget: Callable[[t.Any], T], name: str | None = None) -> None:
        self.fget = fget
        self.__name__ = name or fget.__name__
        self.__doc__ = fget.__doc__
        self.__module__ = fget.__module__

    @t.overload
    def __get__(self, obj: None, owner: type | None = None) -> cached_attribute[T]: ...

    @t.overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> T | cached_attribute[T]:
        if obj is None:
            return self
        # Called only while the instance's __dict__ lacks the name: fget may have put it
        # there itself (werkzeug's form parsing stores form, files and stream at once).
        value = self.fget(obj)
        obj.__dict__[self.__name__] = value
        return value


def _plain(cls: type) -> None:
    """Make each werkzeug ``cached_property`` that ``cls`` has (its own or inherited) a
    :class:`cached_attribute` of the same function, set on ``cls``."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            # (stored under another name than its own, werkzeug's would read that one: kept)
            if isinstance(value, cached_property) and value.__name__ == name:
                setattr(cls, name, cached_attribute(value.fget, name))  # type: ignore[arg-type]


def _unchanged(cls: type) -> None:
    """Upstream: werkzeug's descriptors stay."""


#: Make a class's cached properties :class:`cached_attribute` (nothing with ``ERLEN_SPEEDUPS=0``).
plain_cached_properties: Callable[[type], None] = _plain if ENABLED else _unchanged
