"""Tagged JSON: JSON that round-trips a few more Python types, for the session cookie.

A value JSON cannot hold is written as a one-key object whose key is a tag, ``{" t": [...]}``
for a tuple. The tags and the JSON (compact, sorted keys, ASCII) are those of Flask's session
cookies, so sessions survive a port.

===== ====================================================
tag   type
===== ====================================================
``" t"``  tuple
``" b"``  bytes (base64)
``" m"``  ``markupsafe.Markup`` (anything with ``__html__``)
``" u"``  ``uuid.UUID`` (hex)
``" d"``  ``datetime.datetime`` (HTTP date, UTC)
``" di"`` a dict whose only key happens to be a tag
===== ====================================================
"""

from __future__ import annotations

import json
import typing as t
from base64 import b64decode, b64encode
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date, parse_date

from .provider import _default

#: The types that are their own JSON (not their subclasses: ``Markup`` is a ``str``).
_SCALARS = frozenset({str, int, float, bool, type(None)})
#: Flask's session JSON: its app's default provider (a date becomes an HTTP date, say), compact.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=_default)


class Tag(t.NamedTuple):
    """How one type is written: the tag, which values it takes, and both conversions."""

    key: str
    check: Callable[[t.Any], bool]
    to_json: Callable[[t.Any], t.Any]
    to_python: Callable[[t.Any], t.Any]


class TaggedJSONSerializer:
    """``dumps``/``loads`` with tags for the types JSON lacks. Add a type with :meth:`register`."""

    def __init__(self) -> None:
        self.tags: dict[str, Tag] = {}
        self.order: list[Tag] = []
        self.register(" di", self._is_tag_like_dict, self._escape_dict, self._unescape_dict)
        self.register(" t", lambda v: isinstance(v, tuple), self._tag_items, tuple)
        self.register(" b", lambda v: isinstance(v, bytes), _b64, b64decode)
        self.register(" m", lambda v: callable(getattr(v, "__html__", None)), _html, Markup)
        self.register(" u", lambda v: isinstance(v, UUID), lambda v: v.hex, UUID)
        self.register(" d", lambda v: isinstance(v, datetime), http_date, parse_date)
        self._decoder = json.JSONDecoder(object_hook=self.untag)
        # With only these tags, plain JSON data is its own tagged form (see dumps).
        self._plain_is_tagged = type(self).tag is TaggedJSONSerializer.tag

    def register(
        self,
        key: str,
        check: Callable[[t.Any], bool],
        to_json: Callable[[t.Any], t.Any],
        to_python: Callable[[t.Any], t.Any],
        index: int | None = None,
    ) -> None:
        """Add a tag; ``index`` places it earlier in the order checks are tried."""
        if key in self.tags:
            raise KeyError(f"Tag '{key}' is already registered.")
        tag = Tag(key, check, to_json, to_python)
        self._plain_is_tagged = False  # a new tag may take plain values
        self.tags[key] = tag
        self.order.insert(len(self.order) if index is None else index, tag)

    def tag(self, value: t.Any) -> t.Any:
        """The JSON-ready form of ``value``."""
        for tag in self.order:
            if tag.check(value):
                return {tag.key: tag.to_json(value)}
        if isinstance(value, dict):
            return {key: self.tag(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.tag(item) for item in value]
        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """The inverse of :meth:`tag` for one decoded JSON object."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        return tag.to_python(value[key]) if tag is not None else value

    def dumps(self, value: t.Any) -> str:
        if not (self._plain_is_tagged and _is_plain(value, self.tags)):
            value = self.tag(value)
        return _ENCODER.encode(value)

    def loads(self, value: str | bytes) -> t.Any:
        if isinstance(value, (bytes, bytearray)):  # as json.loads reads bytes
            value = value.decode(json.detect_encoding(value), "surrogatepass")
        return self._decoder.decode(value)

    def _is_tag_like_dict(self, value: t.Any) -> bool:
        return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in self.tags

    def _escape_dict(self, value: dict[str, t.Any]) -> dict[str, t.Any]:
        key = next(iter(value))
        return {f"{key}__": self.tag(value[key])}

    def _unescape_dict(self, value: dict[str, t.Any]) -> dict[str, t.Any]:
        key = next(iter(value))
        return {key[:-2]: value[key]}

    def _tag_items(self, value: tuple[t.Any, ...]) -> list[t.Any]:
        return [self.tag(item) for item in value]


def _is_plain(value: t.Any, tags: dict[str, Tag]) -> bool:
    """Whether ``value`` is JSON data none of the built-in tags would change."""
    kind = type(value)
    if kind is dict:
        if len(value) == 1 and next(iter(value)) in tags:
            return False
        items = value.values()
    elif kind is list:
        items = value
    else:
        return kind in _SCALARS
    for item in items:  # noqa: SIM110 (a loop: no generator per container)
        if type(item) not in _SCALARS and not _is_plain(item, tags):
            return False
    return True


def _b64(value: bytes) -> str:
    return b64encode(value).decode("ascii")


def _html(value: t.Any) -> str:
    return str(value.__html__())
