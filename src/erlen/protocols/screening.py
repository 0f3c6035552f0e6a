"""Requests refused before the app sees them: header fields past erlen's limits, and a body
whose length is ambiguous.

Servers differ in what they let through (uvicorn and granian hand on a 64 KiB header; h11, under
uvicorn and hypercorn, hands on a request with both ``Content-Length`` and
``Transfer-Encoding``), so erlen checks for itself, the same way on both protocols:

- ``MAX_HEADER_COUNT``: the fields ``request.headers`` holds. Under ASGI each line the client
  sent counts; a WSGI server joins the lines of a repeated field into one, which counts once.
  One more than the limit: 431.
- ``MAX_HEADER_SIZE``: the bytes of those fields' names and values. Over it: 431.
- Framing: ``Content-Length`` beside ``Transfer-Encoding``, a ``Content-Length`` that is not
  a number, or more than one: 400 with ``Connection: close``. A proxy in front may have read the
  body by the other header; whatever the server would read after the body (a request smuggled
  inside it) is never answered, since the connection closes.
"""

from __future__ import annotations

import operator
import typing as t

from werkzeug.exceptions import BadRequest, HTTPException, RequestHeaderFieldsTooLarge

from ..security import add_security_headers

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..app import Erlen
    from ..config import Config
    from ..typing import Scope
    from ..wrappers import Response

_FRAMING = frozenset({b"content-length", b"transfer-encoding"})


class AmbiguousFraming(BadRequest):
    """A request whose body length two readers could read differently; the connection closes
    after the answer."""

    description = (
        "The request's length is ambiguous: Content-Length with Transfer-Encoding, or a"
        " Content-Length that is repeated or not a number."
    )


def refusal(app: Erlen, error: HTTPException, scheme: str) -> Response:
    """The answer to a request refused before the app sees it: the error page, with the
    default security headers as every response of the app has them."""
    response = app.make_response(error)
    add_security_headers(app, None, response, scheme)
    if isinstance(error, AmbiguousFraming):
        response.headers["Connection"] = "close"
    return response


#: What a request's headers announce of its body: whether one comes, and its length if known.
Announced = tuple[bool, "int | None"]
_NO_BODY: Announced = (False, None)
_STREAMED_BODY: Announced = (True, None)


def screen_scope(config: Config, scope: Scope) -> tuple[HTTPException | None, Announced]:
    """The refusal an ASGI request's header lines earn (or ``None``), and what they announce
    of the body, so that the body reads no header again."""
    headers: t.Sequence[tuple[bytes, bytes]] = scope["headers"]
    count_limit = config["MAX_HEADER_COUNT"]
    if count_limit and len(headers) > count_limit:
        return _too_many(count_limit), _NO_BODY
    size = 0
    framing: list[tuple[bytes, bytes]] | None = None
    for name, value in headers:
        size += len(name) + len(value)
        if name in _FRAMING:
            if framing is None:
                framing = []
            framing.append((name, value))
    size_limit = config["MAX_HEADER_SIZE"]
    if size_limit and size > size_limit:
        return _too_large(size_limit), _NO_BODY
    return _unframed(scope) if framing is None else _framing(framing)


def announced_body(scope: Scope) -> Announced:
    """What the headers of ``scope`` announce of the body (an ambiguous length: no body)."""
    framing = [(name, value) for name, value in scope["headers"] if name in _FRAMING]
    return (_framing(framing) if framing else _unframed(scope))[1]


_UNFRAMED_HTTP1: tuple[None, Announced] = (None, _NO_BODY)
_UNFRAMED_HTTP2: tuple[None, Announced] = (None, _STREAMED_BODY)


def _unframed(scope: Scope) -> tuple[None, Announced]:
    """What a request without Content-Length or Transfer-Encoding announces: under HTTP/1, no
    body; HTTP/2 and 3 frame the body themselves, so one may still come."""
    http1 = scope.get("http_version", "1.1") in ("1.0", "1.1")
    return _UNFRAMED_HTTP1 if http1 else _UNFRAMED_HTTP2


def _framing(framing: list[tuple[bytes, bytes]]) -> tuple[HTTPException | None, Announced]:
    """The refusal of an ambiguous length, and what the headers announce of the body, from
    their Content-Length and Transfer-Encoding lines (``framing``, at least one)."""
    lengths = [value for name, value in framing if name == b"content-length"]
    if not lengths:  # Transfer-Encoding alone
        chunked = any(b"chunked" in value.lower() for _name, value in framing)
        return None, _STREAMED_BODY if chunked else _NO_BODY
    if (
        len(lengths) > 1
        or not lengths[0].isdigit()  # bytes: ASCII digits only
        or len(lengths) < len(framing)  # a Transfer-Encoding too
    ):
        return AmbiguousFraming(), _NO_BODY
    length = int(lengths[0])
    return None, (length > 0, length)


def screen_environ(config: Config, environ: WSGIEnvironment) -> HTTPException | None:
    """The refusal a WSGI request's headers earn, or ``None``."""
    count_limit = config["MAX_HEADER_COUNT"]
    size_limit = config["MAX_HEADER_SIZE"]
    if count_limit or size_limit:
        values, fields, names = _shapes.get(tuple(environ)) or _learn_shape(environ)
        sent = values(environ)  # the HTTP_ values, then the CONTENT_ ones
        # Only past the limit, the exact count: an empty CONTENT_TYPE or CONTENT_LENGTH is no
        # field (an upper bound decides every other request at no cost).
        if (
            count_limit
            and len(sent) > count_limit
            and len(sent) - sent[fields:].count("") > count_limit
        ):
            return _too_many(count_limit)
        if size_limit and names + len("".join(sent)) > size_limit:
            return _too_large(size_limit)
    # A WSGI server joins repeated Content-Length values with a comma: not a number either.
    length = environ.get("CONTENT_LENGTH")
    if length and (
        not (length.isdigit() and length.isascii()) or environ.get("HTTP_TRANSFER_ENCODING")
    ):
        return AmbiguousFraming()
    return None


_CONTENT_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")
# What an environ's keys say of its header fields: a getter of their values (the HTTP_ ones,
# then the CONTENT_ ones), how many HTTP_ ones there are, and the bytes of the names (the
# CONTENT_ ones count whether or not they are empty).
_Shape = tuple[t.Callable[["WSGIEnvironment"], tuple[str, ...]], int, int]
# By the environ's keys in order: a server builds its environs alike, so requests from one kind
# of client share an entry, and measuring costs a lookup and a few calls in C instead of a loop
# in Python over every key.
_shapes: dict[tuple[str, ...], _Shape] = {}
_MAX_SHAPES = 256


def _learn_shape(environ: WSGIEnvironment) -> _Shape:
    fields = [key for key in environ if key.startswith("HTTP_")]
    content = [key for key in _CONTENT_KEYS if key in environ]
    keys = (*fields, *content)
    names = sum(len(key) - 5 for key in fields) + sum(map(len, content))
    shape = (_values_getter(keys), len(fields), names)
    if len(_shapes) >= _MAX_SHAPES:  # many kinds of clients: start afresh
        _shapes.clear()
    _shapes[tuple(environ)] = shape
    return shape


def _values_getter(keys: tuple[str, ...]) -> t.Callable[[WSGIEnvironment], tuple[str, ...]]:
    """A getter of the values of ``keys`` as a tuple (an itemgetter, for two keys or more)."""
    if len(keys) > 1:
        return operator.itemgetter(*keys)
    if not keys:
        return lambda environ: ()
    key = keys[0]  # (one header: Host alone, which HTTP/1.1 requires, is common)
    return lambda environ: (environ[key],)


def _too_many(limit: int) -> HTTPException:
    return RequestHeaderFieldsTooLarge(f"More than {limit} header fields.")


def _too_large(limit: int) -> HTTPException:
    return RequestHeaderFieldsTooLarge(f"The header fields are over {limit} bytes.")
