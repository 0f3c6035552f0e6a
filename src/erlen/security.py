"""Security defaults that run in the pipeline, and helpers for views.

- Cross-site request protection: a browser's unsafe request (POST, PUT, PATCH, DELETE) from
  another site is refused with 403, judged by ``Sec-Fetch-Site``, else by ``Origin`` against the
  request's host. Clients that send neither (curl, servers) pass. No token is needed in modern
  browsers; ``CSRF_TOKEN_CHECK`` adds one for old ones.
- Default response headers (``SECURITY_HEADERS``, ``HSTS``, ``CONTENT_SECURITY_POLICY``).
- ``TRUSTED_HOSTS`` and proxy trust by hop count (``TRUSTED_PROXIES``).
- :func:`is_safe_redirect_url` and :func:`safe_redirect` for user-supplied "next" URLs.
"""

from __future__ import annotations

import hmac
import secrets
import typing as t
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from werkzeug.exceptions import BadRequest, Forbidden
from werkzeug.sansio.utils import host_is_trusted

from ._speedups.headers import add_trusted_pairs, header_pairs
from .globals import _cv_request, current_app, session

if t.TYPE_CHECKING:
    from .app import Erlen
    from .blueprints import Blueprint
    from .concurrency import Invoker
    from .wrappers import Request, Response

#: A view function or a blueprint (anything that can carry the exemption).
ExemptT = t.TypeVar("ExemptT", bound="Callable[..., t.Any] | Blueprint")

#: Methods that must not change state, so are never checked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: The form field and the header that carry the token in ``CSRF_TOKEN_CHECK`` mode.
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


# --- cross-site request protection --------------------------------------------------------------


def cross_site_exempt(view_or_blueprint: ExemptT) -> ExemptT:
    """Exempt a view function (or every view of a blueprint) from cross-site protection, for
    endpoints that other sites may post to, such as webhooks."""
    view_or_blueprint.cross_site_exempt = True  # type: ignore[union-attr]
    return view_or_blueprint


def check_cross_site(app: Erlen, request: Request, invoke: Invoker) -> Awaitable[t.Any] | None:
    """Refuse (403) an unsafe request that a browser sent from another site. In
    ``CSRF_TOKEN_CHECK`` mode, returns the check of the session's token, to await (``None``
    otherwise: most requests need no coroutine)."""
    # A WebSocket handshake is a GET, but a cross-site one could act as the user.
    if request.method in SAFE_METHODS and not request.is_websocket:
        return None
    headers = request.headers
    origin = headers.get("Origin")
    if origin is not None and origin in app.config["TRUSTED_ORIGINS"]:
        return None
    fetch_site = headers.get("Sec-Fetch-Site")
    refusal: str | None = None
    if fetch_site is not None:
        if fetch_site not in ("same-origin", "none"):
            refusal = "Cross-site request refused: this request came from another site."
    elif origin is not None and not _same_origin(origin, request):
        refusal = "Cross-site request refused: the Origin does not match this site."
    check_token = app.config["CSRF_TOKEN_CHECK"]
    # An exempt view is looked up only when it decides: most requests are same-site, or from
    # a client that is no browser, and pass anyway.
    if (refusal is None and not check_token) or _is_exempt(app, request):
        return None
    if refusal is not None:
        raise Forbidden(refusal)
    # Through the invoker: the token may be a form field, and reading the body blocks (in a
    # worker thread under ASGI, where the loop cannot wait for it).
    return invoke(_check_token, request)


def _is_exempt(app: Erlen, request: Request) -> bool:
    endpoint = request.endpoint
    view = app.view_functions.get(endpoint) if endpoint is not None else None
    if getattr(view, "cross_site_exempt", False):
        return True
    blueprints = request.blueprints
    return bool(blueprints) and any(
        getattr(app.blueprints.get(name), "cross_site_exempt", False) for name in blueprints
    )


def _same_origin(origin: str, request: Request) -> bool:
    try:
        parts = urlsplit(origin)
    except ValueError:  # "http://[" and other unparseable URLs
        return False
    if not parts.scheme or not parts.netloc:
        return False  # "null" (sandboxed documents, file: URLs) or garbage
    # A WebSocket page's Origin is http(s), the handshake's own scheme ws(s).
    scheme = {"ws": "http", "wss": "https"}.get(request.scheme, request.scheme)
    return parts.scheme == scheme and parts.netloc.lower() == request.host.lower()


def csrf_token() -> str:
    """The session's token for ``CSRF_TOKEN_CHECK`` mode; put it in forms as a hidden
    ``csrf_token`` field, or send it in the ``X-CSRF-Token`` header."""
    token = session.get("_csrf_token")
    if not isinstance(token, str):
        token = session["_csrf_token"] = secrets.token_urlsafe(32)
    return token


def _check_token(request: Request) -> None:
    expected = session.get("_csrf_token")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not (isinstance(expected, str) and given and hmac.compare_digest(expected, given)):
        raise Forbidden("The form's security token is missing or wrong. Reload the page and retry.")


# --- response headers ---------------------------------------------------------------------------


def add_security_headers(
    app: Erlen, request: Request | None, response: Response, scheme: str = "http"
) -> None:
    """Add the configured default headers that the response does not set itself. ``request``
    is ``None`` for a response made before there is one (a request the adapter refused), and
    ``scheme`` is then the connection's."""
    config = app.config
    defaults, default_pairs = _default_headers(app, config["SECURITY_HEADERS"])
    hsts = config["HSTS"]
    csp = config["CONTENT_SECURITY_POLICY"]
    headers = response.headers
    pairs = header_pairs(headers)
    extra: t.Sequence[tuple[str, str, str]]
    basic = len(pairs) == 2 and pairs[0][0] == "Content-Type" and pairs[1][0] == "Content-Length"
    if hsts is None and csp is None:
        if basic:  # what a response made from a string has: the common case
            add_trusted_pairs(headers, default_pairs)
            return
        extra = defaults
    else:
        extra = added = list(defaults)
        if hsts is not None and (scheme if request is None else request.scheme) == "https":
            added.append(_checked("Strict-Transport-Security", hsts))
        if csp is not None:
            nonce = secrets.token_urlsafe(16) if request is None else csp_nonce()
            nonced = csp.replace("{nonce}", nonce)
            added.append(_checked("Content-Security-Policy", nonced))
    present = _BASIC_HEADERS if basic else {name.lower() for name, _value in pairs}
    add_trusted_pairs(
        headers, [(name, value) for lower, name, value in extra if lower not in present]
    )


_BASIC_HEADERS = frozenset({"content-type", "content-length"})
DefaultHeaders = tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str], ...]]


def _default_headers(app: Erlen, setting: dict[str, str | None]) -> DefaultHeaders:
    """``SECURITY_HEADERS`` checked once per app, again only when the setting changes: as
    (lower-case name, name, value) triples and as the (name, value) pairs to append."""
    cached = app._security_headers
    if cached is None or cached[0] != setting:
        triples = tuple(
            _checked(name, value) for name, value in setting.items() if value is not None
        )
        pairs = tuple((name, value) for _lower, name, value in triples)
        cached = app._security_headers = (dict(setting), (triples, pairs))
    return cached[1]


def _checked(name: str, value: str) -> tuple[str, str, str]:
    if "\n" in value or "\r" in value:
        raise ValueError(f"The {name} header in the configuration has a line break.")
    return name.lower(), name, value


def csp_nonce() -> str:
    """A random value for this request, to allow inline scripts in a Content-Security-Policy:
    ``CONTENT_SECURITY_POLICY = "script-src 'self' 'nonce-{nonce}'"`` and
    ``<script nonce="{{ csp_nonce() }}">`` in templates."""
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError("csp_nonce() needs an active request.")
    nonce: str | None = getattr(ctx, "_csp_nonce", None)
    if nonce is None:
        nonce = ctx._csp_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
    return nonce


# --- hosts and proxies --------------------------------------------------------------------------


def check_host(request: Request, trusted_hosts: list[str]) -> None:
    """400 unless the request's host is in ``trusted_hosts`` (``.example.com`` matches the
    domain and its subdomains)."""
    # The host a trusted proxy forwarded (X-Forwarded-Host, Forwarded) is the one to check.
    host = request.__dict__.get("host") or request.headers.get("Host")
    host = host or (request.server[0] if request.server else "")
    # Host names are case-insensitive; werkzeug's matcher is not.
    if not host_is_trusted(host.lower(), [trusted.lower() for trusted in trusted_hosts]):
        raise BadRequest(f"The host {host[:100]!r} is not served here.")


def _forwarded_value(values: str | None, hops: int) -> str | None:
    # Each proxy appends to the list: with N trusted proxies, the Nth value from the right is
    # the last one a trusted proxy set. Fewer values than hops means the header is forged.
    if not values or hops <= 0:
        return None
    items = [item.strip() for item in values.split(",")]
    return items[-hops] if len(items) >= hops and items[-hops] else None


def _parse_forwarded(header: str | None) -> list[dict[str, str]]:
    """RFC 7239 ``Forwarded``: one dict per proxy (``for``, ``proto``, ``host``)."""
    elements = []
    for element in (header or "").split(","):
        pairs: dict[str, str] = {}
        for pair in element.split(";"):
            key, sep, value = pair.strip().partition("=")
            if sep:
                pairs[key.lower()] = value.strip().strip('"')
        elements.append(pairs)
    return elements


def apply_proxy_headers(request: Request, hops: int | t.Mapping[str, int]) -> None:
    """Take client address, scheme, host, port and prefix from the headers that ``hops``
    trusted proxies set (``X-Forwarded-*``, else ``Forwarded``). ``hops`` is a number for all
    of them, or a mapping such as ``{"for": 1, "proto": 1, "host": 0}``."""
    counts = {key: hops if isinstance(hops, int) else hops.get(key, 0) for key in _KEYS}
    headers = request.headers
    forwarded = _parse_forwarded(headers.get("Forwarded")) if "Forwarded" in headers else []
    found: dict[str, str] = {}
    for key, header in _KEYS.items():
        value = _forwarded_value(headers.get(header), counts[key])
        count = counts[key]
        if value is None and key in ("for", "proto", "host") and 0 < count <= len(forwarded):
            value = forwarded[-count].get(key)
        if value:
            found[key] = value
    if "for" in found:
        request.remote_addr = found["for"]
    if "proto" in found and found["proto"].lower() in ("http", "https", "ws", "wss"):
        request.scheme = found["proto"].lower()
    host = found.get("host")
    if host is not None or "port" in found:
        hostname = (host or request.host).rsplit(":", 1)[0] if "port" in found else host
        full = f"{hostname}:{found['port']}" if "port" in found else str(hostname)
        request.host = full.lower()
    if "prefix" in found:
        request.root_path = found["prefix"].rstrip("/")


_KEYS = {
    "for": "X-Forwarded-For",
    "proto": "X-Forwarded-Proto",
    "host": "X-Forwarded-Host",
    "port": "X-Forwarded-Port",
    "prefix": "X-Forwarded-Prefix",
}


class UntrustedHostError(RuntimeError):
    """Raised by ``url_for(..., _external=True)`` during a request in production (neither debug
    nor testing mode) while neither ``TRUSTED_HOSTS`` nor ``SERVER_NAME`` is set: the URL would
    carry the request's ``Host`` header, which any client can forge, into a password-reset
    link or an email. Set one of them; the error says so."""


def refuse_unvouched_host(app: Erlen) -> None:
    """Raise :class:`UntrustedHostError` unless the host of an absolute URL built from the
    request is one the app vouches for (see there)."""
    config = app.config
    if config["TRUSTED_HOSTS"] or config["SERVER_NAME"] or app.debug or app.testing:
        return
    raise UntrustedHostError(
        "An absolute URL built from this request would carry its Host header, which any client"
        " can forge (a password-reset link pointing at an attacker's site). Set TRUSTED_HOSTS"
        " = ['example.com'] (requests for other hosts then get a 400) or SERVER_NAME ="
        " 'example.com' (URLs are then built with it)."
    )


def screen_request(app: Erlen, request: Request) -> None:
    """The checks that run before URL matching: proxy headers, then the host."""
    config = app.config
    hops = config["TRUSTED_PROXIES"]
    if hops:
        apply_proxy_headers(request, hops)
    trusted = config["TRUSTED_HOSTS"]
    if trusted:
        check_host(request, trusted)


# --- redirects ----------------------------------------------------------------------------------


def is_safe_redirect_url(target: str | None, allowed_hosts: t.Iterable[str] = ()) -> bool:
    """Whether ``target`` (a "next" parameter, say) stays on this site or an allowed host.

    Refuses other hosts, scheme-relative ``//evil.example``, backslash tricks, ``javascript:``
    and other schemes, and control characters.
    """
    if not target or any(ord(char) < 32 or char == "\\" for char in target):
        return False
    try:
        parts = urlsplit(target)
    except ValueError:  # "http://[" and other unparseable URLs
        return False
    if parts.scheme and parts.scheme not in ("http", "https"):
        return False
    if not parts.netloc:
        # Browsers read "///evil.example" (any run of slashes) as "//evil.example".
        return not parts.scheme and target.startswith("/") and not target.startswith("//")
    ctx = _cv_request.get()
    hosts = {*allowed_hosts, *([ctx.request.host] if ctx is not None else [])}
    return parts.netloc.lower() in {host.lower() for host in hosts}


def safe_redirect(
    target: str | None, fallback: str = "/", code: int = 302, allowed_hosts: t.Iterable[str] = ()
) -> Response:
    """A redirect to ``target`` if :func:`is_safe_redirect_url`, else to ``fallback``."""
    location = target if target and is_safe_redirect_url(target, allowed_hosts) else fallback
    return current_app.redirect(location, code)
