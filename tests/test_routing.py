"""Routing: rule registration, converters, automatic methods, redirects, hosts and url_for."""

from __future__ import annotations

import typing as t
import uuid

import pytest
from werkzeug.routing import BaseConverter, BuildError

from erlen import Erlen, request, url_for
from erlen._speedups import ENABLED as SPEEDUPS
from erlen.testing import ErlenClient

# --- registration decorators ------------------------------------------------------------------


def test_route_defaults_to_get(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return "index"

    assert client.get("/").text == "index"
    assert client.post("/").status_code == 405


def test_route_with_methods(app: Erlen, client: ErlenClient) -> None:
    @app.route("/items", methods=["GET", "post"])
    def items() -> str:
        return f"items {request.method}"

    assert client.get("/items").text == "items GET"
    assert client.post("/items").text == "items POST"
    assert client.put("/items").status_code == 405


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_shortcut_decorators(app: Erlen, client: ErlenClient, method: str) -> None:
    shortcut: t.Callable[[str], t.Callable[[t.Callable[[], str]], t.Callable[[], str]]]
    shortcut = getattr(app, method)

    @shortcut("/thing")
    def thing() -> str:
        return request.method

    response = client.open("/thing", method=method.upper())
    assert response.status_code == 200
    assert response.text == method.upper()
    other = "POST" if method != "post" else "PUT"
    assert client.open("/thing", method=other).status_code == 405


def test_method_shortcuts_share_a_path(app: Erlen, client: ErlenClient) -> None:
    @app.get("/res")
    def read() -> str:
        return "read"

    @app.post("/res")
    def create() -> tuple[str, int]:
        return "created", 201

    @app.delete("/res")
    def remove() -> tuple[str, int]:
        return "", 204

    assert client.get("/res").text == "read"
    created = client.post("/res")
    assert (created.status_code, created.text) == (201, "created")
    assert client.delete("/res").status_code == 204
    assert client.patch("/res").status_code == 405


def test_method_shortcut_rejects_methods_argument(app: Erlen) -> None:
    with pytest.raises(TypeError, match="route"):
        app.get("/", methods=["POST"])


def test_route_endpoint_option(app: Erlen, client: ErlenClient) -> None:
    @app.route("/a", endpoint="custom")
    def view() -> str:
        return url_for("custom")

    assert "custom" in app.view_functions
    assert "view" not in app.view_functions
    assert client.get("/a").text == "/a"


def test_add_url_rule_with_view_func(app: Erlen, client: ErlenClient) -> None:
    def hello() -> str:
        return "hello"

    app.add_url_rule("/hello", view_func=hello)
    app.add_url_rule("/hi", "greeting", hello, methods=["POST"])

    assert app.view_functions["hello"] is hello
    assert app.view_functions["greeting"] is hello
    assert client.get("/hello").text == "hello"
    assert client.post("/hi").text == "hello"
    assert client.get("/hi").status_code == 405


def test_add_url_rule_methods_as_string_raises(app: Erlen) -> None:
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/", "index", lambda: "x", methods="POST")


def test_add_url_rule_without_endpoint_or_view_raises(app: Erlen) -> None:
    with pytest.raises(TypeError):
        app.add_url_rule("/")


def test_overwriting_endpoint_raises(app: Erlen) -> None:
    @app.route("/one")
    def view() -> str:
        return "one"

    def other() -> str:
        return "other"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):
        app.add_url_rule("/two", "view", other)


def test_same_view_on_two_rules_is_allowed(app: Erlen, client: ErlenClient) -> None:
    def view() -> str:
        return request.path

    app.add_url_rule("/one", "view", view)
    app.add_url_rule("/two", "view", view)
    assert client.get("/one").text == "/one"
    assert client.get("/two").text == "/two"


def test_view_func_methods_attribute(app: Erlen, client: ErlenClient) -> None:
    def view() -> str:
        return request.method

    view.methods = ["PUT"]  # type: ignore[attr-defined]
    app.add_url_rule("/v", view_func=view)
    assert client.put("/v").text == "PUT"
    assert client.get("/v").status_code == 405


def test_endpoint_decorator(app: Erlen, client: ErlenClient) -> None:
    app.add_url_rule("/late", "late_endpoint")

    @app.endpoint("late_endpoint")
    def late() -> str:
        return "bound later"

    assert client.get("/late").text == "bound later"


# --- converters -------------------------------------------------------------------------------


def test_string_converter(app: Erlen, client: ErlenClient) -> None:
    @app.route("/user/<name>")
    def user(name: str) -> str:
        return f"{type(name).__name__}:{name}"

    assert client.get("/user/ada").text == "str:ada"
    assert client.get("/user/a%20b").text == "str:a b"
    assert client.get("/user/a/b").status_code == 404


def test_string_converter_length(app: Erlen, client: ErlenClient) -> None:
    @app.route("/code/<string(length=3):code>")
    def code(code: str) -> str:
        return code

    assert client.get("/code/abc").text == "abc"
    assert client.get("/code/abcd").status_code == 404


def test_int_converter(app: Erlen, client: ErlenClient) -> None:
    @app.route("/post/<int:post_id>")
    def post(post_id: int) -> str:
        return repr(post_id + 1)

    assert client.get("/post/41").text == "42"
    assert client.get("/post/abc").status_code == 404
    assert client.get("/post/-1").status_code == 404
    assert client.get("/post/1.5").status_code == 404


def test_int_converter_options(app: Erlen, client: ErlenClient) -> None:
    @app.route("/page/<int(min=1, max=10):page>")
    def page(page: int) -> str:
        return str(page)

    assert client.get("/page/10").text == "10"
    assert client.get("/page/0").status_code == 404
    assert client.get("/page/11").status_code == 404


def test_float_converter(app: Erlen, client: ErlenClient) -> None:
    @app.route("/price/<float:value>")
    def price(value: float) -> str:
        return f"{type(value).__name__}:{value * 2}"

    assert client.get("/price/1.25").text == "float:2.5"
    assert client.get("/price/3").status_code == 404


def test_path_converter(app: Erlen, client: ErlenClient) -> None:
    @app.route("/files/<path:subpath>")
    def files(subpath: str) -> str:
        return subpath

    assert client.get("/files/a/b/c.txt").text == "a/b/c.txt"
    assert client.get("/files/one").text == "one"


def test_uuid_converter(app: Erlen, client: ErlenClient) -> None:
    @app.route("/obj/<uuid:ident>")
    def obj(ident: uuid.UUID) -> str:
        assert isinstance(ident, uuid.UUID)
        return str(ident.version)

    value = uuid.uuid4()
    assert client.get(f"/obj/{value}").text == "4"
    assert client.get("/obj/not-a-uuid").status_code == 404


def test_any_converter(app: Erlen, client: ErlenClient) -> None:
    @app.route("/<any(about, help):page>")
    def page(page: str) -> str:
        return page

    assert client.get("/about").text == "about"
    assert client.get("/help").text == "help"
    assert client.get("/other").status_code == 404


class ListConverter(BaseConverter):
    """Comma-separated values to a list."""

    def to_python(self, value: str) -> list[str]:
        return value.split(",")

    def to_url(self, value: t.Any) -> str:
        return ",".join(super(ListConverter, self).to_url(v) for v in value)


def test_custom_converter(app: Erlen, client: ErlenClient) -> None:
    app.url_map.converters["list"] = ListConverter

    @app.route("/tags/<list:tags>")
    def tags(tags: list[str]) -> dict[str, t.Any]:
        return {"tags": tags, "url": url_for("tags", tags=["x", "y z"])}

    data = client.get("/tags/a,b,c").json
    assert data == {"tags": ["a", "b", "c"], "url": "/tags/x,y%20z"}


def test_converter_url_building(app: Erlen) -> None:
    @app.route("/post/<int:post_id>/<path:rest>")
    def post(post_id: int, rest: str) -> str:
        return ""

    with app.test_request_context():
        assert url_for("post", post_id=3, rest="a/b") == "/post/3/a/b"
        with pytest.raises(BuildError):
            url_for("post", post_id=3)


# --- automatic HEAD and OPTIONS, 405 ----------------------------------------------------------


def test_automatic_head(app: Erlen, client: ErlenClient) -> None:
    calls: list[str] = []

    @app.route("/page")
    def page() -> tuple[str, dict[str, str]]:
        calls.append(request.method)
        return "the body", {"X-Custom": "yes"}

    get = client.get("/page")
    head = client.head("/page")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["X-Custom"] == "yes"
    assert head.headers["Content-Length"] == get.headers["Content-Length"] == "8"
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert calls == ["GET", "HEAD"]


def test_head_of_streamed_response_has_no_body(app: Erlen, client: ErlenClient) -> None:
    @app.route("/stream")
    def stream() -> t.Iterator[str]:
        yield "a"
        yield "b"

    with client.get("/stream") as response:  # closing ends the streamed request
        assert response.data == b"ab"
    head = client.head("/stream")
    assert head.status_code == 200
    assert head.data == b""


def test_automatic_options(app: Erlen, client: ErlenClient) -> None:
    @app.route("/thing", methods=["GET", "POST"])
    def thing() -> str:
        raise AssertionError("the view must not run for OPTIONS")

    response = client.options("/thing")
    assert response.status_code == 200
    assert set(response.allow) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert response.data == b""


def test_automatic_options_combines_rules(app: Erlen, client: ErlenClient) -> None:
    @app.get("/multi")
    def read() -> str:
        return "r"

    @app.put("/multi")
    def write() -> str:
        return "w"

    response = client.options("/multi")
    assert response.status_code == 200
    assert set(response.allow) == {"GET", "HEAD", "PUT", "OPTIONS"}


def test_provide_automatic_options_false(app: Erlen, client: ErlenClient) -> None:
    @app.route("/no-options", provide_automatic_options=False)
    def no_options() -> str:
        return "x"

    response = client.options("/no-options")
    assert response.status_code == 405
    assert "OPTIONS" not in response.allow


def test_view_attribute_disables_automatic_options(app: Erlen, client: ErlenClient) -> None:
    def view() -> str:
        return "x"

    view.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/v", view_func=view)
    assert client.options("/v").status_code == 405


def test_explicit_options_calls_the_view(app: Erlen, client: ErlenClient) -> None:
    @app.route("/opt", methods=["GET", "OPTIONS"])
    def opt() -> str:
        return f"view saw {request.method}"

    response = client.options("/opt")
    assert response.status_code == 200
    assert response.text == "view saw OPTIONS"


def test_provide_automatic_options_config(app: Erlen, client: ErlenClient) -> None:
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.route("/x")
    def x() -> str:
        return "x"

    assert client.options("/x").status_code == 405


def test_405_has_allow_header(app: Erlen, client: ErlenClient) -> None:
    @app.route("/only-post", methods=["POST"])
    def only_post() -> str:
        return "ok"

    response = client.get("/only-post")
    assert response.status_code == 405
    assert set(response.allow) == {"POST", "OPTIONS"}


def test_405_on_dynamic_rule(app: Erlen, client: ErlenClient) -> None:
    @app.put("/item/<int:i>")
    def item(i: int) -> str:
        return str(i)

    response = client.get("/item/3")
    assert response.status_code == 405
    assert set(response.allow) == {"PUT", "OPTIONS"}
    assert client.put("/item/3").text == "3"


def test_unknown_url_is_404(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    response = client.get("/missing")
    assert response.status_code == 404
    assert b"Not Found" in response.data


# --- slashes and defaults ---------------------------------------------------------------------


def test_strict_slash_redirect(app: Erlen, client: ErlenClient) -> None:
    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    response = client.get("/folder")
    assert response.status_code == 308
    assert response.headers["Location"] == "/folder/"  # relative: no Host header comes back
    assert b"/folder/" in response.data
    assert client.get("/folder/").text == "folder"
    assert client.get("/folder", follow_redirects=True).text == "folder"


def test_strict_slash_redirect_never_carries_a_forged_host(app: Erlen, client: ErlenClient) -> None:
    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    response = client.get("/folder?a=1", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/folder/?a=1"
    other_scheme = client.get("/folder", base_url="https://localhost")
    assert other_scheme.headers["Location"] == "/folder/"


def test_strict_slash_redirect_keeps_query(app: Erlen, client: ErlenClient) -> None:
    @app.route("/dir/")
    def dir_() -> str:
        return request.args.get("q", "")

    response = client.get("/dir?q=1")
    assert response.status_code == 308
    assert response.location is not None
    assert response.location.endswith("/dir/?q=1")


def test_strict_slash_redirect_for_post(app: Erlen, client: ErlenClient) -> None:
    @app.post("/submit/")
    def submit() -> str:
        return request.get_data(as_text=True)

    response = client.post("/submit", data="payload")
    assert response.status_code == 308
    followed = client.post("/submit", data="payload", follow_redirects=True)
    assert followed.text == "payload"


def test_rule_without_slash_does_not_match_slash(app: Erlen, client: ErlenClient) -> None:
    @app.route("/file")
    def file() -> str:
        return "file"

    assert client.get("/file").text == "file"
    assert client.get("/file/").status_code == 404


def test_strict_slashes_false(app: Erlen, client: ErlenClient) -> None:
    @app.route("/loose/", strict_slashes=False)
    def loose() -> str:
        return "loose"

    assert client.get("/loose").text == "loose"
    assert client.get("/loose/").text == "loose"


def test_rule_defaults(app: Erlen, client: ErlenClient) -> None:
    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    assert client.get("/users/").text == "page 1"
    assert client.get("/users/page/3").text == "page 3"
    with app.test_request_context():
        assert url_for("users") == "/users/"
        assert url_for("users", page=1) == "/users/"
        assert url_for("users", page=2) == "/users/page/2"


def test_url_with_default_value_redirects_to_canonical(app: Erlen, client: ErlenClient) -> None:
    @app.route("/list/", defaults={"page": 1})
    @app.route("/list/<int:page>")
    def listing(page: int) -> str:
        return str(page)

    response = client.get("/list/1")
    assert response.status_code == 308
    assert response.location is not None
    assert response.location.endswith("/list/")


def test_redirect_to_rule(app: Erlen, client: ErlenClient) -> None:
    @app.route("/new")
    def new() -> str:
        return "new"

    app.add_url_rule("/old", "old", redirect_to="/new")
    response = client.get("/old")
    assert response.status_code == 308
    assert response.location is not None
    assert response.location.endswith("/new")


# --- hosts and subdomains ---------------------------------------------------------------------


def test_host_matching(protocol: str) -> None:
    app = Erlen("hosts", host_matching=True, static_host="static.example")
    app.testing = True

    @app.route("/", host="a.example")
    def a_index() -> str:
        return "a"

    @app.route("/", host="b.example")
    def b_index() -> str:
        return "b"

    @app.route("/user", host="<name>.users.example")
    def user(name: str) -> str:
        return name

    client = app.test_client(asgi=protocol == "asgi")
    assert client.get("/", base_url="http://a.example").text == "a"
    assert client.get("/", base_url="http://b.example").text == "b"
    assert client.get("/user", base_url="http://ada.users.example").text == "ada"
    assert client.get("/", base_url="http://c.example").status_code == 404
    with app.test_request_context("/", base_url="http://a.example"):
        assert url_for("a_index") == "/"
        assert url_for("b_index") == "http://b.example/"
        assert url_for("user", name="bob") == "http://bob.users.example/user"


@pytest.fixture
def subdomain_app() -> Erlen:
    app = Erlen("subdomains", subdomain_matching=True)
    app.config.update(TESTING=True, SERVER_NAME="example.test")

    @app.route("/")
    def index() -> str:
        return "main"

    @app.route("/", subdomain="api")
    def api_index() -> str:
        return "api"

    return app


def test_subdomain_matching(subdomain_app: Erlen, protocol: str) -> None:
    app = subdomain_app

    @app.route("/", subdomain="<tenant>")
    def tenant_index(tenant: str) -> str:
        return f"tenant {tenant}"

    client = app.test_client(asgi=protocol == "asgi")
    assert client.get("/").text == "main"
    assert client.get("/", subdomain="api").text == "api"
    assert client.get("/", subdomain="acme").text == "tenant acme"
    with app.test_request_context("/", subdomain="api"):
        assert url_for("api_index") == "/"
        assert url_for("index") == "http://example.test/"
        assert url_for("tenant_index", tenant="acme") == "http://acme.example.test/"


def test_subdomain_matching_unknown_host(subdomain_app: Erlen, protocol: str) -> None:
    app = subdomain_app
    client = app.test_client(asgi=protocol == "asgi")
    assert client.get("/", subdomain="www").status_code == 404
    assert client.get("/", base_url="http://other.host").status_code == 404


def test_without_subdomain_matching_rules_ignore_subdomains(protocol: str) -> None:
    app = Erlen("no_subdomains")
    app.config.update(TESTING=True, SERVER_NAME="example.test")

    @app.route("/")
    def index() -> str:
        return "main"

    client = app.test_client(asgi=protocol == "asgi")
    assert client.get("/").text == "main"
    assert client.get("/", base_url="http://www.example.test").text == "main"


# --- static fast path -------------------------------------------------------------------------


def _matches(client: ErlenClient, method: str, path: str) -> tuple[int, str, set[str]]:
    response = client.open(path, method=method)
    return (
        response.status_code,
        response.text if response.status_code == 200 else "",
        set(response.allow),
    )


def test_static_get_and_dynamic_post_on_overlapping_path(app: Erlen, client: ErlenClient) -> None:
    @app.get("/items/new")
    def new_form() -> str:
        return "static form"

    @app.post("/items/<name>")
    def create(name: str) -> str:
        return f"created {name}"

    assert client.get("/items/new").text == "static form"
    assert client.post("/items/new").text == "created new"
    assert client.post("/items/other").text == "created other"
    other = client.get("/items/other")
    assert other.status_code == 405
    assert set(other.allow) == {"POST", "OPTIONS"}
    options = client.options("/items/new")
    assert options.status_code == 200
    assert set(options.allow) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_dynamic_rule_registered_first_takes_precedence_per_werkzeug(
    app: Erlen, client: ErlenClient
) -> None:
    # werkzeug prefers static parts over converters regardless of registration order.
    @app.route("/<page>")
    def dynamic(page: str) -> str:
        return f"dynamic {page}"

    @app.route("/about")
    def about() -> str:
        return "static about"

    assert client.get("/about").text == "static about"
    assert client.get("/contact").text == "dynamic contact"


def test_fast_path_agrees_with_werkzeug(app: Erlen, protocol: str) -> None:
    def register(target: Erlen) -> None:
        @target.get("/a/b")
        def ab() -> str:
            return "static ab"

        @target.route("/a/<x>", methods=["GET", "POST"])
        def ax(x: str) -> str:
            return f"dyn {x}"

        @target.put("/a/b")
        def ab_put() -> str:
            return "static ab put"

        @target.route("/plain/")
        def plain() -> str:
            return "plain"

        # A build-only rule never matches; the dynamic rule below answers its path.
        target.add_url_rule("/b/only", "only_built", build_only=True)

        @target.route("/b/<x>")
        def bx(x: str) -> str:
            return f"b {x}"

        @target.route("/d/", defaults={"n": 0})
        @target.route("/d/<int:n>")
        def d(n: int) -> str:
            return str(n)

    fast = Erlen("fast")
    slow = Erlen("slow")
    for target in (fast, slow):
        target.testing = True
        register(target)
    slow.url_map.fast_static = False
    assert fast.url_map.fast_static is SPEEDUPS  # the shortcuts answer, unless switched off
    fast_client = fast.test_client(asgi=protocol == "asgi")
    slow_client = slow.test_client(asgi=protocol == "asgi")
    cases = [
        ("GET", "/a/b"),
        ("HEAD", "/a/b"),
        ("POST", "/a/b"),
        ("PUT", "/a/b"),
        ("DELETE", "/a/b"),
        ("OPTIONS", "/a/b"),
        ("GET", "/a/c"),
        ("PUT", "/a/c"),
        ("GET", "/plain"),
        ("GET", "/plain/"),
        ("POST", "/plain/"),
        ("GET", "/d/"),
        ("GET", "/d/0"),
        ("GET", "/d/5"),
        ("GET", "/nothing"),
        ("GET", "/b/only"),
        ("GET", "/b/other"),
        # misses, near misses and redirects the prefix check must leave to werkzeug
        ("GET", "/d"),
        ("GET", "/a"),
        ("GET", "/ab"),
        ("GET", "/a/b/"),
        ("GET", "//a/b"),
        ("GET", "/plain//"),
        ("POST", "/nothing"),
        ("GET", "/nothing/"),
        ("GET", "/b"),
        ("GET", "/x/y"),
        ("GET", "/"),
    ]
    for method, path in cases:
        assert _matches(fast_client, method, path) == _matches(slow_client, method, path), (
            method,
            path,
        )


def test_fast_path_sets_rule_and_view_args(app: Erlen, client: ErlenClient) -> None:
    @app.route("/plain")
    def plain() -> dict[str, t.Any]:
        assert request.url_rule is not None
        return {
            "rule": request.url_rule.rule,
            "endpoint": request.endpoint,
            "args": request.view_args,
        }

    assert client.get("/plain").json == {"rule": "/plain", "endpoint": "plain", "args": {}}


def test_routes_added_after_matching_are_seen(app: Erlen) -> None:
    # The static table is rebuilt when rules are added (before the first request).
    @app.route("/one")
    def one() -> str:
        return "one"

    assert app.url_map.route_shortcuts().match_static("/one", "GET") is not None
    assert app.url_map.route_shortcuts().match_static("/two", "GET") is None

    @app.route("/two")
    def two() -> str:
        return "two"

    rule = app.url_map.route_shortcuts().match_static("/two", "GET")
    assert rule is not None and rule.endpoint == "two"
    assert app.url_map.route_shortcuts().match_static("/two", "POST") is None
