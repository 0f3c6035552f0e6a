"""The production settings an app lacks or sets unsafely, as ``erlen deploy-check`` lists them.

Run it before each deployment, with the configuration production uses (the same environment
variables and instance files)::

    ERLEN_APP=blog erlen deploy-check

or from code (a test of the deployment configuration, for example)::

    from erlen.deploy_checks import run_checks

    assert not [finding for finding in run_checks(app) if finding.level == "error"]

Each finding has an id (``erlen.E001``), a level (``error``: the app must not serve like this;
``warning``: a defence is off; ``info``: worth knowing), what is wrong and what to set.
"""

from __future__ import annotations

import dataclasses
import typing as t

from .sessions import refuse_weak_secret_key

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from .app import Erlen

Level = t.Literal["error", "warning", "info"]


@dataclasses.dataclass(frozen=True)
class Finding:
    """One unsafe or missing production setting."""

    id: str
    level: Level
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.id} ({self.level}): {self.message} {self.fix}"


def run_checks(app: Erlen) -> list[Finding]:
    """The findings for ``app`` as it is configured now, errors first."""
    findings = [finding for check in _CHECKS for finding in check(app)]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda finding: (order[finding.level], finding.id))


def _secret_key(app: Erlen) -> Iterator[Finding]:
    key = app.secret_key
    if not key:
        yield Finding(
            "erlen.E001",
            "error",
            "SECRET_KEY is not set: sessions, flashed messages and CSRF tokens cannot be signed.",
            "Set SECRET_KEY to a long random value (python -c 'import secrets;"
            " print(secrets.token_hex())'), from the environment (ERLEN_SECRET_KEY) or an"
            " instance file.",
        )
        return
    try:
        refuse_weak_secret_key(key)
    except RuntimeError as error:
        yield Finding("erlen.E002", "error", str(error), "The app refuses to serve with it.")


def _debug(app: Erlen) -> Iterator[Finding]:
    if app.debug:
        yield Finding(
            "erlen.E003",
            "error",
            "DEBUG is on: tracebacks and the interactive debugger are shown to any client.",
            "Do not set ERLEN_DEBUG or DEBUG in production.",
        )
    if app.testing:
        yield Finding(
            "erlen.W001",
            "warning",
            "TESTING is on: errors propagate and the weak-key and host checks are off.",
            "Leave TESTING unset in production.",
        )


def _hosts(app: Erlen) -> Iterator[Finding]:
    config = app.config
    if not config["TRUSTED_HOSTS"] and not config["SERVER_NAME"]:
        yield Finding(
            "erlen.W002",
            "warning",
            "Neither TRUSTED_HOSTS nor SERVER_NAME is set: any Host header is answered, and"
            " url_for(..., _external=True) raises UntrustedHostError rather than put a forged"
            " host in a link.",
            "Set TRUSTED_HOSTS = ['example.com'] (other hosts get a 400), or SERVER_NAME.",
        )
    if not config["TRUSTED_PROXIES"]:
        yield Finding(
            "erlen.I001",
            "info",
            "TRUSTED_PROXIES is 0: the client address and scheme are the connection's. Behind"
            " a proxy, https is not seen (no Secure session cookie, no HSTS).",
            "Behind a proxy, set TRUSTED_PROXIES to the number of proxies in front of the app.",
        )


def _cookies(app: Erlen) -> Iterator[Finding]:
    config = app.config
    if config["SESSION_COOKIE_SECURE"] is False:
        yield Finding(
            "erlen.W003",
            "warning",
            "SESSION_COOKIE_SECURE is False: the session cookie is sent over plain http too.",
            "Leave it unset (Secure on https requests) or set it to True.",
        )
    if not config["SESSION_COOKIE_HTTPONLY"]:
        yield Finding(
            "erlen.W004",
            "warning",
            "SESSION_COOKIE_HTTPONLY is off: scripts (an injected one too) can read the session.",
            "Set SESSION_COOKIE_HTTPONLY = True.",
        )
    if config["SESSION_COOKIE_SAMESITE"] is None:
        yield Finding(
            "erlen.W005",
            "warning",
            "SESSION_COOKIE_SAMESITE is None: browsers send the session with cross-site requests.",
            "Set SESSION_COOKIE_SAMESITE = 'Lax' (or 'Strict').",
        )


def _headers(app: Erlen) -> Iterator[Finding]:
    config = app.config
    if not config["HSTS"]:
        yield Finding(
            "erlen.W006",
            "warning",
            "HSTS is off: a browser may still reach the site over plain http.",
            "Once every page works over https: HSTS = 'max-age=31536000; includeSubDomains'.",
        )
    if not config["CONTENT_SECURITY_POLICY"]:
        yield Finding(
            "erlen.W007",
            "warning",
            "CONTENT_SECURITY_POLICY is off: an injected script would run.",
            "Set CONTENT_SECURITY_POLICY, e.g. \"default-src 'self'; script-src 'self'"
            " 'nonce-{nonce}'; object-src 'none'\".",
        )
    headers = {name.lower(): value for name, value in (config["SECURITY_HEADERS"] or {}).items()}
    for name in ("X-Content-Type-Options", "X-Frame-Options"):
        if headers.get(name.lower()) is None:
            yield Finding(
                "erlen.W008",
                "warning",
                f"SECURITY_HEADERS leaves out {name}.",
                f"Keep erlen's default value of {name} in SECURITY_HEADERS.",
            )


def _requests(app: Erlen) -> Iterator[Finding]:
    config = app.config
    if not config["CROSS_SITE_PROTECTION"]:
        yield Finding(
            "erlen.W009",
            "warning",
            "CROSS_SITE_PROTECTION is off: other sites can post forms to this one (CSRF).",
            "Set CROSS_SITE_PROTECTION = True; exempt single views with cross_site_exempt.",
        )
    if not config["MAX_CONTENT_LENGTH"]:
        yield Finding(
            "erlen.W010",
            "warning",
            "MAX_CONTENT_LENGTH is off: a client can send a body of any size.",
            "Set MAX_CONTENT_LENGTH (16 MiB by default); raise it per view where needed.",
        )
    if config["SEND_FILE_ALLOW_DOTFILES"]:
        yield Finding(
            "erlen.W011",
            "warning",
            "SEND_FILE_ALLOW_DOTFILES is on: .env and .git/ under a static folder are served.",
            "Set SEND_FILE_ALLOW_DOTFILES = False.",
        )


_CHECKS: tuple[Callable[[Erlen], Iterator[Finding]], ...] = (
    _secret_key,
    _debug,
    _hosts,
    _cookies,
    _headers,
    _requests,
)
