"""What may leave in a response header, and a redirect target that is always a valid one.

RFC 9110 (§5.1, §5.5): a field name is a token; a field value is visible ASCII, spaces, tabs
and obs-text (bytes 0x80 to 0xFF), never CR, LF, NUL or another control character. werkzeug
refuses CR and LF when a header is set through its API; erlen checks every response once it is
final, on both protocols, so that nothing else reaches the wire either: not NUL, not a character
latin-1 cannot encode (some servers would keep only its low byte, a CR or LF), not a name with a
colon. A header that fails makes the request an error (a 500 in production, logged with the
header's name); the response is never sent.
"""

from __future__ import annotations

import contextlib
import re
import typing as t
from urllib.parse import quote

from werkzeug.urls import iri_to_uri

from ._speedups.headers import header_pairs, replace_pairs

if t.TYPE_CHECKING:
    from werkzeug.datastructures import Headers

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")
# Pairs already found safe: most repeat from response to response (the content type, the
# security headers), so each is checked once. Bounded in count and in the length kept.
_checked: set[tuple[str, str]] = set()
_MAX_CHECKED = 4096
_MAX_CHECKED_VALUE = 256


class UnsafeHeaderError(ValueError):
    """A response header that must not be sent: a name that is not a token, or a value with a
    control character (CR, LF, NUL...) or a character outside latin-1."""


def refuse_unsafe_headers(headers: Headers) -> None:
    """Raise :class:`UnsafeHeaderError` naming the first header of ``headers`` that must not
    be sent; each pair found safe is remembered, so a response of known pairs costs a lookup
    per header."""
    checked = _checked
    for pair in header_pairs(headers):
        if pair not in checked:
            _check(pair)
            if len(checked) < _MAX_CHECKED and len(pair[1]) <= _MAX_CHECKED_VALUE:
                checked.add(pair)


def _check(pair: tuple[t.Any, t.Any]) -> None:
    name, value = pair
    if (
        type(name) is not str
        or _TOKEN.fullmatch(name) is None
        or type(value) is not str
        or _FORBIDDEN_IN_VALUE.search(value) is not None
    ):
        raise UnsafeHeaderError(
            f"The response header {name!r} cannot be sent: its name is not a token, or its value"
            " has a control character (CR, LF, NUL...) or a character outside latin-1. Remove"
            " the character, or percent-encode it (redirect() does that for URLs)."
        )


def drop_unsafe_headers(headers: Headers) -> None:
    """Remove every header that must not be sent (from an error page, which must go out)."""
    kept = []
    for pair in header_pairs(headers):
        try:
            _check(pair)
        except UnsafeHeaderError:
            continue
        kept.append(pair)
    replace_pairs(headers, kept)


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# A port is kept as Flask keeps it (browsers ignore such a cookie); it adds no attribute.
_COOKIE_DOMAIN = re.compile(rf"\.?{_LABEL}(?:\.{_LABEL})*\.?(?::[0-9]+)?")


def check_cookie_domain(domain: str | None) -> None:
    """Raise :class:`ValueError` unless ``domain`` is a host name (non-ASCII names are taken in
    their IDNA form): a ``;`` or a control character in it would add cookie attributes of the
    attacker's choosing (``Domain=example.com; SameSite=None``)."""
    if domain is None:
        return
    try:
        ascii_form = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_form = ""
    if _COOKIE_DOMAIN.fullmatch(ascii_form) is None:
        raise ValueError(
            f"The cookie domain {domain!r} is not a host name: a domain may hold letters,"
            " digits, hyphens and dots only."
        )


def location_value(location: str) -> str:
    """``location`` as a valid ``Location`` value: non-ASCII characters (an IRI), spaces and
    control characters percent-encoded, as browsers send them."""
    if _is_valid_location(location):
        return location
    with contextlib.suppress(ValueError):  # an authority urllib cannot split (a bad port)
        location = iri_to_uri(location)
    if _is_valid_location(location):
        return location
    # What iri_to_uri leaves (a control character in the host): encoded as it stands.
    return quote(location, safe="!#$%&'()*+,/:;=?@[]~")


def _is_valid_location(location: str) -> bool:
    return location.isascii() and location.isprintable() and " " not in location
