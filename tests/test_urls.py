"""Building URLs: ``url_for`` (``erlen.urls``), on both protocols."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.routing import BuildError

from erlen import Erlen, request, url_for
from erlen.testing import ErlenClient

# --- url_for ----------------------------------------------------------------------------------


@pytest.fixture
def url_app(app: Erlen) -> Erlen:
    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/user/<name>")
    def user(name: str) -> str:
        return name

    def thing() -> str:
        return request.method

    app.add_url_rule("/thing", "thing", thing, methods=["GET"])
    app.add_url_rule("/thing/create", "thing", thing, methods=["POST"])

    return app


def test_url_for_relative(url_app: Erlen) -> None:
    with url_app.test_request_context():
        assert url_for("index") == "/"
        assert url_for("user", name="ada") == "/user/ada"
        assert url_for("user", name="a b") == "/user/a%20b"


def test_url_for_external(url_app: Erlen) -> None:
    with url_app.test_request_context(base_url="https://example.org"):
        assert url_for("user", name="ada", _external=True) == "https://example.org/user/ada"


def test_url_for_anchor(url_app: Erlen) -> None:
    with url_app.test_request_context():
        assert url_for("index", _anchor="top") == "/#top"
        assert url_for("index", _anchor="a b<c>") == "/#a%20b%3Cc%3E"
        assert url_for("index", _anchor="x/y?z=1") == "/#x/y?z=1"


def test_url_for_method(url_app: Erlen) -> None:
    with url_app.test_request_context():
        assert url_for("thing", _method="GET") == "/thing"
        assert url_for("thing", _method="POST") == "/thing/create"


def test_url_for_scheme(url_app: Erlen) -> None:
    with url_app.test_request_context():
        assert url_for("index", _scheme="https") == "https://localhost/"
        assert url_for("index", _scheme="https", _external=True) == "https://localhost/"
        with pytest.raises(ValueError, match="_external"):
            url_for("index", _scheme="https", _external=False)


def test_url_for_extra_values_become_query_string(url_app: Erlen) -> None:
    with url_app.test_request_context():
        assert url_for("user", name="ada", page=2) == "/user/ada?page=2"
        url = url_for("index", q="a b", tag=["x", "y"])
        assert url.startswith("/?")
        assert sorted(url[2:].split("&")) == ["q=a+b", "tag=x", "tag=y"]


def test_url_for_unknown_endpoint_raises(url_app: Erlen) -> None:
    with url_app.test_request_context():
        with pytest.raises(BuildError):
            url_for("missing")
        with pytest.raises(BuildError):
            url_for("user")


def test_url_for_in_view(url_app: Erlen, client: ErlenClient) -> None:
    @url_app.route("/links")
    def links() -> dict[str, str]:
        return {
            "user": url_for("user", name="ada"),
            "external": url_for("index", _external=True),
        }

    assert client.get("/links").json == {"user": "/user/ada", "external": "http://localhost/"}


def test_url_defaults_and_value_preprocessor(app: Erlen, client: ErlenClient) -> None:
    seen: list[tuple[str | None, dict[str, t.Any] | None]] = []

    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        seen.append((endpoint, dict(values) if values is not None else None))
        if values is not None:
            request.environ["test.lang"] = values.pop("lang", None)

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        if "lang" in values or not app.url_map.is_endpoint_expecting(endpoint, "lang"):
            return
        values["lang"] = request.environ.get("test.lang") or "en"

    @app.route("/<lang>/about")
    def about() -> dict[str, t.Any]:
        return {"lang": request.environ["test.lang"], "self": url_for("about")}

    assert client.get("/de/about").json == {"lang": "de", "self": "/de/about"}
    assert seen == [("about", {"lang": "de"})]
    with app.test_request_context():
        assert url_for("about") == "/en/about"
        assert url_for("about", lang="fr") == "/fr/about"


def test_url_value_preprocessor_runs_before_before_request(app: Erlen, client: ErlenClient) -> None:
    order: list[str] = []

    @app.before_request
    def before() -> None:
        order.append("before_request")

    @app.url_value_preprocessor
    def pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        order.append("preprocessor")

    @app.route("/<int:x>")
    def view(x: int) -> str:
        order.append("view")
        return str(x)

    assert client.get("/5").text == "5"
    assert order == ["preprocessor", "before_request", "view"]


def test_url_build_error_handler(url_app: Erlen) -> None:
    calls: list[tuple[str, dict[str, t.Any]]] = []

    def handler(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str | None:
        calls.append((endpoint, dict(values)))
        if endpoint == "external.page":
            return f"https://external.example/{values.get('slug', '')}"
        return None

    url_app.url_build_error_handlers.append(handler)
    with url_app.test_request_context():
        assert url_for("external.page", slug="x") == "https://external.example/x"
        assert calls[0][0] == "external.page"
        assert calls[0][1]["slug"] == "x"
        with pytest.raises(BuildError):
            url_for("still.missing")
        assert url_for("index") == "/"
    assert len(calls) == 2


def test_url_build_error_handler_may_raise_its_own_build_error(url_app: Erlen) -> None:
    def handler(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str | None:
        raise BuildError(endpoint, values, None)

    def fallback(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str | None:
        return "/fallback"

    url_app.url_build_error_handlers.extend([handler, fallback])
    with url_app.test_request_context():
        assert url_for("missing") == "/fallback"


def test_url_for_outside_request_with_server_name(url_app: Erlen) -> None:
    url_app.config.update(SERVER_NAME="example.com", PREFERRED_URL_SCHEME="https")
    with url_app.app_context():
        assert url_for("user", name="ada") == "https://example.com/user/ada"
        assert url_for("index", _external=False) == "/"
    assert url_app.url_for("index") == "https://example.com/"


def test_url_for_outside_request_with_application_root(url_app: Erlen) -> None:
    url_app.config.update(SERVER_NAME="example.com", APPLICATION_ROOT="/prefix")
    with url_app.app_context():
        assert url_for("user", name="ada") == "http://example.com/prefix/user/ada"


def test_url_for_outside_request_without_server_name(url_app: Erlen) -> None:
    with url_app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_for("index")
    with pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_app.url_for("index")


def test_url_for_with_script_root(url_app: Erlen) -> None:
    with url_app.test_request_context("/", base_url="http://localhost/mount"):
        assert url_for("user", name="ada") == "/mount/user/ada"
        assert url_for("index", _external=True) == "http://localhost/mount/"


def test_application_root_in_requests(url_app: Erlen, client: ErlenClient) -> None:
    url_app.config["APPLICATION_ROOT"] = "/app"

    @url_app.route("/where")
    def where() -> dict[str, str]:
        return {
            "script_root": request.script_root,
            "path": request.path,
            "url": url_for("user", name="x"),
        }

    assert client.get("/where").json == {
        "script_root": "/app",
        "path": "/where",
        "url": "/app/user/x",
    }


def test_script_root_strict_slash_redirect(app: Erlen, client: ErlenClient) -> None:
    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    response = client.get("/folder", base_url="http://localhost/mount")
    assert response.status_code == 308
    assert response.location is not None
    assert response.location.endswith("/mount/folder/")
