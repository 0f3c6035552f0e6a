"""Nothing unsafe leaves in a response header (erlen.response_headers), on both protocols."""

from __future__ import annotations

import typing as t

import pytest

from erlen import Erlen, Response, redirect, request, session
from erlen.response_headers import UnsafeHeaderError, check_cookie_domain, location_value
from erlen.testing import ErlenClient

UNSAFE_VALUES = ["a\x00b", "a\x01b", "a\x1bb", "a\x7fb", "a\rb", "a\nb", "\u560d\u560aX: 1"]
UNSAFE_NAMES = ["X Bad", "X:Bad", "Set-Cookie: a=b", "X\x00", "", "Ünïcode"]


@pytest.fixture
def production(app: Erlen) -> Erlen:
    app.config.update(TESTING=False, DEBUG=False)

    @app.route("/value")
    def value() -> Response:
        response = Response("sent")
        response.headers._list.append(("X-Echo", request.args["v"]))
        return response

    @app.route("/name")
    def name() -> Response:
        response = Response("sent")
        response.headers._list.append((request.args["n"], "value"))
        return response

    @app.route("/")
    def index() -> str:
        return "ok"

    return app


@pytest.mark.parametrize("value", UNSAFE_VALUES)
def test_an_unsafe_value_is_a_500_without_the_header(
    production: Erlen, client: ErlenClient, value: str
) -> None:
    response = client.get("/value", query_string={"v": value})
    assert response.status_code == 500
    assert "X-Echo" not in response.headers
    assert b"sent" not in response.data and b"Traceback" not in response.data
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # a normal error page
    assert client.get("/").data == b"ok"


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_a_name_that_is_not_a_token_is_a_500(
    production: Erlen, client: ErlenClient, name: str
) -> None:
    response = client.get("/name", query_string={"n": name})
    assert response.status_code == 500
    assert response.headers.get("Set-Cookie") is None
    assert b"sent" not in response.data


@pytest.mark.parametrize("value", ["tab\there", "caf\u00e9 (latin-1)", "", "a" * 1000])
def test_safe_values_are_sent(production: Erlen, client: ErlenClient, value: str) -> None:
    response = client.get("/value", query_string={"v": value})
    assert response.status_code == 200
    assert response.headers["X-Echo"] == value


def test_in_testing_mode_the_error_names_the_header(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return "x", {"X-From-Input": "a\x00b"}

    with pytest.raises(UnsafeHeaderError, match="'X-From-Input'"):
        client.get("/")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Response("x", headers={"X-A": "a\x00"}),
        lambda: ("x", 200, [("X-A", "a\x0b")]),
        lambda: ("x", {"X-A": "\u0100"}),
    ],
    ids=["constructor", "tuple list", "tuple dict"],
)
def test_every_way_a_view_sets_headers_is_checked(
    production: Erlen, client: ErlenClient, make: t.Callable[[], t.Any]
) -> None:
    production.add_url_rule("/made", "made", make)
    response = client.get("/made")
    assert response.status_code == 500
    assert "X-A" not in response.headers


def test_a_hook_that_breaks_the_error_page_too_cannot_stop_it(
    production: Erlen, client: ErlenClient
) -> None:
    @production.after_request
    def bad_header(response: Response) -> Response:
        response.headers._list.append(("X-Always", "bad\x00"))
        return response

    response = client.get("/")
    assert response.status_code == 500  # the view's response was refused...
    assert "X-Always" not in response.headers  # ...and the 500 page goes out without it
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/ok\u560d\u560aX: 1", "/ok%E5%98%8D%E5%98%8AX:%201"),
        ("/caf\u00e9?q=\u00e9", "/caf%C3%A9?q=%C3%A9"),
        ("/a b", "/a%20b"),
        ("/a\x00b", "/a%00b"),
        ("/plain?x=1#top", "/plain?x=1#top"),
        ("https://example.com/p", "https://example.com/p"),
        # werkzeug's iri_to_uri leaves a control character in the host; a bad port makes it raise
        ("http://a.example\x02p/?q=1", "http://a.example%02p/?q=1"),
        ("http://a.example: for=1/x y", "http://a.example:%20for=1/x%20y"),
    ],
)
def test_redirect_percent_encodes_its_target(
    app: Erlen, client: ErlenClient, target: str, location: str
) -> None:
    @app.route("/go")
    def go() -> t.Any:
        return redirect(target)

    response = client.get("/go")
    assert response.status_code == 302
    assert response.headers["Location"] == location
    assert location_value(target) == location


BAD_DOMAINS = [
    "example.com; SameSite=None",
    "example.com;",
    "example.com\x00",
    "a b.com",
    "example.com,evil.com",
    "example.com\r\nX: 1",
    "",
    "exa_mple.com",
    "example.com:80a",
]
# A port is taken, as Flask takes it (werkzeug leaves it out of the cookie).
GOOD_DOMAINS = [
    "example.com",
    ".example.com",
    "localhost",
    "127.0.0.1",
    "ex-ample.co.uk",
    "a.b:8000",
]


@pytest.mark.parametrize("domain", BAD_DOMAINS)
def test_set_cookie_refuses_a_domain_that_is_not_a_host(domain: str) -> None:
    response = Response()
    with pytest.raises(ValueError, match="not a host name"):
        response.set_cookie("k", "v", domain=domain)
    with pytest.raises(ValueError, match="not a host name"):
        response.delete_cookie("k", domain=domain)
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("domain", GOOD_DOMAINS)
def test_set_cookie_takes_host_names(domain: str) -> None:
    response = Response()
    response.set_cookie("k", "v", domain=domain)
    host = domain.lstrip(".").partition(":")[0]
    assert f"Domain={host};" in response.headers["Set-Cookie"]


def test_set_cookie_takes_an_idna_domain() -> None:
    check_cookie_domain("b\u00fccher.example")
    response = Response()
    response.set_cookie("k", "v", domain="b\u00fccher.example")
    assert "Domain=xn--bcher-kva.example" in response.headers["Set-Cookie"]


def test_path_and_samesite_cannot_inject_attributes() -> None:
    response = Response()
    response.set_cookie("k", "v", path="/; Domain=evil.example")
    assert "; Domain=" not in response.headers["Set-Cookie"]  # werkzeug quotes the path
    with pytest.raises(ValueError):
        response.set_cookie("k", "v", samesite="Lax; Domain=evil.example")


def test_a_session_cookie_domain_that_is_not_a_host_is_refused(
    app: Erlen, client: ErlenClient
) -> None:
    app.config["SESSION_COOKIE_DOMAIN"] = "example.com; SameSite=None"

    @app.route("/")
    def index() -> str:
        session["k"] = 1
        return "x"

    with pytest.raises(ValueError, match="not a host name"):
        client.get("/")
