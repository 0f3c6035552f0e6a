"""A cookie's ``Set-Cookie`` header, formatted from parts prepared once per set of attributes.

Upstream: ``werkzeug.http.dump_cookie(name, value, expires=expires, max_size=0, **attributes)``.
werkzeug formats and validates every attribute on each call; the session cookie has the same
attributes on every response, so here werkzeug formats them once (the header stays exactly what
``response.set_cookie`` writes) and each call only joins the value and the expiry in.
"""

from __future__ import annotations

import typing as t
from datetime import datetime

from werkzeug.http import dump_cookie
from werkzeug.http import http_date as _werkzeug_http_date

from .http_date import http_date


class CookieFormat:
    """The ``Set-Cookie`` headers of the cookie ``name`` with ``attributes`` (the keyword
    arguments of ``dump_cookie``: domain, path, secure, httponly, samesite, partitioned)."""

    __slots__ = ("_domain", "_rest", "_start")

    def __init__(self, name: str, attributes: dict[str, t.Any]) -> None:
        self._start = dump_cookie(name, max_size=0).partition(";")[0]  # name=
        head = dump_cookie(name, path=None, domain=attributes.get("domain"), max_size=0)
        rest = dump_cookie(name, max_size=0, **{**attributes, "domain": None})
        self._domain = head[len(self._start) :]  # "; Domain=..." (before Expires) or ""
        self._rest = rest[len(self._start) :]  # "; Secure; HttpOnly; Path=/..." (after it)

    def header(self, value: str, expires: datetime | str | float | None) -> str:
        """The header for ``value`` (already in cookie syntax, as a signed session is)."""
        return f"{self._start}{value}{self._domain}{_expires(expires)}{self._rest}"


def _expires(value: datetime | str | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"; Expires={http_date(value)}"
    return f"; Expires={value if isinstance(value, str) else _werkzeug_http_date(value)}"
