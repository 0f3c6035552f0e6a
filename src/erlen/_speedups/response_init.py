"""A response's headers and status, set without werkzeug's per-call costs.

Upstream: ``werkzeug.sansio.response.Response.__init__(status, headers, mimetype,
content_type)``. werkzeug builds ``Headers`` by checking every value, tests membership by raising
and catching a ``KeyError``, and parses the status on every call; every response is made this
way, so here a known status is looked up, content types are computed once per mimetype, and the
two headers of a body made from a string are erlen's own (nothing to check).
"""

from __future__ import annotations

import functools
import typing as t
from collections.abc import Iterable

from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.sansio.response import Response
from werkzeug.utils import get_content_type

from .headers import ResponseHeaders, trusted_headers

#: The status line of each status code werkzeug knows.
STATUS_LINES = {code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items()}


@functools.lru_cache(maxsize=64)
def content_type_of(mimetype: str) -> str:
    """``werkzeug.utils.get_content_type(mimetype, "utf-8")``, computed once per mimetype."""
    return get_content_type(mimetype, "utf-8")


def init_for_bytes(response: Response, length: int, status: int, mimetype: str) -> None:
    """Headers and status of ``Response.__init__(status=status, mimetype=mimetype)`` followed by
    setting a body of ``length`` bytes; ``status`` must be in :data:`STATUS_LINES`."""
    response.headers = trusted_headers(
        [("Content-Type", content_type_of(mimetype)), ("Content-Length", str(length))]
    )
    response._status_code, response._status = status, STATUS_LINES[status]


def init_headers_and_status(
    response: Response,
    status: int | str | None,
    headers: Headers | t.Mapping[str, t.Any] | Iterable[tuple[str, t.Any]] | None,
    mimetype: str | None,
    content_type: str | None,
) -> None:
    """What ``Response.__init__(status, headers, mimetype, content_type)`` sets."""
    if headers is None:
        response.headers = ResponseHeaders()
    elif isinstance(headers, Headers):
        response.headers = headers
    else:
        response.headers = ResponseHeaders(headers)
    if content_type is None:
        if mimetype is None and (headers is None or response.headers.get("Content-Type") is None):
            mimetype = response.default_mimetype
        if mimetype is not None:
            content_type = content_type_of(mimetype)
    if content_type is not None:
        response.headers["Content-Type"] = content_type
    if status is None:
        status = response.default_status
    if type(status) is int and status in STATUS_LINES:
        response._status_code, response._status = status, STATUS_LINES[status]
    else:
        response.status = status
