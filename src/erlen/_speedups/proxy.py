"""Proxies to the object of the current context (``request``, ``session``, ``g``...).

Upstream: ``werkzeug.local.LocalProxy`` of the getter. A proxy forwards every attribute and
operator to the object its getter returns now, so one module-level name serves every thread and
task. Attribute access is the hot path of views (a view reads ``request.form`` or ``g.user`` many
times per request): each proxy is an instance of its own small class whose ``__getattribute__``
calls the getter directly, much cheaper than werkzeug's lookup through descriptors
(bench/RESULTS.md, "Speedups").
"""

from __future__ import annotations

import copy
import typing as t
from collections.abc import Callable

T = t.TypeVar("T")


class ContextProxy:
    """The operators every proxy forwards; attribute access is forwarded by the subclass that
    :func:`context_proxy` makes. ``_get_current_object()`` returns the object itself."""

    __slots__ = ()

    if t.TYPE_CHECKING:

        def _get_current_object(self) -> t.Any: ...

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(self._get_current_object(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._get_current_object(), name)

    def __dir__(self) -> t.Iterable[str]:
        try:
            return dir(self._get_current_object())
        except RuntimeError:
            return []

    def __repr__(self) -> str:
        try:
            return repr(self._get_current_object())
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"

    def __str__(self) -> str:
        return str(self._get_current_object())

    def __bool__(self) -> bool:
        # Falsy outside its context, so that `current_app or self.app` and `if request:` work.
        try:
            return bool(self._get_current_object())
        except RuntimeError:
            return False

    # Unbound, a proxy compares by identity and is unhashable, as werkzeug's LocalProxy is.
    def __eq__(self, other: object) -> bool:
        try:
            return bool(self._get_current_object() == other)
        except RuntimeError:
            return self is other

    def __ne__(self, other: object) -> bool:
        try:
            return bool(self._get_current_object() != other)
        except RuntimeError:
            return self is not other

    def __hash__(self) -> int:
        try:
            return hash(self._get_current_object())
        except RuntimeError as error:
            raise TypeError("unhashable: a proxy outside its context") from error

    def __len__(self) -> int:
        return len(self._get_current_object())

    def __iter__(self) -> t.Iterator[t.Any]:
        return iter(self._get_current_object())

    def __aiter__(self) -> t.AsyncIterator[t.Any]:
        return aiter(self._get_current_object())

    def __contains__(self, item: object) -> bool:
        return item in self._get_current_object()

    def __getitem__(self, key: t.Any) -> t.Any:
        return self._get_current_object()[key]

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        self._get_current_object()[key] = value

    def __delitem__(self, key: t.Any) -> None:
        del self._get_current_object()[key]

    def __enter__(self) -> t.Any:
        return self._get_current_object().__enter__()

    def __exit__(self, *exc_info: t.Any) -> t.Any:
        return self._get_current_object().__exit__(*exc_info)

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._get_current_object()(*args, **kwargs)

    def __copy__(self) -> t.Any:
        return copy.copy(self._get_current_object())

    def __deepcopy__(self, memo: dict[int, t.Any]) -> t.Any:
        return copy.deepcopy(self._get_current_object(), memo)


def context_proxy(get: Callable[[], T], name: str) -> T:
    """A proxy to what ``get()`` returns at the time of each use; ``get`` raises when there is
    nothing to return (outside a context). ``name`` is the proxy class's name."""

    def forward(self: ContextProxy, attribute: str) -> t.Any:
        if attribute == "_get_current_object":
            return get
        # isinstance() reads __class__ too: the object's class answers for the proxy (its own
        # class when unbound, as for werkzeug's LocalProxy).
        try:
            return getattr(get(), attribute)
        except RuntimeError:
            if attribute == "__class__":
                return type(self)
            raise

    def set_attribute(self: ContextProxy, attribute: str, value: t.Any) -> None:
        setattr(get(), attribute, value)  # (g.user = ... in hooks: no lookup of the getter)

    namespace = {"__slots__": (), "__getattribute__": forward, "__setattr__": set_attribute}
    proxy_class = type(name, (ContextProxy,), namespace)
    return t.cast(T, proxy_class())
