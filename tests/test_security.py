"""The security defaults of docs/security.md, each checked on the WSGI and the ASGI path.

Cross-site protection, token mode, default headers, HSTS and CSP, session cookie flags,
trusted hosts and proxies, request limits, safe redirects, header injection, weak secret keys
and production error pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import typing as t

import pytest
from support.asgi_scopes import http_scope
from support.responses import json_body

from erlen import (
    Blueprint,
    Erlen,
    after_this_request,
    make_response,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
    websocket,
)
from erlen.security import (
    UntrustedHostError,
    cross_site_exempt,
    is_safe_redirect_url,
    safe_redirect,
)
from erlen.testing import ErlenClient, WebSocketRejected
from erlen.wrappers import Response

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ALL_METHODS = [*UNSAFE_METHODS, "GET", "HEAD"]


@pytest.fixture
def views(app: Erlen) -> Erlen:
    """An app with a view accepting every method, an exempt webhook and an exempt blueprint."""

    @app.route("/act", methods=ALL_METHODS)
    def act() -> str:
        return f"done {request.method}"

    @app.post("/hook")
    @cross_site_exempt
    def hook() -> str:
        return "hooked"

    hooks = cross_site_exempt(Blueprint("hooks", __name__, url_prefix="/hooks"))
    inner = Blueprint("inner", __name__, url_prefix="/inner")

    @hooks.post("/ping")
    def ping() -> str:
        return "pong"

    @inner.post("/deep")
    def deep() -> str:
        return "deep"

    hooks.register_blueprint(inner)
    app.register_blueprint(hooks)
    plain = Blueprint("plain", __name__, url_prefix="/plain")

    @plain.post("/act")
    def plain_act() -> str:
        return "plain"

    app.register_blueprint(plain)
    return app


# --- cross-site protection ----------------------------------------------------------------------


@pytest.mark.parametrize("method", UNSAFE_METHODS)
@pytest.mark.parametrize(
    ("fetch_site", "allowed"),
    [
        ("cross-site", False),
        ("same-site", False),
        ("same-origin", True),
        ("none", True),
        ("unknown-value", False),
    ],
)
def test_sec_fetch_site_decides_unsafe_methods(
    views: Erlen, client: ErlenClient, method: str, fetch_site: str, allowed: bool
) -> None:
    response = client.open("/act", method=method, headers={"Sec-Fetch-Site": fetch_site})
    if allowed:
        assert response.status_code == 200
        assert response.data == f"done {method}".encode()
    else:
        assert response.status_code == 403
        assert b"Cross-site request refused" in response.data
        assert b"done" not in response.data


@pytest.mark.parametrize("method", UNSAFE_METHODS)
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost", True),
        ("HTTP://LOCALHOST", True),
        ("http://evil.example", False),
        ("https://localhost", False),  # another scheme is another origin
        ("http://localhost:8080", False),  # another port too
        ("http://localhost.evil.example", False),
        ("null", False),
        ("garbage", False),
        ("", False),
        ("http://", False),
        ("A://[", False),  # unparseable: refused, not a 500
        ("http://[::1", False),
    ],
)
def test_origin_is_checked_without_sec_fetch_site(
    views: Erlen, client: ErlenClient, method: str, origin: str, allowed: bool
) -> None:
    response = client.open("/act", method=method, headers={"Origin": origin})
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("method", UNSAFE_METHODS)
def test_neither_header_passes(views: Erlen, client: ErlenClient, method: str) -> None:
    # curl, other servers: not a browser, so no ambient credentials to abuse.
    response = client.open("/act", method=method)
    assert response.status_code == 200
    assert response.data == f"done {method}".encode()


@pytest.mark.parametrize("method", SAFE_METHODS)
def test_safe_methods_are_never_checked(views: Erlen, client: ErlenClient, method: str) -> None:
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}
    response = client.open("/act", method=method, headers=headers)
    assert response.status_code == 200
    if method == "GET":
        assert response.data == b"done GET"


def test_trusted_origins_may_post(views: Erlen, client: ErlenClient) -> None:
    views.config["TRUSTED_ORIGINS"] = ["https://partner.example"]
    trusted = {"Origin": "https://partner.example", "Sec-Fetch-Site": "cross-site"}
    assert client.post("/act", headers=trusted).status_code == 200
    other = {"Origin": "https://other.example", "Sec-Fetch-Site": "cross-site"}
    assert client.post("/act", headers=other).status_code == 403
    # A trusted origin is matched exactly, not as a prefix.
    prefixed = {"Origin": "https://partner.example.evil", "Sec-Fetch-Site": "cross-site"}
    assert client.post("/act", headers=prefixed).status_code == 403


def test_exempt_view_and_blueprints(views: Erlen, client: ErlenClient) -> None:
    cross = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    assert client.post("/hook", headers=cross).data == b"hooked"
    assert client.post("/hooks/ping", headers=cross).data == b"pong"
    # A blueprint nested in an exempt one is exempt too.
    assert client.post("/hooks/inner/deep", headers=cross).data == b"deep"
    # The exemption does not leak to other views or blueprints.
    assert client.post("/act", headers=cross).status_code == 403
    assert client.post("/plain/act", headers=cross).status_code == 403


def test_protection_can_be_turned_off(views: Erlen, client: ErlenClient) -> None:
    views.config["CROSS_SITE_PROTECTION"] = False
    cross = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    response = client.delete("/act", headers=cross)
    assert response.status_code == 200
    assert response.data == b"done DELETE"


def test_unknown_url_with_cross_site_post_is_still_refused_or_not_found(
    views: Erlen, client: ErlenClient
) -> None:
    response = client.post("/nowhere", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code in (403, 404)


def test_cross_site_websocket_handshake_is_refused(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        await websocket.send("hello")

    for origin in ("http://evil.example", "null"):
        with (
            pytest.raises(WebSocketRejected) as excinfo,
            client.websocket("/ws", headers={"Origin": origin}),
        ):
            pytest.fail("a cross-site handshake must be refused")
        assert excinfo.value.status_code == 403
    with (
        pytest.raises(WebSocketRejected) as excinfo,
        client.websocket("/ws", headers={"Sec-Fetch-Site": "cross-site"}),
    ):
        pytest.fail("a cross-site handshake must be refused")
    assert excinfo.value.status_code == 403
    with client.websocket("/ws", headers={"Origin": "http://localhost"}) as session_:
        assert session_.receive() == "hello"


# --- token mode ---------------------------------------------------------------------------------

FORM_TEMPLATE = '<form method=post><input type=hidden name=csrf_token value="{{ csrf_token() }}">'


@pytest.fixture
def token_app(app: Erlen) -> Erlen:
    app.config["CSRF_TOKEN_CHECK"] = True

    @app.get("/form")
    def form() -> str:
        return render_template_string(FORM_TEMPLATE)

    @app.route("/submit", methods=["GET", "POST", "PUT"])
    def submit() -> str:
        return f"accepted {request.method}"

    return app


def _token(client: ErlenClient) -> str:
    page = client.get("/form")
    assert page.status_code == 200
    match = re.search(r'name=csrf_token value="([^"]+)"', page.get_data(as_text=True))
    assert match is not None, page.data
    return match.group(1)


def test_token_mode_missing_token_is_refused(token_app: Erlen, client: ErlenClient) -> None:
    _token(client)  # a session with a token exists; the request just does not send it
    response = client.post("/submit", data={"x": "1"})
    assert response.status_code == 403
    assert b"security token is missing or wrong" in response.data
    assert client.put("/submit").status_code == 403


def test_token_mode_without_a_session_is_refused(token_app: Erlen, client: ErlenClient) -> None:
    assert client.post("/submit", data={"csrf_token": "anything"}).status_code == 403
    assert client.post("/submit", headers={"X-CSRF-Token": ""}).status_code == 403


def test_token_mode_wrong_token_is_refused(token_app: Erlen, client: ErlenClient) -> None:
    token = _token(client)
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.post("/submit", data={"csrf_token": wrong}).status_code == 403
    assert client.post("/submit", headers={"X-CSRF-Token": wrong}).status_code == 403
    assert client.post("/submit", data={"csrf_token": token + "x"}).status_code == 403


def test_token_mode_right_token_in_field_or_header(token_app: Erlen, client: ErlenClient) -> None:
    token = _token(client)
    assert len(token) >= 32
    response = client.post("/submit", data={"csrf_token": token})
    assert (response.status_code, response.data) == (200, b"accepted POST")
    response = client.put("/submit", headers={"X-CSRF-Token": token}, json={"a": 1})
    assert (response.status_code, response.data) == (200, b"accepted PUT")
    # The token stays the same for the session.
    assert _token(client) == token
    # Safe methods need no token.
    assert client.get("/submit").data == b"accepted GET"


def test_token_does_not_override_cross_site_refusal(token_app: Erlen, client: ErlenClient) -> None:
    token = _token(client)
    headers = {"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"}
    assert client.post("/submit", headers=headers).status_code == 403


def test_token_of_another_session_is_refused(token_app: Erlen, protocol: str) -> None:
    first = token_app.test_client(asgi=protocol == "asgi")
    second = token_app.test_client(asgi=protocol == "asgi")
    token = _token(first)
    _token(second)
    assert second.post("/submit", data={"csrf_token": token}).status_code == 403
    assert first.post("/submit", data={"csrf_token": token}).status_code == 200


# --- response headers ---------------------------------------------------------------------------

DEFAULT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


def test_default_headers_on_every_response(app: Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def index() -> str:
        return "hi"

    @app.get("/json")
    def as_json() -> dict[str, int]:
        return {"a": 1}

    for path, status in (("/", 200), ("/json", 200), ("/missing", 404)):
        response = client.get(path)
        assert response.status_code == status
        for name, value in DEFAULT_HEADERS.items():
            assert response.headers.getlist(name) == [value], (path, name)
    refused = client.post("/", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Strict-Transport-Security" not in refused.headers
    assert "Content-Security-Policy" not in refused.headers


def test_view_keeps_its_own_header(app: Erlen, client: ErlenClient) -> None:
    @app.get("/framed")
    def framed() -> tuple[str, dict[str, str]]:
        return "ok", {"x-frame-options": "DENY"}  # any case

    @app.get("/policy")
    def policy() -> Response:
        response = make_response("ok")
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    framed_response = client.get("/framed")
    assert framed_response.headers.getlist("X-Frame-Options") == ["DENY"]
    assert framed_response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/policy").headers.getlist("Referrer-Policy") == ["no-referrer"]


def test_after_request_can_remove_a_default_header(app: Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def index() -> str:
        return "hi"

    @app.get("/embeddable")
    def embeddable() -> str:
        @after_this_request
        def allow_framing(response: Response) -> Response:
            del response.headers["X-Frame-Options"]
            return response

        return "embed me"

    @app.after_request
    def drop_nosniff(response: Response) -> Response:
        response.headers.pop("X-Content-Type-Options", None)
        return response

    response = client.get("/")
    assert "X-Content-Type-Options" not in response.headers
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    embedded = client.get("/embeddable")
    assert "X-Frame-Options" not in embedded.headers
    assert embedded.data == b"embed me"


def test_config_changes_and_drops_default_headers(app: Erlen, client: ErlenClient) -> None:
    app.config["SECURITY_HEADERS"] = {
        **DEFAULT_HEADERS,
        "X-Frame-Options": None,
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=()",
    }

    @app.get("/")
    def index() -> str:
        return "hi"

    response = client.get("/")
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Permissions-Policy"] == "camera=()"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    app.config["SECURITY_HEADERS"] = {}
    bare = client.get("/")
    assert not any(name in bare.headers for name in DEFAULT_HEADERS)


def test_hsts_only_on_https(app: Erlen, client: ErlenClient) -> None:
    app.config["HSTS"] = "max-age=63072000; includeSubDomains"

    @app.get("/")
    def index() -> str:
        return "hi"

    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers.getlist("Strict-Transport-Security") == [
        "max-age=63072000; includeSubDomains"
    ]
    # A forged X-Forwarded-Proto does not make it https without a trusted proxy...
    forged = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers
    # ...but does behind one.
    app.config["TRUSTED_PROXIES"] = 1
    proxied = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_hsts_is_off_by_default(app: Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def index() -> str:
        return "hi"

    assert "Strict-Transport-Security" not in client.get("/", base_url="https://localhost").headers


def test_csp_nonce_matches_header_and_template(app: Erlen, client: ErlenClient) -> None:
    app.config["CONTENT_SECURITY_POLICY"] = "default-src 'self'; script-src 'self' 'nonce-{nonce}'"

    @app.get("/page")
    def page() -> str:
        return render_template_string('<script nonce="{{ csp_nonce() }}">go()</script>')

    @app.get("/own")
    def own() -> tuple[str, dict[str, str]]:
        return "own", {"Content-Security-Policy": "default-src 'none'"}

    nonces = []
    for _ in range(2):
        response = client.get("/page")
        match = re.search(r'<script nonce="([^"]+)">', response.get_data(as_text=True))
        assert match is not None
        nonce = match.group(1)
        assert len(nonce) >= 16
        assert response.headers.getlist("Content-Security-Policy") == [
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'"
        ]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # a fresh nonce per request
    assert client.get("/own").headers.getlist("Content-Security-Policy") == ["default-src 'none'"]


# --- session cookie -----------------------------------------------------------------------------


def _set_cookie(app: Erlen, client: ErlenClient) -> str:
    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        return "in"

    cookies = client.get("/login").headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    return cookies[0]


def test_session_cookie_flags_by_default(app: Erlen, client: ErlenClient) -> None:
    cookie = _set_cookie(app, client)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes


def test_session_cookie_secure_flag(app: Erlen, client: ErlenClient) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    cookie = _set_cookie(app, client)
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


# --- trusted hosts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.com", 200),  # host names are case-insensitive
        ("example.com:8080", 200),
        ("example.org", 200),
        ("www.example.org", 200),
        ("a.b.example.org", 200),
        ("evil.example", 400),
        ("www.example.com", 400),  # no wildcard given for example.com
        ("example.org.evil.example", 400),
        ("evilexample.org", 400),
        ("example.com.", 400),
    ],
)
def test_trusted_hosts(app: Erlen, client: ErlenClient, host: str, status: int) -> None:
    app.config["TRUSTED_HOSTS"] = ["example.com", ".example.org"]

    @app.get("/")
    def index() -> str:
        return "welcome"

    response = client.get("/", headers={"Host": host})
    assert response.status_code == status
    if status == 400:
        assert b"is not served here" in response.data
        assert b"welcome" not in response.data
        assert len(response.data) < 400


def test_trusted_hosts_check_the_forwarded_host(app: Erlen, client: ErlenClient) -> None:
    # Behind a trusted proxy the public host is the forwarded one: it is the one checked.
    app.config.update(TRUSTED_HOSTS=["example.com"], TRUSTED_PROXIES=1)

    @app.get("/")
    def index() -> str:
        return url_for("index", _external=True)

    good = client.get("/", headers={"Host": "example.com", "X-Forwarded-Host": "example.com"})
    assert good.data == b"http://example.com/"
    forged = client.get("/", headers={"Host": "example.com", "X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 400
    assert b"evil.example/" not in forged.data


# --- proxies ------------------------------------------------------------------------------------


@pytest.fixture
def proxy_app(app: Erlen) -> Erlen:
    @app.get("/info")
    def info() -> dict[str, t.Any]:
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "external": url_for("info", _external=True),
            "path": url_for("info"),
        }

    @app.get("/go")
    def go() -> Response:
        return t.cast(Response, redirect(url_for("info", _external=True)))

    @app.get("/go-relative")
    def go_relative() -> Response:
        return t.cast(Response, redirect(url_for("info")))

    return app


FORGED = {
    "X-Forwarded-For": "6.6.6.6",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Port": "4443",
    "X-Forwarded-Prefix": "/evil",
    "Forwarded": 'for=6.6.6.6;proto=https;host="evil.example"',
}


def test_proxy_headers_ignored_by_default(proxy_app: Erlen, client: ErlenClient) -> None:
    info = client.get("/info", headers=FORGED).json
    assert info == {
        "remote_addr": "127.0.0.1",
        "scheme": "http",
        "host": "localhost",
        "external": "http://localhost/info",
        "path": "/info",
    }
    assert client.get("/go", headers=FORGED).headers["Location"] == "http://localhost/info"
    assert client.get("/go-relative", headers=FORGED).headers["Location"] == "/info"


def test_one_trusted_proxy(proxy_app: Erlen, client: ErlenClient) -> None:
    proxy_app.config["TRUSTED_PROXIES"] = 1
    headers = {
        # The client sent the first values itself; the proxy appended the last.
        "X-Forwarded-For": "6.6.6.6, 203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example, www.example.com",
        "X-Forwarded-Prefix": "/app",
    }
    info = client.get("/info", headers=headers).json
    assert info == {
        "remote_addr": "203.0.113.7",
        "scheme": "https",
        "host": "www.example.com",
        "external": "https://www.example.com/app/info",
        "path": "/app/info",
    }
    location = client.get("/go", headers=headers).headers["Location"]
    assert location == "https://www.example.com/app/info"


def test_forwarded_port(proxy_app: Erlen, client: ErlenClient) -> None:
    proxy_app.config["TRUSTED_PROXIES"] = 1
    headers = {"X-Forwarded-Host": "www.example.com", "X-Forwarded-Port": "8443"}
    assert json_body(client.get("/info", headers=headers))["host"] == "www.example.com:8443"


def test_two_trusted_proxies(proxy_app: Erlen, client: ErlenClient) -> None:
    proxy_app.config["TRUSTED_PROXIES"] = 2
    headers = {
        "X-Forwarded-For": "6.6.6.6, 7.7.7.7, 203.0.113.7, 10.0.0.2",
        "X-Forwarded-Host": "evil.example, www.example.com, internal.lan",
        "X-Forwarded-Proto": "http, https, http",
    }
    info = json_body(client.get("/info", headers=headers))
    assert info["remote_addr"] == "203.0.113.7"
    assert info["host"] == "www.example.com"
    assert info["scheme"] == "https"
    assert info["external"] == "https://www.example.com/info"


def test_fewer_values_than_hops_are_ignored(proxy_app: Erlen, client: ErlenClient) -> None:
    proxy_app.config["TRUSTED_PROXIES"] = 2
    headers = {
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
    }
    info = json_body(client.get("/info", headers=headers))
    assert info["remote_addr"] == "127.0.0.1"
    assert info["host"] == "localhost"
    assert info["external"] == "http://localhost/info"


def test_forwarded_header(proxy_app: Erlen, client: ErlenClient) -> None:
    proxy_app.config["TRUSTED_PROXIES"] = 1
    headers = {
        "Forwarded": "for=6.6.6.6;host=evil.example,"
        ' for=203.0.113.7;proto=https;host="www.example.com"'
    }
    info = json_body(client.get("/info", headers=headers))
    assert info["remote_addr"] == "203.0.113.7"
    assert info["scheme"] == "https"
    assert info["external"] == "https://www.example.com/info"
    proxy_app.config["TRUSTED_PROXIES"] = 2
    headers = {
        "Forwarded": "for=6.6.6.6;host=evil.example, for=203.0.113.7;host=www.example.com,"
        " for=10.0.0.2;host=internal.lan"
    }
    info = json_body(client.get("/info", headers=headers))
    assert info["remote_addr"] == "203.0.113.7"
    assert info["external"] == "http://www.example.com/info"


def test_proxy_hops_per_header(proxy_app: Erlen, client: ErlenClient) -> None:
    proxy_app.config["TRUSTED_PROXIES"] = {"for": 1, "proto": 1}
    headers = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Prefix": "/evil",
    }
    info = json_body(client.get("/info", headers=headers))
    assert info["remote_addr"] == "203.0.113.7"
    assert info["external"] == "https://localhost/info"
    assert info["path"] == "/info"


def test_forwarded_proto_must_be_a_web_scheme(proxy_app: Erlen, client: ErlenClient) -> None:
    proxy_app.config["TRUSTED_PROXIES"] = 1
    info = json_body(client.get("/info", headers={"X-Forwarded-Proto": "javascript"}))
    assert info["scheme"] == "http"


# --- limits -------------------------------------------------------------------------------------


@pytest.fixture
def limited_app(app: Erlen) -> Erlen:
    app.config.update(MAX_CONTENT_LENGTH=1000)

    @app.post("/echo")
    def echo() -> dict[str, int]:
        return {"size": len(request.get_data())}

    @app.post("/json")
    def json_view() -> dict[str, str]:
        return {"type": type(request.get_json()).__name__}

    @app.post("/form")
    def form() -> dict[str, int]:
        return {"fields": len(request.form), "files": len(request.files)}

    @app.get("/query")
    def query() -> dict[str, int]:
        return {"count": len(request.args)}

    return app


def test_announced_body_over_the_limit(limited_app: Erlen, client: ErlenClient) -> None:
    assert client.post("/echo", data=b"x" * 1000).json == {"size": 1000}
    response = client.post("/echo", data=b"x" * 1001)
    assert response.status_code == 413


def test_default_body_limit_is_16_mib(app: Erlen, client: ErlenClient) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024

    @app.post("/echo")
    def echo() -> str:
        return str(len(request.get_data()))

    assert client.post("/echo", data=b"x" * (16 * 1024 * 1024 + 1)).status_code == 413


@pytest.mark.parametrize("size", [1000, 1001, 50_000])
def test_chunked_body_over_the_limit(limited_app: Erlen, client: ErlenClient, size: int) -> None:
    # No Content-Length: the limit applies while the body is read.
    response = client.post(
        "/echo",
        input_stream=io.BytesIO(b"x" * size),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    if size <= 1000:
        assert response.json == {"size": size}
    else:
        assert response.status_code == 413


def test_chunked_form_over_the_limit(limited_app: Erlen, client: ErlenClient) -> None:
    response = client.post(
        "/form",
        input_stream=io.BytesIO(b"field=value&" * 200),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_form_parts_and_field_size_limits(limited_app: Erlen, client: ErlenClient) -> None:
    limited_app.config.update(MAX_CONTENT_LENGTH=100_000, MAX_FORM_PARTS=5)
    ok = client.post("/form", data={"a": "1", "b": "2", "f": (io.BytesIO(b"data"), "f.txt")})
    assert ok.json == {"fields": 2, "files": 1}
    fields = {f"k{i}": "v" for i in range(10)}
    many = client.post("/form", data=fields, content_type="multipart/form-data")
    assert many.status_code == 413
    limited_app.config.update(MAX_FORM_PARTS=1000, MAX_FORM_MEMORY_SIZE=1000)
    small = client.post("/form", data={"a": "x" * 100}, content_type="multipart/form-data")
    assert small.json == {"fields": 1, "files": 0}
    big = client.post("/form", data={"a": "x" * 2000}, content_type="multipart/form-data")
    assert big.status_code == 413


def test_json_depth_limit(limited_app: Erlen, client: ErlenClient) -> None:
    limited_app.config["MAX_CONTENT_LENGTH"] = None
    at_limit = b"[" * 64 + b"]" * 64
    assert client.post("/json", data=at_limit, content_type="application/json").json == {
        "type": "list"
    }
    over = b'{"a":' * 65 + b"1" + b"}" * 65
    response = client.post("/json", data=over, content_type="application/json")
    assert response.status_code == 400
    assert b"nested" in response.data
    # Many brackets side by side are not depth.
    wide = b"[" + b",".join([b"[]"] * 500) + b"]"
    assert client.post("/json", data=wide, content_type="application/json").status_code == 200


def test_very_deep_json_is_a_400_not_a_500(limited_app: Erlen, client: ErlenClient) -> None:
    limited_app.config["MAX_CONTENT_LENGTH"] = None
    limited_app.testing = False  # a RecursionError would become a 500 here, not propagate
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"0" + b"}" * 100_000):
        response = client.post("/json", data=body, content_type="application/json")
        assert response.status_code == 400
    unclosed = b"[" * 100_000
    assert client.post("/json", data=unclosed, content_type="application/json").status_code == 400


def test_too_many_query_parameters(limited_app: Erlen, client: ErlenClient) -> None:
    at_limit = "&".join(f"p{i}=1" for i in range(1000))
    assert client.get(f"/query?{at_limit}").json == {"count": 1000}
    response = client.get(f"/query?{at_limit}&one=more")
    assert response.status_code == 400
    assert b"Too many query parameters" in response.data
    limited_app.config["MAX_QUERY_PARAMETERS"] = 3
    assert client.get("/query?a=1&b=2&c=3").json == {"count": 3}
    assert client.get("/query?a=1&b=2&c=3&d=4").status_code == 400


def test_query_string_that_is_not_utf8(limited_app: Erlen, client: ErlenClient) -> None:
    response = client.get("/query", environ_overrides={"QUERY_STRING": "a=\x80\xff"})
    assert response.status_code == 400
    assert b"not valid UTF-8" in response.data
    # %-encoded bytes are fine: they are kept as they were sent.
    assert client.get("/query?a=%80%ff&b=%C3%A9").json == {"count": 2}


def test_multipart_parts_without_a_name_are_dropped(
    limited_app: Erlen, client: ErlenClient
) -> None:
    @limited_app.post("/fields")
    def fields() -> dict[str, t.Any]:
        return {"form": request.form.to_dict(), "files": sorted(request.files)}

    body = (
        b'--b\r\nContent-Disposition: form-data; name="kept"\r\n\r\nyes\r\n'
        b"--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
        b'--b\r\nContent-Disposition: form-data; name="\r"\r\n\r\nbad name\r\n'
        b'--b\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nfile\r\n'
        b"--b--\r\n"
    )
    response = client.post("/fields", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 200
    assert response.json == {"form": {"kept": "yes"}, "files": []}


def test_too_many_headers(limited_app: Erlen, client: ErlenClient) -> None:
    many = {f"X-Extra-{i}": "1" for i in range(150)}
    response = client.get("/query", headers=many)
    assert response.status_code == 431
    limited_app.config["MAX_HEADER_COUNT"] = 20
    assert client.get("/query", headers={f"X-H-{i}": "v" for i in range(5)}).status_code == 200
    assert client.get("/query", headers={f"X-H-{i}": "v" for i in range(30)}).status_code == 431
    limited_app.config["MAX_HEADER_COUNT"] = 0  # off
    assert client.get("/query", headers=many).status_code == 200


@pytest.mark.parametrize("announce", ["content-length", "chunked"])
def test_stalled_body_under_asgi_is_a_408(limited_app: Erlen, announce: str) -> None:
    limited_app.config["BODY_READ_TIMEOUT"] = 0.1
    header = (
        (b"content-length", b"500")
        if announce == "content-length"
        else (
            b"transfer-encoding",
            b"chunked",
        )
    )
    sent: list[dict[str, t.Any]] = []
    calls = 0

    async def receive() -> dict[str, t.Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"x" * 10, "more_body": True}
        await asyncio.sleep(60)  # the rest never comes (cancelled by the app's timeout)
        return {"type": "http.disconnect"}

    async def send(message: t.MutableMapping[str, t.Any]) -> None:
        sent.append(dict(message))

    async def run() -> None:
        await asyncio.wait_for(limited_app.asgi_app(http_scope("/echo", header), receive, send), 10)

    asyncio.run(run())
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 408
    body = b"".join(message.get("body", b"") for message in sent[1:])
    assert b"stalled" in body


# --- safe redirects -----------------------------------------------------------------------------

UNSAFE_TARGETS = [
    "//evil.example",
    "///evil.example",
    "////evil.example/path",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "http://evil.example",
    "https://evil.example/login",
    "http://localhost@evil.example/",
    "http://localhost.evil.example/",
    "http://localhost:8080/",
    "http:evil.example",
    "https:///evil.example",
    "/\r\nSet-Cookie: a=b",
    "/\tevil",
    "\x00/home",
    " //evil.example",
    "ftp://localhost/",
    "http://[",
    "http://[::1/",
    "",
    "evil",
]
SAFE_TARGETS = [
    "/",
    "/dashboard",
    "/a/b?next=%2F%2Fevil.example#top",
    "/a//b",
    "http://localhost/profile",
    "HTTP://LOCALHOST/profile",
    "https://localhost/secure",
]


@pytest.fixture
def redirect_app(app: Erlen) -> Erlen:
    @app.get("/login")
    def login() -> Response:
        return safe_redirect(request.args.get("next"), fallback="/home")

    @app.get("/check")
    def check() -> dict[str, bool]:
        target = request.args.get("target", "")
        return {
            "safe": is_safe_redirect_url(target),
            "partner": is_safe_redirect_url(target, allowed_hosts=["accounts.partner.example"]),
        }

    return app


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_unsafe_redirect_targets(redirect_app: Erlen, client: ErlenClient, target: str) -> None:
    assert json_body(client.get("/check", query_string={"target": target}))["safe"] is False
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


@pytest.mark.parametrize("target", SAFE_TARGETS)
def test_safe_redirect_targets(redirect_app: Erlen, client: ErlenClient, target: str) -> None:
    assert json_body(client.get("/check", query_string={"target": target}))["safe"] is True
    response = client.get("/login", query_string={"next": target})
    assert response.headers["Location"] == target


def test_redirect_allowed_hosts(redirect_app: Erlen, client: ErlenClient) -> None:
    partner = "https://accounts.partner.example/welcome"
    result = client.get("/check", query_string={"target": partner}).json
    assert result == {"safe": False, "partner": True}
    other = client.get("/check", query_string={"target": "https://partner.example/"}).json
    assert other == {"safe": False, "partner": False}
    # Outside a request only the allowed hosts count: no current host to compare with.
    assert is_safe_redirect_url("http://localhost/x") is False
    assert is_safe_redirect_url("http://localhost/x", allowed_hosts=["localhost"]) is True
    assert is_safe_redirect_url(None) is False


# --- header injection ---------------------------------------------------------------------------


@pytest.mark.parametrize("way", ["tuple", "headers", "redirect", "cookie"])
def test_header_values_with_newlines_are_refused(
    app: Erlen, client: ErlenClient, way: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False

    @app.get("/inject")
    def inject() -> t.Any:
        value = request.args["v"]
        if way == "tuple":
            return "body", {"X-Note": value}
        if way == "redirect":
            return redirect(value)
        response = make_response("body")
        if way == "cookie":
            response.set_cookie("note", value)
        else:
            response.headers["X-Note"] = value
        return response

    for value in ("a\r\nInjected: yes", "a\nInjected: yes", "a\rInjected: yes"):
        with caplog.at_level(logging.ERROR):
            response = client.get("/inject", query_string={"v": value})
        # No new header line can start: no header named Injected, no raw CR or LF in a value.
        assert "Injected" not in response.headers
        assert all("\r" not in v and "\n" not in v for v in response.headers.values())
        if way == "cookie":  # the cookie value is quoted, so no new header can start
            assert response.status_code in (200, 500)
            continue
        if way == "redirect":  # a URL loses CR and LF as browsers parse it, and is encoded
            assert response.status_code == 302
            assert response.headers["Location"] == "ainjected:%20yes"
            continue
        assert response.status_code == 500
        assert b"Injected" not in response.data
        assert b"newline" not in response.data
        assert b"Traceback" not in response.data


# --- secret key ---------------------------------------------------------------------------------


@pytest.fixture
def session_app(app: Erlen) -> Erlen:
    @app.get("/remember")
    def remember() -> str:
        session["user"] = "ada"
        return "remembered"

    return app


WEAK_KEYS = ["dev", "short-key", "changeme", "secret", b"secret-key", "  ", "change-me"]
STRONG_KEY = "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60"


def _serve_wsgi_once(app: Erlen) -> tuple[str, bytes]:
    """One request handed to the app as a WSGI server does (not by the test client)."""
    from werkzeug.test import EnvironBuilder

    statuses: list[str] = []
    builder = EnvironBuilder("/remember")
    try:

        def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
            statuses.append(status)

        body = app.wsgi_app(builder.get_environ(), start_response)
        return statuses[0], b"".join(body)
    finally:
        builder.close()


async def _lifespan_startup(app: Erlen) -> dict[str, t.Any]:
    """An ASGI server's lifespan startup; returns the app's answer."""
    sent: list[dict[str, t.Any]] = []
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, t.Any]:
        try:
            return next(messages)
        except StopIteration:
            await asyncio.sleep(3600)  # the server would send shutdown later
            raise AssertionError("unreachable") from None

    async def send(message: t.MutableMapping[str, t.Any]) -> None:
        sent.append(dict(message))

    task = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    )
    for _ in range(200):
        if sent:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return sent[0]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_weak_secret_key_stops_the_asgi_startup(session_app: Erlen, key: str | bytes) -> None:
    session_app.config.update(TESTING=False, DEBUG=False, SECRET_KEY=key)
    answer = asyncio.run(_lifespan_startup(session_app))
    assert answer["type"] == "lifespan.startup.failed"
    assert "SECRET_KEY is too weak" in answer["message"]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_weak_secret_key_stops_the_first_wsgi_request(
    session_app: Erlen, caplog: pytest.LogCaptureFixture, key: str | bytes
) -> None:
    session_app.config.update(TESTING=False, DEBUG=False, SECRET_KEY=key)
    for _ in range(2):  # refused again for each request, logged each time
        with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="too weak"):
            _serve_wsgi_once(session_app)
    assert caplog.text.count("Startup failed") == 2


def test_a_strong_key_serves(session_app: Erlen) -> None:
    session_app.config.update(TESTING=False, DEBUG=False, SECRET_KEY=STRONG_KEY)
    assert asyncio.run(_lifespan_startup(session_app))["type"] == "lifespan.startup.complete"
    status, body = _serve_wsgi_once(session_app)
    assert (status, body) == ("200 OK", b"remembered")


def test_the_development_server_refuses_a_weak_key(session_app: Erlen) -> None:
    from erlen.devserver import run_server

    session_app.config.update(TESTING=False, DEBUG=False, SECRET_KEY="dev")
    with pytest.raises(SystemExit, match="SECRET_KEY is too weak"):
        run_server(session_app, "127.0.0.1", 0)  # refused before any port is opened


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_the_test_client_signs_with_any_key(
    session_app: Erlen, client: ErlenClient, key: str | bytes
) -> None:
    """As Flask's: extension test suites sign with short keys ("deterministic") outside
    testing mode, through the test client; that is not serving."""
    session_app.config.update(TESTING=False, DEBUG=False, SECRET_KEY=key)
    response = client.get("/remember")
    assert response.data == b"remembered"
    assert "session=" in response.headers["Set-Cookie"]


def test_missing_secret_key_is_refused_with_a_clear_message(
    session_app: Erlen, client: ErlenClient
) -> None:
    session_app.config.update(TESTING=False, DEBUG=False, SECRET_KEY=None)
    session_app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match="no secret key was set"):
        client.get("/remember")


@pytest.mark.parametrize("mode", ["TESTING", "DEBUG"])
def test_weak_secret_key_is_allowed_in_debug_and_testing(session_app: Erlen, mode: str) -> None:
    session_app.config.update(TESTING=False, DEBUG=False, SECRET_KEY="dev")
    session_app.config[mode] = True
    assert asyncio.run(_lifespan_startup(session_app))["type"] == "lifespan.startup.complete"
    assert _serve_wsgi_once(session_app)[1] == b"remembered"


# --- production error pages ---------------------------------------------------------------------

SECRET = "hunter2-database-password"
FILE_PATH = "/srv/app/settings/production.py"


def test_production_error_page_leaks_nothing(
    app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False, DATABASE_URL=f"pg://{SECRET}")

    @app.post("/boom")
    def boom() -> str:
        raise RuntimeError(f"could not connect with {SECRET} (see {FILE_PATH})")

    with caplog.at_level(logging.ERROR):
        response = client.post("/boom?x=1", data={"a": "b"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Internal Server Error" in body
    for leak in (SECRET, FILE_PATH, "Traceback", "RuntimeError", "test_security.py", ".py"):
        assert leak not in body
    assert str(app.config["SECRET_KEY"]) not in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].getMessage() == "Exception on /boom [POST]"
    assert errors[0].exc_info is not None
    assert SECRET in str(errors[0].exc_info[1])


def test_production_error_in_async_view_and_http_errors(
    app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False

    @app.get("/aboom")
    async def aboom() -> str:
        raise KeyError(f"{SECRET} {FILE_PATH}")

    @app.get("/args")
    def args() -> str:
        return request.args["missing"]  # a BadRequestKeyError: 400, the key not shown

    with caplog.at_level(logging.ERROR):
        response = client.get("/aboom")
    assert response.status_code == 500
    assert SECRET.encode() not in response.data
    assert FILE_PATH.encode() not in response.data
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    bad = client.get("/args")
    assert bad.status_code == 400
    assert b"missing" not in bad.data


# --- secure defaults: the session cookie's Secure flag, hosts in absolute URLs ------------------


@pytest.fixture
def session_setter(app: Erlen) -> Erlen:
    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        return "in"

    return app


def _session_cookie(response: t.Any) -> str:
    cookies: list[str] = response.headers.getlist("Set-Cookie")
    return next(value for value in cookies if value.startswith("session="))


def test_session_cookie_is_secure_on_https_without_configuration(
    session_setter: Erlen, client: ErlenClient
) -> None:
    assert "Secure" not in _session_cookie(client.get("/login"))
    assert "; Secure" in _session_cookie(client.get("/login", base_url="https://localhost"))


def test_session_cookie_is_secure_behind_a_trusted_https_proxy(
    session_setter: Erlen, client: ErlenClient
) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Secure" not in _session_cookie(client.get("/login", headers=forwarded))
    session_setter.config["TRUSTED_PROXIES"] = 1
    assert "; Secure" in _session_cookie(client.get("/login", headers=forwarded))


@pytest.mark.parametrize(("setting", "on_http"), [(True, True), (False, False)])
def test_session_cookie_secure_setting_overrides_the_scheme(
    session_setter: Erlen, client: ErlenClient, setting: bool, on_http: bool
) -> None:
    session_setter.config["SESSION_COOKIE_SECURE"] = setting
    assert ("; Secure" in _session_cookie(client.get("/login"))) is on_http
    https = _session_cookie(client.get("/login", base_url="https://localhost"))
    assert ("; Secure" in https) is setting


@pytest.fixture
def reset_app(app: Erlen) -> Erlen:
    app.config.update(TESTING=False, DEBUG=False)

    @app.get("/forgot")
    def forgot() -> str:
        return url_for("reset", token="t0k3n", _external=True)

    @app.get("/reset/<token>")
    def reset(token: str) -> str:
        return token

    return app


def test_a_forged_host_never_reaches_a_reset_link(
    reset_app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get("/forgot", headers={"Host": "evil.example"})
    assert response.status_code == 500
    assert b"evil.example" not in response.data
    assert "TRUSTED_HOSTS" in caplog.text and "SERVER_NAME" in caplog.text
    assert client.get("/reset/x", headers={"Host": "evil.example"}).text == "x"  # relative ok


def test_trusted_hosts_let_reset_links_be_built(reset_app: Erlen, client: ErlenClient) -> None:
    reset_app.config["TRUSTED_HOSTS"] = ["shop.example"]
    assert client.get("/forgot", headers={"Host": "evil.example"}).status_code == 400
    good = client.get("/forgot", headers={"Host": "shop.example"})
    assert good.text == "http://shop.example/reset/t0k3n"


def test_server_name_lets_reset_links_be_built(reset_app: Erlen, client: ErlenClient) -> None:
    reset_app.config["SERVER_NAME"] = "shop.example"
    response = client.get("/forgot", base_url="http://shop.example")
    assert response.text == "http://shop.example/reset/t0k3n"


@pytest.mark.parametrize("mode", ["DEBUG", "TESTING"])
def test_absolute_urls_from_the_host_in_debug_and_testing(
    reset_app: Erlen, client: ErlenClient, mode: str
) -> None:
    reset_app.config[mode] = True
    assert client.get("/forgot").text == "http://localhost/reset/t0k3n"


def test_untrusted_host_error_says_what_to_set(reset_app: Erlen) -> None:
    with reset_app.test_request_context("/", headers={"Host": "evil.example"}):
        with pytest.raises(UntrustedHostError, match=r"TRUSTED_HOSTS = \['example.com'\]"):
            url_for("reset", token="x", _external=True)
        assert url_for("reset", token="x") == "/reset/x"
