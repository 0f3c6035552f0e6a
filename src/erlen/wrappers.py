"""The ``Request`` and ``Response`` objects, on werkzeug's sans-IO wrappers.

Nothing is parsed until asked for. The protocol adapters build a :class:`Request` from a WSGI
environ or an ASGI scope and hand it a *body opener*; the body is read only when the view reads
``stream``, ``data``, ``form``, ``files`` or JSON, and the size limits apply while it is read.
"""

from __future__ import annotations

import io
import json as _stdlib_json
import typing as t
from collections.abc import AsyncIterable, Callable, Iterable, Iterator

from werkzeug.datastructures import (
    CombinedMultiDict,
    EnvironHeaders,
    FileStorage,
    Headers,
    ImmutableMultiDict,
    MultiDict,
)
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.sansio.request import Request as SansIORequest
from werkzeug.sansio.response import Response as SansIOResponse

# werkzeug's, not functools': before Python 3.12 that one holds a lock shared by all instances
# while it computes, and computing a body attribute may wait for the body to arrive.
from werkzeug.utils import cached_property

from ._speedups import ENABLED as _SPEEDUPS
from ._speedups.cached_attribute import plain_cached_properties
from ._speedups.headers import RequestHeaders, WSGIRequestHeaders, decoded_headers
from ._speedups.response_init import STATUS_LINES, init_for_bytes, init_headers_and_status
from .globals import _cv_app
from .response_headers import check_cookie_domain

if t.TYPE_CHECKING:
    from datetime import datetime, timedelta

    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.exceptions import HTTPException
    from werkzeug.formparser import FormDataParser
    from werkzeug.routing import Rule

    from .typing import Scope

#: Opens the body of the request given as a file-like object, given the maximum length to allow.
BodyOpener = Callable[["Request", int | None], t.IO[bytes]]
#: What a request came over: the URL scheme, the server's host and port, the root path the app
#: is mounted under, the query string and the client's address.
Connection = tuple[str, "tuple[str, int | None] | None", str, bytes, "str | None"]
#: Headers before they are parsed: an ASGI scope's pairs, or a WSGI environ.
RawHeaders = Iterable[tuple[bytes, bytes]] | dict[str, t.Any]


#: The names of the fields of a :data:`Connection`, in order.
_CONNECTION_FIELDS = ("scheme", "server", "root_path", "query_string", "remote_addr")
FieldT = t.TypeVar("FieldT")


class _ConnectionField(t.Generic[FieldT]):
    """A field of the request's :data:`Connection`: read from the request's scope or environ
    when one is first used (most requests use none), settable (proxy handling sets some)."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @t.overload
    def __get__(self, request: None, owner: type) -> _ConnectionField[FieldT]: ...

    @t.overload
    def __get__(self, request: Request, owner: type) -> FieldT: ...

    def __get__(self, request: Request | None, owner: type) -> FieldT | _ConnectionField[FieldT]:
        if request is None:
            return self
        fields = request.__dict__
        if self.name not in fields:
            # A field set before the others were read (by proxy handling) is kept.
            connection = request._read_connection(request)
            for name, value in zip(_CONNECTION_FIELDS, connection, strict=True):
                fields.setdefault(name, value)
        return t.cast(FieldT, fields[self.name])

    def __set__(self, request: Request, value: FieldT) -> None:
        request.__dict__[self.name] = value


class Request(SansIORequest):
    """The incoming request, available as :data:`erlen.request` during a request.

    Besides werkzeug's URL, header and cookie accessors, it carries the routing result
    (:attr:`url_rule`, :attr:`view_args`, :attr:`endpoint`, :attr:`blueprint`) and reads the body
    lazily with the app's limits (``MAX_CONTENT_LENGTH``, ``MAX_FORM_MEMORY_SIZE``,
    ``MAX_FORM_PARTS``).
    """

    #: The matched rule, or ``None`` when matching failed.
    url_rule: Rule | None = None
    #: The values the URL rule captured, or ``None`` when matching failed.
    view_args: dict[str, t.Any] | None = None
    #: The error raised by URL matching (404, 405, a redirect), kept until dispatch.
    routing_exception: HTTPException | None = None
    #: Whether this is a WebSocket handshake (:class:`erlen.websockets.WebSocket`).
    is_websocket = False

    #: The form parser (:class:`erlen.formparser.FormDataParser` when ``None``).
    form_data_parser_class: type[FormDataParser] | None = None
    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None
    _cached_data: bytes | None = None
    _raw_headers: RawHeaders | None = None
    # Whether the body was opened (stream, form, files): what release_resources closes.
    _body_opened = False

    def __init__(
        self,
        method: str,
        path: str,
        headers: Headers | RawHeaders,
        connection: Callable[[Request], Connection],
        body: BodyOpener | None = None,
        environ: WSGIEnvironment | Callable[[Request], WSGIEnvironment] | None = None,
        scope: Scope | None = None,
    ) -> None:
        """``path``: under the root path; ``connection``: reads the :data:`Connection` fields
        from the request's scope or environ, when one of them is first used (most requests
        use none); ``environ``: the WSGI environ, or what makes one from the request on
        first use. (The adapters pass all positionally: keywords cost a dict per request.)"""
        # Deliberately not calling the base __init__: it would build the headers eagerly.
        self.method = method
        self.path = path
        if isinstance(headers, Headers):
            self._headers: Headers | None = headers
        else:
            self._headers = None
            self._raw_headers = headers
        self._read_connection = connection
        self._open_body = body
        self._environ = environ
        #: The ASGI scope, when the request came through an ASGI server.
        self.scope = scope

    # --- the connection: read on first use, settable (proxies) ---------------------------------

    scheme = _ConnectionField[str]("The URL scheme (``http``, ``https``; ``ws``, ``wss``).")
    server = _ConnectionField["tuple[str, int | None] | None"](
        "The server's host and port (the port ``None`` if unknown), or ``None``."
    )
    root_path = _ConnectionField[str]("The prefix the app is mounted under, no trailing slash.")
    query_string = _ConnectionField[bytes]("The part of the URL after ``?``, as bytes.")
    remote_addr = _ConnectionField["str | None"](
        "The client's address (the nearest proxy's, unless ``TRUSTED_PROXIES`` trusts it)."
    )

    @property
    def headers(self) -> Headers:
        """The request headers (case-insensitive)."""
        headers = self._headers
        if headers is None:
            raw = self._raw_headers or ()
            if isinstance(raw, dict):  # a WSGI environ: the headers are read from it on demand
                headers = self._headers = _ENVIRON_HEADERS(raw)
            else:
                headers = self._headers = _PAIR_HEADERS(raw)
        return headers

    @headers.setter
    def headers(self, value: Headers) -> None:
        self._headers = value

    @property
    def environ(self) -> WSGIEnvironment:
        """The WSGI environ (under ASGI, an equivalent built from the scope on first use)."""
        environ = self._environ
        if callable(environ):
            environ = self._environ = environ(self)
        if environ is None:
            environ = self._environ = {}
        return environ

    # --- routing ------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule (``"blog.post"``), or ``None``."""
        rule = self.url_rule
        return rule.endpoint if rule is not None else None

    @property
    def blueprint(self) -> str | None:
        """The dotted name of the blueprint that owns the matched endpoint, or ``None``."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The matched blueprint and its parents, innermost first."""
        rule = self.url_rule
        if rule is None or "." not in rule.endpoint:  # (the common case, read per hook)
            return []
        parts = rule.endpoint.rpartition(".")[0].split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    @property
    def script_root(self) -> str:
        """Alias for :attr:`root_path`: the prefix the app is mounted under."""
        return self.root_path

    @cached_property
    def url_root(self) -> str:
        """Alias for :attr:`root_url`."""
        return self.root_url

    # --- limits -------------------------------------------------------------------------------

    def _app_limit(self, key: str) -> int | None:
        ctx = _cv_app.get()
        return ctx.app.config[key] if ctx is not None else None

    @property
    def max_content_length(self) -> int | None:
        """The largest body accepted (``MAX_CONTENT_LENGTH``); settable for this request."""
        if self._max_content_length is not None:
            return self._max_content_length
        return self._app_limit("MAX_CONTENT_LENGTH")

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        """The largest non-file form field accepted (``MAX_FORM_MEMORY_SIZE``)."""
        if self._max_form_memory_size is not None:
            return self._max_form_memory_size
        return self._app_limit("MAX_FORM_MEMORY_SIZE")

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property
    def body_read_timeout(self) -> float | None:
        """Seconds an ASGI body may stall between chunks before a 408 (``BODY_READ_TIMEOUT``)."""
        ctx = _cv_app.get()
        timeout: float | None = ctx.app.config["BODY_READ_TIMEOUT"] if ctx else None
        return timeout

    @property
    def max_form_parts(self) -> int | None:
        """The most multipart parts accepted (``MAX_FORM_PARTS``)."""
        if self._max_form_parts is not None:
            return self._max_form_parts
        return self._app_limit("MAX_FORM_PARTS")

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    # --- body ---------------------------------------------------------------------------------

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query string's parameters; more than ``MAX_QUERY_PARAMETERS`` is a 400."""
        limit = self._app_limit("MAX_QUERY_PARAMETERS")
        if limit and self.query_string.count(b"&") >= limit:
            raise BadRequest(f"Too many query parameters (the limit is {limit}).")
        try:
            return super().args
        except UnicodeDecodeError:  # raw bytes that are not UTF-8 (browsers %-encode them)
            raise BadRequest("The query string is not valid UTF-8.") from None

    @cached_property
    def stream(self) -> t.IO[bytes]:
        """The raw body as a file, limited to :attr:`max_content_length` (413 beyond it)."""
        self._body_opened = True
        if self._open_body is None:
            return io.BytesIO()
        return self._open_body(self, self.max_content_length)

    @t.overload
    def get_data(
        self,
        cache: bool = True,
        as_text: t.Literal[False] = False,
        parse_form_data: bool = False,
    ) -> bytes: ...

    @t.overload
    def get_data(
        self, cache: bool = True, *, as_text: t.Literal[True], parse_form_data: bool = False
    ) -> str: ...

    @t.overload
    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str: ...

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """The whole body as bytes (or text with ``as_text``), read once and cached."""
        data = self._cached_data
        if data is None:
            if parse_form_data:
                self._load_form_data()
            data = self.stream.read()
            if cache:
                self._cached_data = data
        return data.decode(errors="replace") if as_text else data

    @cached_property
    def data(self) -> bytes:
        """The body as bytes, when it is not form data (form data goes to :attr:`form`)."""
        return self.get_data(parse_form_data=True)

    @property
    def want_form_data_parsed(self) -> bool:
        """Whether the content type is one that :attr:`form` parses."""
        return self.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded")

    def make_form_data_parser(self) -> FormDataParser:
        """The parser of form bodies, with this request's limits."""
        from .formparser import FormDataParser  # imported on the first form body

        parser_class = self.form_data_parser_class or FormDataParser
        return parser_class(
            max_form_memory_size=self.max_form_memory_size,
            max_content_length=self.max_content_length,
            max_form_parts=self.max_form_parts,
            cls=self.parameter_storage_class,
        )

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        empty = self.parameter_storage_class
        if self.want_form_data_parsed:
            cached = self._cached_data
            source = io.BytesIO(cached) if cached is not None else self.stream
            parsed = self.make_form_data_parser().parse(
                source, self.mimetype, self.content_length, self.mimetype_params
            )
            if None in parsed[1] or None in parsed[2]:
                # werkzeug keys a part without a name (RFC 7578 requires one) as None, which
                # breaks sorting and JSON: such parts are dropped.
                parsed = (parsed[0], _named(parsed[1], empty), _named(parsed[2], empty))
        else:
            parsed = (self.stream, empty(), empty())
        self._body_opened = True
        self.__dict__["stream"], self.__dict__["form"], self.__dict__["files"] = parsed

    @cached_property
    def form(self) -> ImmutableMultiDict[str, str]:
        """Fields of a url-encoded or multipart body (file fields are in :attr:`files`)."""
        self._load_form_data()
        return t.cast("ImmutableMultiDict[str, str]", self.__dict__["form"])

    @cached_property
    def files(self) -> ImmutableMultiDict[str, FileStorage]:
        """Uploaded files of a multipart body."""
        self._load_form_data()
        return t.cast("ImmutableMultiDict[str, FileStorage]", self.__dict__["files"])

    @cached_property
    def values(self) -> CombinedMultiDict[str, str]:
        """:attr:`args` and :attr:`form` combined (``form`` only for non-GET requests)."""
        sources = [self.args]
        if self.method != "GET":
            sources.append(self.form)
        return CombinedMultiDict(sources)

    # --- JSON ---------------------------------------------------------------------------------

    @property
    def json(self) -> t.Any:
        """The parsed JSON body; 415 if the content type is not JSON, 400 if it does not parse."""
        return self.get_json()

    _json_cache: tuple[t.Any, t.Any] = (Ellipsis, Ellipsis)

    @property
    def is_json(self) -> bool:
        """Whether the content type is JSON: ``application/json`` or ``application/*+json``."""
        # The common value answers without werkzeug's parse of the type and its parameters.
        return self.headers.get("Content-Type") == "application/json" or super().is_json

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> t.Any:
        """Parse the body as JSON.

        ``force`` ignores the content type; ``silent`` returns ``None`` instead of raising.
        """
        cached = self._json_cache[silent]
        if cache and cached is not Ellipsis:
            return cached
        if not (force or self.is_json):
            return None if silent else self.on_json_loading_failed(None)
        data = self.get_data(cache=cache)
        try:
            result = self._json_loads(data)
        except ValueError as error:
            result = None if silent else self.on_json_loading_failed(error)
        if cache:
            normal, quiet = self._json_cache
            self._json_cache = (result, quiet) if not silent else (normal, result)
        return result

    def _json_loads(self, data: bytes) -> t.Any:
        ctx = _cv_app.get()
        limit = ctx.app.config["MAX_JSON_DEPTH"] if ctx is not None else None
        try:
            value = ctx.app.json.loads(data) if ctx is not None else _stdlib_json.loads(data)
        except RecursionError:
            raise BadRequest("The JSON body is nested too deeply.") from None
        # Depth needs a bracket per level: count them (fast) before walking the value.
        if limit and data.count(b"[") + data.count(b"{") > limit and _depth(value) > limit:
            raise BadRequest(f"The JSON body is nested deeper than {limit} levels.")
        return value

    def on_json_loading_failed(self, error: ValueError | None) -> t.Any:
        """Called when JSON cannot be loaded; raises 415 or 400 (with details in debug mode)."""
        if error is None:
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request"
                " Content-Type was not 'application/json'."
            )
        ctx = _cv_app.get()
        if ctx is not None and ctx.app.debug:
            raise BadRequest(f"Failed to decode JSON object: {error}")
        raise BadRequest("The request body is not valid JSON.")

    def close(self) -> None:
        """Close uploaded files and the body stream, if they were opened."""
        self.release_resources()

    def release_resources(self) -> None:
        """What :meth:`close` does; the request context calls this at teardown."""
        if not self._body_opened:  # (most requests: and reading __dict__ would make one)
            return
        files = self.__dict__.get("files")
        for _key, value in files.items(multi=True) if files else ():
            value.close()
        stream = self.__dict__.get("stream")
        if stream is not None:
            stream.close()


# Read at the cost of a plain attribute once computed (see erlen._speedups.cached_attribute).
plain_cached_properties(Request)


class Response(SansIOResponse):
    """The outgoing response. Views may return one, or anything :meth:`Erlen.make_response`
    turns into one (str, bytes, dict, list, a generator, a tuple with status and headers).

    ``response`` is the body: a list of chunks, or an iterator or async iterator that is streamed.
    """

    response: Iterable[bytes | str] | AsyncIterable[bytes | str]
    _on_close: list[Callable[[], t.Any]]

    default_mimetype: str | None = "text/html"

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """Cookies larger than this get a warning (``MAX_COOKIE_SIZE``; 0 for none)."""
        ctx = _cv_app.get()
        return int(ctx.app.config["MAX_COOKIE_SIZE"]) if ctx is not None else 4093

    #: Werkzeug's default for ``Location`` headers; erlen sends relative locations as given.
    autocorrect_location_header = False

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: timedelta | int | None = None,
        expires: str | datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Set a cookie (werkzeug's ``set_cookie``). A ``domain`` that is not a host name is
        refused with :class:`ValueError` (werkzeug quotes ``path`` and checks ``samesite``)."""
        check_cookie_domain(domain)
        super().set_cookie(
            key, value, max_age, expires, path, domain, secure, httponly, samesite, partitioned
        )

    def __init__(
        self,
        response: Iterable[bytes | str]
        | AsyncIterable[bytes | str]
        | str
        | bytes
        | bytearray
        | None = None,
        status: int | str | None = None,
        headers: Headers | t.Mapping[str, t.Any] | Iterable[tuple[str, t.Any]] | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        if (
            _SPEEDUPS
            and headers is None
            and content_type is None
            and (type(response) is str or type(response) is bytes)
            and (status := status or self.default_status) in STATUS_LINES
        ):
            # The common case (a view's string, a JSON body, an error page).
            data = response.encode() if type(response) is str else response
            mimetype = mimetype or self.default_mimetype or "text/plain"
            init_for_bytes(self, len(data), status, mimetype)
            self.direct_passthrough = direct_passthrough
            self._on_close = []
            self.response = [data]
            return
        if _SPEEDUPS:
            init_headers_and_status(self, status, headers, mimetype, content_type)
        else:
            super().__init__(status, headers, mimetype, content_type)
        self.direct_passthrough = direct_passthrough
        self._on_close = []
        if response is None:
            self.response = []
        elif isinstance(response, (str, bytes, bytearray)):
            self.set_data(response)
        else:
            self.response = response

    @property
    def is_streamed(self) -> bool:
        """Whether the body is produced while it is sent (an iterator, not a list)."""
        return not isinstance(self.response, (list, tuple))

    @property
    def is_sequence(self) -> bool:
        """Whether the body is a list or tuple of chunks, fully known in advance."""
        return isinstance(self.response, (list, tuple))

    @t.overload
    def get_data(self, as_text: t.Literal[False] = False) -> bytes: ...

    @t.overload
    def get_data(self, as_text: t.Literal[True]) -> str: ...

    @t.overload
    def get_data(self, as_text: bool = False) -> bytes | str: ...

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The whole body (bytes, or text with ``as_text``); a streamed body is consumed."""
        body = self.response
        if isinstance(body, AsyncIterable):
            raise RuntimeError("The body is an async iterator; iterate it to read it.")
        if not isinstance(body, (list, tuple)):
            close = getattr(body, "close", None)
            body = self.response = list(body)
            if close is not None:  # the iterator (an open file) is still closed with the response
                self._on_close.append(close)
        data = b"".join(encode_chunk(chunk) for chunk in body)
        return data.decode() if as_text else data

    def set_data(self, value: bytes | str | bytearray) -> None:
        """Replace the body with ``value`` and set ``Content-Length``."""
        data = value.encode() if isinstance(value, str) else bytes(value)
        self.response = [data]
        self.headers["Content-Length"] = str(len(data))

    data = property(get_data, set_data, doc="The body as bytes.")

    def iter_encoded(self) -> Iterator[bytes]:
        """The body chunks as bytes."""
        body = self.response
        if isinstance(body, AsyncIterable):
            raise RuntimeError("The body is an async iterator; iterate it to read it.")
        return (encode_chunk(chunk) for chunk in body)

    @property
    def json(self) -> t.Any:
        """The body parsed as JSON (for tests), or ``None`` if it is not JSON."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False) -> t.Any:
        """Parse the body as JSON."""
        if not (force or self.is_json):
            if silent:
                return None
            raise BadRequest("The response is not JSON.")
        try:
            return _stdlib_json.loads(self.get_data())
        except ValueError:
            if silent:
                return None
            raise

    def call_on_close(self, func: Callable[[], t.Any]) -> Callable[[], t.Any]:
        """Run ``func`` once the response has been sent."""
        self._on_close.append(func)
        return func

    def close(self) -> None:
        """Close the body iterator and run the :meth:`call_on_close` functions."""
        close = getattr(self.response, "close", None)
        if close is not None:
            close()
        for func in self._on_close:
            func()


#: The classes of request headers: werkzeug's own when the speedups are off.
_ENVIRON_HEADERS: type[EnvironHeaders] = WSGIRequestHeaders if _SPEEDUPS else EnvironHeaders
_PAIR_HEADERS: Callable[[Iterable[tuple[bytes, bytes]]], Headers] = (
    RequestHeaders if _SPEEDUPS else decoded_headers
)


def _depth(value: t.Any) -> int:
    """How deeply lists and dicts nest in ``value`` (iteratively: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def _named(items: t.Any, cls: t.Any) -> t.Any:
    """``items`` (a form or files multidict) without the parts that had no name."""
    return cls([(key, value) for key, value in items.items(multi=True) if key is not None])


def sends_no_body(response: Response, method: str) -> bool:
    """Whether the body must not be sent: a HEAD request, or a 1xx, 204 or 304 status (RFC
    9110). A 1xx or 204 response also loses its ``Content-Length``, which those forbid."""
    code = response.status_code
    if code < 200 or code == 204:
        response.headers.pop("Content-Length", None)
        return True
    return code == 304 or method == "HEAD"


def encode_chunk(chunk: bytes | str | bytearray) -> bytes:
    """A body chunk as bytes (text is UTF-8)."""
    return chunk.encode() if isinstance(chunk, str) else bytes(chunk)
