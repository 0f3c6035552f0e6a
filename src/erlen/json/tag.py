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
from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date, parse_date

from .provider import _default

#: The types that are their own JSON (not their subclasses: ``Markup`` is a ``str``).
_SCALARS = frozenset({str, int, float, bool, type(None)})
#: Flask's session JSON: its app's default provider (a date becomes an HTTP date, say), compact.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=_default)


class JSONTag:
    """One type that tagged JSON can hold. Subclass it to add a type: set ``key`` (a string
    starting with a space, so it cannot clash with a real key), implement ``check``,
    ``to_json`` and ``to_python``, and :meth:`TaggedJSONSerializer.register` the class.
    A tag without a key only rewrites the value (the dict and list tags walk into items)."""

    __slots__ = ("serializer",)

    #: The one key of the JSON object that holds a tagged value; empty for a pass-through.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Whether this tag takes ``value``."""
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """``value`` as JSON data (the tag's key is added by :meth:`tag`)."""
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """The Python value back from what :meth:`to_json` made."""
        raise NotImplementedError

    def tag(self, value: t.Any) -> t.Any:
        """``value`` in its tagged form: ``{key: to_json(value)}``."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """A dict whose only key is a tag's key: the key gets ``__`` appended, so it is not read
    back as a tagged value."""

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        if not isinstance(value, dict) or len(value) != 1:
            return False
        return next(iter(value)) in self.serializer.tags

    def to_json(self, value: t.Any) -> t.Any:
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: t.Any) -> t.Any:
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Any other dict: its values are tagged."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return {key: tag(item) for key, item in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """A tuple, as a list of its tagged items."""

    __slots__ = ()
    key = " t"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        return tuple(value)


class PassList(JSONTag):
    """A list: its items are tagged."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, base64-encoded."""

    __slots__ = ()
    key = " b"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: t.Any) -> t.Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """Anything with an ``__html__`` method, read back as :class:`markupsafe.Markup`."""

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        return Markup(value)


class TagUUID(JSONTag):
    """A :class:`uuid.UUID`, as its hex digits."""

    __slots__ = ()
    key = " u"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: t.Any) -> t.Any:
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """A :class:`datetime.datetime`, as an HTTP date (UTC, to the second)."""

    __slots__ = ()
    key = " d"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: t.Any) -> t.Any:
        return http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        return parse_date(value)


class TaggedJSONSerializer:
    """``dumps``/``loads`` with tags for the types JSON lacks. Add a type by registering a
    :class:`JSONTag` subclass with :meth:`register`."""

    #: The tags every serializer starts with, in the order they are tried.
    default_tags: list[type[JSONTag]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        for tag_class in self.default_tags:
            self.register(tag_class)
        self._decoder = json.JSONDecoder(object_hook=self.untag)
        # With only the built-in tags, plain JSON data is its own tagged form (see dumps).
        self._plain_is_tagged = (
            type(self).tag is TaggedJSONSerializer.tag
            and self.default_tags == TaggedJSONSerializer.default_tags
        )

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag. ``index`` places it earlier in the order tags are tried (a subclass of
        a type with a tag must come before it); ``force`` replaces a tag with the same key
        instead of raising :class:`KeyError`."""
        tag = tag_class(self)
        if tag.key:
            if tag.key in self.tags and not force:
                raise KeyError(f"Tag '{tag.key}' is already registered.")
            self.tags[tag.key] = tag
        self._plain_is_tagged = False  # a new tag may take plain values
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: t.Any) -> t.Any:
        """The JSON-ready form of ``value``: the first tag that takes it converts it."""
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """The inverse of :meth:`tag` for one decoded JSON object."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        return tag.to_python(value[key]) if tag is not None else value

    def dumps(self, value: t.Any) -> str:
        """``value`` as compact tagged JSON with sorted keys."""
        if not (self._plain_is_tagged and _is_plain(value, self.tags)):
            value = self.tag(value)
        return _ENCODER.encode(value)

    def loads(self, value: str | bytes) -> t.Any:
        """The value back from :meth:`dumps`'s JSON."""
        if isinstance(value, (bytes, bytearray)):  # as json.loads reads bytes
            value = value.decode(json.detect_encoding(value), "surrogatepass")
        return self._decoder.decode(value)


def _is_plain(value: t.Any, tags: dict[str, JSONTag]) -> bool:
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
