"""Request headers without an exception per miss (nor, under ASGI, a decode per pair),
response headers set without lower-casing every name, and werkzeug's list of header pairs.

Upstream: werkzeug's ``Headers`` of the pairs decoded (:func:`decoded_headers`), its
``get``, ``__contains__``, ``__getitem__`` and ``getlist`` (for :class:`RequestHeaders`);
``EnvironHeaders.get``, ``__contains__`` and ``getlist`` (for :class:`WSGIRequestHeaders`);
``Headers.set`` (for :class:`ResponseHeaders`).
werkzeug answers ``get`` and ``in`` by raising and catching a ``KeyError`` when the header is
absent, and absent headers are the common case on the hot path (``Origin`` and
``Sec-Fetch-Site`` for the cross-site check of every POST from a non-browser client): these
subclasses look up without an exception, and the pairs of an ASGI request are only decoded
when werkzeug's own code needs them. Everything else is werkzeug's.

The functions at the end read and write werkzeug's storage of a ``Headers``, ``_list`` (the
(name, value) tuples in order): ``header_pairs``, ``add_trusted_pairs``, ``replace_pairs`` and
``trusted_headers``. Upstream, which they are when the speedups are off: ``list(headers)``,
``Headers.extend``, ``clear`` then ``extend``, and ``Headers(pairs)``, which check every value
for line breaks (the pairs given here are erlen's own, or were checked already).
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable
from operator import attrgetter

from werkzeug.datastructures import EnvironHeaders, Headers
from werkzeug.exceptions import BadRequestKeyError

from . import ENABLED

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

_ENVIRON_NAMES = {"CONTENT_TYPE", "CONTENT_LENGTH"}


class _NoRaiseOnMiss(Headers):
    """``get`` and ``in`` through :meth:`_find`, which returns ``None`` for an absent header;
    a ``type`` conversion or a key that is not a string goes to werkzeug."""

    def _find(self, key: str) -> str | None:
        raise NotImplementedError

    def get(  # type: ignore[override]
        self,
        key: t.Any,
        default: t.Any = None,
        type: t.Any = None,
    ) -> t.Any:
        if type is not None or not isinstance(key, str):
            return super().get(key, default, type)
        value = self._find(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return super().__contains__(key)  # type: ignore[operator]
        return self._find(key) is not None


class RequestHeaders(_NoRaiseOnMiss):
    """The headers of a request that came as (name, value) byte pairs (an ASGI scope),
    decoded (latin-1) when werkzeug's code first needs them all: a lookup by name reads the
    pairs as they came and decodes the value it finds. Decoded, the pairs are taken as they
    are: werkzeug checks each value for a line break, once per pair and request, where the
    server's parser has already split the header lines (a value with one is refused by
    werkzeug, kept here; a response header it reaches is refused by
    :mod:`erlen.response_headers`)."""

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        # (Not werkzeug's __init__: it sets _list, decoded here on first use.)
        self._raw = raw if type(raw) is list else list(raw)
        self._decoded: list[tuple[str, str]] | None = None

    # werkzeug's storage, made on first use; read-only: werkzeug assigns it only in its
    # __init__, which this class does not call.
    @property
    def _list(self) -> list[tuple[str, str]]:  # type: ignore[override]
        decoded = self._decoded
        if decoded is None:
            decoded = self._decoded = [
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in self._raw
            ]
        return decoded

    def _find(self, key: str) -> str | None:
        encoded = self._raw_name(key)
        if encoded:
            if self._lower_case:  # (the common case: then an equal name is the match)
                for name, value in self._raw:
                    if name == encoded:
                        return value.decode("latin-1")
                return None
            for name, value in self._raw:
                if name.lower() == encoded:
                    return value.decode("latin-1")
            return None
        # (decoded: werkzeug's methods may have changed the pairs since; a lower-cased name
        # that is not ASCII may also be longer: "İ" is "i̇")
        wanted = key.lower()
        return next((value for name, value in self._list if name.lower() == wanted), None)

    def getlist(self, key: t.Any, type: t.Any = None) -> list[t.Any]:
        # werkzeug's decodes every pair (request.cookies reads the Cookie lines this way).
        encoded = self._raw_name(key) if type is None and isinstance(key, str) else b""
        if not encoded:
            return super().getlist(key, type)
        if self._lower_case:
            return [value.decode("latin-1") for name, value in self._raw if name == encoded]
        return [value.decode("latin-1") for name, value in self._raw if name.lower() == encoded]

    #: Whether every name came lower case (found on the first lookup by name).
    _lower_case: bool | None = None

    def _raw_name(self, key: str) -> bytes:
        """``key`` as the lower-case bytes to find among the pairs as they came; ``b""`` when
        they are decoded already or the key is not ASCII (then werkzeug's way applies). An
        ASGI server's names are lower case; another name matches when its bytes lower-cased
        do, since no latin-1 letter over 127 lower-cases to ASCII."""
        if self._decoded is not None:
            return b""
        encoded = _ascii_names.get(key)
        if encoded is None:
            encoded = _ascii_name(key)
        if self._lower_case is None:
            self._lower_case = _lower_case(self._raw)
        return encoded

    def __getitem__(self, key: t.Any) -> t.Any:
        if isinstance(key, str):
            value = self._find(key)
            if value is None:
                raise BadRequestKeyError(key)
            return value
        if isinstance(key, slice):  # (werkzeug's makes one of this class, from decoded pairs)
            return Headers(self._list[key])
        return super().__getitem__(key)

    def copy(self) -> Headers:  # type: ignore[override]  # (upstream's class, not ours)
        """A copy, as werkzeug's ``Headers`` of the decoded pairs gives: a ``Headers``."""
        return Headers(self._list)


def _lower_case(raw: list[tuple[bytes, bytes]]) -> bool:
    for name, _value in raw:  # noqa: SIM110 (a loop: all() of a generator costs more)
        if not name.islower() and name.lower() != name:  # (b"1": no letter, not islower)
            return False
    return True


# Lookup keys (header names asked for) as lower-case ASCII bytes, b"" when not ASCII: the
# names asked for repeat, from request to request.
_ascii_names: dict[str, bytes] = {}


def _ascii_name(key: str) -> bytes:
    wanted = key.lower()
    encoded = wanted.encode() if wanted.isascii() else b""
    if len(_ascii_names) < 1000:  # keep the first 1,000 names
        _ascii_names[key] = encoded
    return encoded


def decoded_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Upstream of :class:`RequestHeaders`: werkzeug's ``Headers`` of the pairs decoded."""
    return Headers([(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw])


# type: ignore: werkzeug's ImmutableHeadersMixin and Headers disagree on update/extend typing.
class WSGIRequestHeaders(_NoRaiseOnMiss, EnvironHeaders):  # type: ignore[misc]
    """The headers of a request that came as a WSGI environ, read from it on demand."""

    def __init__(self, environ: WSGIEnvironment) -> None:
        # What werkzeug's __init__ does, less its call into Headers.__init__ (once per request).
        self._list = []
        self.environ = environ

    def _find(self, key: str) -> str | None:
        value: str | None = self.environ.get(_environ_key(key))
        return value

    def getlist(self, key: t.Any, type: t.Any = None) -> list[t.Any]:
        # werkzeug's walks the whole environ; a WSGI environ holds one value per header. (It
        # matches "x_a" to no header, where get() finds X-A: such names stay werkzeug's.)
        if type is not None or not isinstance(key, str) or "_" in key:
            return super().getlist(key, type)
        name = _environ_key(key)
        value = self.environ.get(name)
        if value is None or (not value and name in _ENVIRON_NAMES):
            return []  # an empty CONTENT_TYPE or CONTENT_LENGTH means no header
        return [value]


def _environ_key(name: str) -> str:
    key = _environ_keys.get(name)
    if key is None:
        key = name.upper().replace("-", "_")
        key = key if key in _ENVIRON_NAMES else f"HTTP_{key}"
        if len(_environ_keys) < 1000:  # header names repeat; keep the first 1,000
            _environ_keys[name] = key
    return key


_environ_keys: dict[str, str] = {}


class ResponseHeaders(Headers):
    """werkzeug's ``Headers`` for responses, whose ``set`` (and ``headers[name] = value``) of a
    string value under an ASCII name, what views and ``after_request`` hooks do, compares only
    the names of the same length (an ASCII name lower-cases to one of its own length, and no
    other name lower-cases to ASCII of another length), not each one lower-cased, and looks
    for a line break without a regular expression."""

    def set(self, key: str, value: t.Any, /, **kwargs: t.Any) -> None:
        if kwargs or type(key) is not str or type(value) is not str:
            return super().set(key, value, **kwargs)
        wanted = key.lower()
        if not wanted.isascii():
            return super().set(key, value)
        if "\n" in value or "\r" in value:
            raise ValueError("Header values must not contain newline characters.")
        pairs = self._list
        size = len(wanted)
        for index, (name, _value) in enumerate(pairs):
            if len(name) == size and name.lower() == wanted:
                pairs[index] = (key, value)  # the first one replaced, the others removed
                pairs[index + 1 :] = [
                    pair
                    for pair in pairs[index + 1 :]
                    if not (len(pair[0]) == size and pair[0].lower() == wanted)
                ]
                return None
        pairs.append((key, value))
        return None

    def __eq__(self, other: object) -> bool:
        # werkzeug compares headers of one class only: these equal its Headers as they would.
        if type(other) is not Headers and type(other) is not ResponseHeaders:
            return NotImplemented
        return _lowered(self) == _lowered(other)

    __hash__ = None  # (mutable, as werkzeug's)


def _lowered(headers: Headers) -> set[tuple[str, ...]]:
    """What werkzeug compares of two headers: the set of pairs, names lower-cased."""
    return {(name.lower(), *rest) for name, *rest in header_pairs(headers)}


def _extend_list(headers: Headers, pairs: Iterable[tuple[str, str]]) -> None:
    headers._list.extend(pairs)


def _replace_list(headers: Headers, pairs: list[tuple[str, str]]) -> None:
    headers._list = pairs


def _trusted_headers(pairs: list[tuple[str, str]]) -> Headers:
    headers = ResponseHeaders.__new__(ResponseHeaders)
    headers._list = pairs
    return headers


def _replace_checked(headers: Headers, pairs: list[tuple[str, str]]) -> None:
    headers.clear()
    headers.extend(pairs)


#: The (name, value) pairs of a ``Headers``, in order (the list the object keeps: do not change
#: it, use the functions below).
header_pairs: Callable[[Headers], list[tuple[str, str]]] = attrgetter("_list") if ENABLED else list
#: Append pairs to a ``Headers`` unchecked: erlen made them, or checked them already.
add_trusted_pairs: Callable[[Headers, Iterable[tuple[str, str]]], None] = (
    _extend_list if ENABLED else Headers.extend
)
#: Make a list of pairs taken from a ``Headers`` (so checked) its whole content.
replace_pairs: Callable[[Headers, list[tuple[str, str]]], None] = (
    _replace_list if ENABLED else _replace_checked
)
#: A ``Headers`` of pairs erlen made itself (no CR or LF possible), unchecked.
trusted_headers: Callable[[list[tuple[str, str]]], Headers] = (
    _trusted_headers if ENABLED else Headers
)
