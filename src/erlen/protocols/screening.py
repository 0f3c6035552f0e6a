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

import typing as t

from werkzeug.exceptions import BadRequest, HTTPException, RequestHeaderFieldsTooLarge

from ..security import add_security_headers

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..app import Erlen
    from ..config import Config
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


def screen_scope_headers(
    config: Config, headers: t.Sequence[tuple[bytes, bytes]]
) -> HTTPException | None:
    """The refusal an ASGI request's header lines earn, or ``None``."""
    count_limit = config["MAX_HEADER_COUNT"]
    if count_limit and len(headers) > count_limit:
        return _too_many(count_limit)
    size = 0
    framing = False
    for name, value in headers:
        size += len(name) + len(value)
        if name in _FRAMING:
            framing = True
    size_limit = config["MAX_HEADER_SIZE"]
    if size_limit and size > size_limit:
        return _too_large(size_limit)
    if framing and _ambiguous(
        [value for name, value in headers if name == b"content-length"],
        any(name == b"transfer-encoding" for name, _value in headers),
    ):
        return AmbiguousFraming()
    return None


def screen_environ(config: Config, environ: WSGIEnvironment) -> HTTPException | None:
    """The refusal a WSGI request's headers earn, or ``None``."""
    count_limit = config["MAX_HEADER_COUNT"]
    size_limit = config["MAX_HEADER_SIZE"]
    if count_limit or size_limit:
        keys, size, content_keys = _header_keys(environ)
        count = len(keys)
        size += sum(map(len, map(environ.__getitem__, keys)))
        for key in content_keys:  # the two headers without the HTTP_ prefix, when sent
            value = environ[key]
            if value:
                count += 1
                size += len(key) + len(value)
        if count_limit and count > count_limit:
            return _too_many(count_limit)
        if size_limit and size > size_limit:
            return _too_large(size_limit)
    length = environ.get("CONTENT_LENGTH")
    if length and _ambiguous(
        [length.encode("latin-1")], bool(environ.get("HTTP_TRANSFER_ENCODING"))
    ):
        return AmbiguousFraming()
    return None


_CONTENT_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")
# What _header_keys finds: the HTTP_ keys, the bytes of their names, the CONTENT_ keys.
_Shape = tuple[tuple[str, ...], int, tuple[str, ...]]
# By the environ's keys in order: a server builds its environs alike, so requests from one kind
# of client share an entry, and measuring costs a lookup and a sum in C instead of a loop in
# Python over every key.
_shapes: dict[tuple[str, ...], _Shape] = {}
_MAX_SHAPES = 256


def _header_keys(environ: WSGIEnvironment) -> _Shape:
    shape = tuple(environ)
    known = _shapes.get(shape)
    if known is None:
        keys = tuple(key for key in shape if key.startswith("HTTP_"))
        content_keys = tuple(key for key in _CONTENT_KEYS if key in environ)
        known = (keys, sum(len(key) - 5 for key in keys), content_keys)
        if len(_shapes) >= _MAX_SHAPES:  # many kinds of clients: start afresh
            _shapes.clear()
        _shapes[shape] = known
    return known


def _ambiguous(lengths: list[bytes], transfer_encoding: bool) -> bool:
    """Whether these ``Content-Length`` values (a WSGI server joins repeated ones with commas)
    and a ``Transfer-Encoding`` leave the body's length in doubt."""
    if not lengths:
        return False
    return transfer_encoding or len(lengths) > 1 or not lengths[0].strip(b" \t").isdigit()


def _too_many(limit: int) -> HTTPException:
    return RequestHeaderFieldsTooLarge(f"More than {limit} header fields.")


def _too_large(limit: int) -> HTTPException:
    return RequestHeaderFieldsTooLarge(f"The header fields are over {limit} bytes.")
