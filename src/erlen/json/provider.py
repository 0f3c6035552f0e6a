"""JSON providers: how an app turns Python values into JSON and back (``app.json``)."""

from __future__ import annotations

import codecs
import dataclasses
import decimal
import json
import typing as t
import uuid
from datetime import date
from json.encoder import encode_basestring_ascii

from werkzeug.http import http_date as werkzeug_http_date

from .._speedups import ENABLED as _SPEEDUPS
from .._speedups.http_date import http_date
from .._speedups.json_encode import compact_encoder

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..wrappers import Response


class JSONProvider:
    """The interface of ``app.json``. Subclass it to use another JSON library, then set
    ``app.json_provider_class`` (or assign ``app.json``)."""

    def __init__(self, app: Erlen) -> None:
        self._app = app

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string."""
        raise NotImplementedError

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse a JSON string or bytes."""
        raise NotImplementedError

    def _prepare_response_obj(self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> t.Any:
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """A JSON response of the positional argument, several as a list, or keywords as a dict."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


#: Dates in JSON are HTTP dates, formatted by werkzeug when the speedups are off.
_http_date: t.Callable[[date], str] = http_date if _SPEEDUPS else werkzeug_http_date


def _default(o: t.Any) -> t.Any:
    if isinstance(o, date):
        return _http_date(o)
    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """JSON with the standard library. Also serializes dates (as HTTP dates), ``Decimal``,
    ``UUID``, dataclasses and objects with ``__html__``."""

    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)
    #: Escape non-ASCII characters (safe to embed anywhere).
    ensure_ascii = True
    #: Sort object keys, so equal data gives equal bytes (good for caches).
    sort_keys = True
    #: ``None``: compact unless the app is in debug mode; ``True``/``False`` to force.
    compact: bool | None = None
    mimetype = "application/json"

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        return json.loads(s, **kwargs)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        if (self.compact is None and self._app.debug) or self.compact is False:
            text = self.dumps(obj, indent=2, separators=(",", ": "))
        elif type(self).dumps is DefaultJSONProvider.dumps:
            text = self._compact_encode()(obj)
        else:  # a subclass's own dumps decides
            text = self.dumps(obj, separators=(",", ":"))
        return self._app.response_class(f"{text}\n", mimetype=self.mimetype)

    _compact: tuple[tuple[t.Any, ...], t.Callable[[t.Any], str]] | None = None

    def _compact_encode(self) -> t.Callable[[t.Any], str]:
        """What ``dumps(obj, separators=(",", ":"))`` does, made once per settings: building
        an encoder per call, as ``json.dumps`` with options does, costs as much as encoding a
        small document."""
        settings = (self.default, self.ensure_ascii, self.sort_keys)
        cached = self._compact
        if cached is None or cached[0] != settings:
            cached = self._compact = (settings, compact_encoder(*settings))
        return cached[1]


#: The ``dumps`` keyword arguments orjson can honour; any other goes to the standard library.
_ORJSON_DUMPS_KWARGS = frozenset({"default", "sort_keys", "ensure_ascii", "indent", "separators"})
#: Maps the ASCII digits to "0" and any other byte to a space, to find long runs of digits fast.
_DIGITS_TABLE = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
#: 19 digits in a row: possibly an integer orjson would turn into a float (it keeps 64 bits).
_LONG_DIGIT_RUN = b"0" * 19


def _may_hold_big_int(s: str | bytes) -> bool:
    data = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else bytes(s)
    return _LONG_DIGIT_RUN in data.translate(_DIGITS_TABLE)


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    # A codec error handler: the run of non-ASCII characters as JSON \uXXXX escapes (a run
    # holds no quote or backslash, so nothing else changes).
    assert isinstance(error, UnicodeEncodeError)
    return encode_basestring_ascii(error.object[error.start : error.end])[1:-1], error.end


codecs.register_error("erlen.json_escape", _json_escape)


def _ascii_only(data: bytes) -> bytes:
    """UTF-8 JSON with its non-ASCII characters escaped, as ``ensure_ascii`` writes them."""
    return data if data.isascii() else data.decode().encode("ascii", "erlen.json_escape")


class OrjsonProvider(DefaultJSONProvider):
    """:class:`DefaultJSONProvider` with `orjson <https://github.com/ijl/orjson>`_ doing the work:
    ``pip install "erlen[fast]"``, then ``app.json_provider_class = OrjsonProvider`` (before
    creating the app, on a subclass, or assign ``app.json = OrjsonProvider(app)``).

    The rules are the default provider's: dates as HTTP dates, ``UUID`` and ``Decimal`` as
    strings, dataclasses as objects, ``__html__``, ``sort_keys``, ``ensure_ascii`` and the
    compact or (in debug mode) indented responses. Differences: ``dumps()`` is compact by
    default (no spaces after ``,`` and ``:``), NaN and infinities become ``null``, and enums
    are written as their value. What orjson cannot do (other ``dumps`` options, keys that are not
    strings, integers over 64 bits, a namedtuple, ``loads`` options or input orjson rejects)
    goes to the standard library, so results and errors stay the same.
    """

    def __init__(self, app: Erlen) -> None:
        super().__init__(app)
        try:
            import orjson
        except ImportError as error:
            raise ImportError(
                'OrjsonProvider needs orjson: pip install "erlen[fast]" (or orjson).'
            ) from error
        self._orjson = orjson

    def _orjson_dumps(self, obj: t.Any, kwargs: dict[str, t.Any], option: int = 0) -> bytes | None:
        """``obj`` as JSON bytes, or ``None`` when only the standard library can do it."""
        if not _ORJSON_DUMPS_KWARGS.issuperset(kwargs):
            return None
        orjson = self._orjson
        indent = kwargs.get("indent")
        separators = kwargs.get("separators")
        if indent is None:
            if separators is not None and tuple(separators) != (",", ":"):
                return None
        elif indent == 2 and (separators is None or tuple(separators) == (",", ": ")):
            option |= orjson.OPT_INDENT_2
        else:
            return None
        option |= orjson.OPT_PASSTHROUGH_DATETIME  # dates go to default(): HTTP dates
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        try:
            data: bytes = orjson.dumps(
                obj, default=kwargs.get("default", self.default), option=option
            )
        except TypeError:  # orjson.JSONEncodeError: the standard library decides
            return None
        return _ascii_only(data) if kwargs.get("ensure_ascii", self.ensure_ascii) else data

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        data = self._orjson_dumps(obj, kwargs)
        if data is not None:
            return data.decode()
        if kwargs.get("indent") is None:
            kwargs.setdefault("separators", (",", ":"))
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        if kwargs or _may_hold_big_int(s):
            return super().loads(s, **kwargs)
        try:
            return self._orjson.loads(s)
        except self._orjson.JSONDecodeError:  # NaN, other encodings...: as the stdlib says
            return super().loads(s)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        indented = (self.compact is None and self._app.debug) or self.compact is False
        data = self._orjson_dumps(
            obj, {"indent": 2} if indented else {}, self._orjson.OPT_APPEND_NEWLINE
        )
        if data is None:
            return super().response(*args, **kwargs)
        return self._app.response_class(data, mimetype=self.mimetype)
