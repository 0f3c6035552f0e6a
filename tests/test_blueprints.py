"""Blueprints: constructor and registration options, registering twice, nesting, scoped and
app-wide hooks, error handlers, templates, static files and template functions."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from werkzeug.exceptions import NotFound

from erlen import (
    Blueprint,
    Erlen,
    Response,
    abort,
    g,
    render_template,
    render_template_string,
    request,
    url_for,
)
from erlen.blueprints import BlueprintSetupState
from erlen.testing import ErlenClient


@pytest.fixture
def app(tmp_path: Path) -> Erlen:
    """An app rooted in a temporary folder, so tests can give it (and blueprints) files."""
    app = Erlen("test_blueprints", root_path=str(tmp_path / "app"))
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-with-enough-entropy-0123")
    return app


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def client_for(app: Erlen, protocol: str) -> ErlenClient:
    return app.test_client(asgi=protocol == "asgi")


# --- constructor options ----------------------------------------------------------------------


def test_url_prefix(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.route("/items")
    def items() -> str:
        return url_for("shop.items")

    @bp.route("/")
    def home() -> str:
        return url_for(".home")

    app.register_blueprint(bp)
    assert client.get("/shop/items").data == b"/shop/items"
    assert client.get("/shop/").data == b"/shop/"
    assert client.get("/items").status_code == 404


def test_rule_without_leading_slash_and_empty_rule(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp/")

    @bp.route("")
    def root() -> str:
        return "root"

    @bp.route("page")
    def page() -> str:
        return "page"

    app.register_blueprint(bp)
    assert client.get("/bp/").data == b"root"
    assert client.get("/bp/page").data == b"page"


def test_subdomain_with_server_name(protocol: str, tmp_path: Path) -> None:
    app = Erlen("sub", subdomain_matching=True, root_path=str(tmp_path))
    app.config.update(TESTING=True, SERVER_NAME="example.test")
    bp = Blueprint("api", __name__, subdomain="api")

    @bp.route("/")
    def index() -> str:
        return f"api {url_for('api.index')} {url_for('main')}"

    @app.route("/")
    def main() -> str:
        return "main"

    app.register_blueprint(bp)
    client = client_for(app, protocol)
    assert client.get("/", subdomain="api").data == (b"api / http://example.test/")
    assert client.get("/").data == b"main"
    assert client.get("/", subdomain="other").status_code == 404
    with app.app_context():
        assert url_for("api.index") == "http://api.example.test/"


def test_url_defaults_option(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("lang", __name__, url_prefix="/en", url_defaults={"lang": "en"})

    @bp.route("/")
    def index(lang: str) -> str:
        return f"{lang} {url_for('.index')}"

    app.register_blueprint(bp)
    assert client.get("/en/").data == b"en /en/"


def test_template_folder_after_app_templates(
    app: Erlen, client: ErlenClient, tmp_path: Path
) -> None:
    bp_root = tmp_path / "bp"
    write(bp_root / "bp_templates", "shared.html", "from blueprint")
    write(bp_root / "bp_templates", "only_bp.html", "only in blueprint {{ x }}")
    write(tmp_path / "app" / "templates", "shared.html", "from app")
    bp = Blueprint("bp", __name__, template_folder="bp_templates", root_path=str(bp_root))

    @bp.route("/shared")
    def shared() -> str:
        return render_template("shared.html")

    @bp.route("/only")
    def only() -> str:
        return render_template("only_bp.html", x=1)

    app.register_blueprint(bp)
    assert client.get("/shared").data == b"from app"
    assert client.get("/only").data == b"only in blueprint 1"


def test_static_folder(app: Erlen, client: ErlenClient, tmp_path: Path) -> None:
    bp_root = tmp_path / "bp"
    write(bp_root / "assets", "style.css", "body { color: red }")
    bp = Blueprint(
        "admin",
        __name__,
        static_folder="assets",
        static_url_path="/files",
        url_prefix="/admin",
        root_path=str(bp_root),
    )

    @bp.route("/link")
    def link() -> str:
        return url_for(".static", filename="style.css")

    app.register_blueprint(bp)
    response = client.get("/admin/files/style.css")
    assert response.status_code == 200
    assert response.data == b"body { color: red }"
    assert response.mimetype == "text/css"
    response.close()
    assert client.get("/admin/link").data == b"/admin/files/style.css"
    assert client.get("/admin/files/missing.css").status_code == 404
    assert "admin.static" in app.view_functions


def test_static_url_path_defaults_to_folder_name(
    app: Erlen, client: ErlenClient, tmp_path: Path
) -> None:
    write(tmp_path / "bp" / "static", "a.txt", "A")
    bp = Blueprint(
        "bp", __name__, static_folder="static", url_prefix="/bp", root_path=str(tmp_path / "bp")
    )
    app.register_blueprint(bp)
    response = client.get("/bp/static/a.txt")
    assert response.data == b"A"
    response.close()
    with app.test_request_context():
        assert url_for("bp.static", filename="a.txt") == "/bp/static/a.txt"


# --- registration options ---------------------------------------------------------------------


def test_registration_options_override(protocol: str, tmp_path: Path) -> None:
    app = Erlen("reg", subdomain_matching=True, root_path=str(tmp_path))
    app.config.update(TESTING=True, SERVER_NAME="example.test")
    bp = Blueprint(
        "bp", __name__, url_prefix="/old", subdomain="old", url_defaults={"a": "1", "b": "2"}
    )

    @bp.route("/")
    def index(a: str, b: str) -> str:
        return f"{request.endpoint} {a} {b}"

    app.register_blueprint(
        bp, url_prefix="/new", subdomain="new", url_defaults={"b": "3"}, name="renamed"
    )
    client = client_for(app, protocol)
    assert client.get("/new/", subdomain="new").data == b"renamed.index 1 3"
    assert client.get("/old/", subdomain="new").status_code == 404
    assert client.get("/new/", subdomain="old").status_code == 404
    assert "renamed" in app.blueprints
    assert "bp" not in app.blueprints


def test_registration_url_prefix_empty_string_overrides(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/prefixed")

    @bp.route("/page")
    def page() -> str:
        return "page"

    app.register_blueprint(bp, url_prefix="")
    assert client.get("/page").data == b"page"
    assert client.get("/prefixed/page").status_code == 404


def test_registered_twice_under_different_names(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("items", __name__)
    calls: list[str | None] = []

    @bp.before_request
    def before() -> None:
        calls.append(request.blueprint)

    @bp.route("/")
    def index() -> str:
        return f"{request.blueprint} {url_for('.index')}"

    app.register_blueprint(bp, url_prefix="/first")
    app.register_blueprint(bp, url_prefix="/second", name="items2")
    assert client.get("/first/").data == b"items /first/"
    assert calls == ["items"]
    assert client.get("/second/").data == b"items2 /second/"
    assert calls == ["items", "items2"]
    with app.test_request_context():
        assert url_for("items.index") == "/first/"
        assert url_for("items2.index") == "/second/"
    assert app.blueprints == {"items": bp, "items2": bp}


def test_same_name_collision(app: Erlen) -> None:
    first = Blueprint("dup", __name__)
    second = Blueprint("dup", __name__)
    app.register_blueprint(first)
    with pytest.raises(ValueError, match="'dup' is already registered for a different blueprint"):
        app.register_blueprint(second)
    with pytest.raises(ValueError, match=r"already registered for this blueprint.*name="):
        app.register_blueprint(first, url_prefix="/again")
    app.register_blueprint(second, name="dup2")
    assert app.blueprints["dup2"] is second


@pytest.mark.parametrize("name", ["", "a.b"])
def test_invalid_blueprint_name(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        Blueprint(name, __name__)


@pytest.mark.parametrize("name", ["", "a.b"])
def test_invalid_registration_name(app: Erlen, name: str) -> None:
    bp = Blueprint("bp", __name__)

    @bp.route("/")
    def index() -> str:
        return "index"

    with pytest.raises(ValueError, match="'name' may not"):
        app.register_blueprint(bp, name=name)
    assert not app.blueprints
    assert [rule.endpoint for rule in app.url_map.iter_rules()] == ["static"]


def test_dot_in_endpoint_or_view_name() -> None:
    bp = Blueprint("bp", __name__)

    def view() -> str:
        return ""

    with pytest.raises(ValueError, match="endpoint"):
        bp.add_url_rule("/", "a.b", view)
    view.__name__ = "a.b"
    with pytest.raises(ValueError, match="view_func"):
        bp.add_url_rule("/", view_func=view)
    assert bp.deferred_functions == []


def test_setup_after_registration_is_an_error(app: Erlen) -> None:
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="already been registered"):

        @bp.route("/late")
        def late() -> str:
            return "late"

    with pytest.raises(AssertionError, match="before_request"):
        bp.before_request(lambda: None)


def test_registering_after_first_request_is_an_error(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return "index"

    client.get("/")
    with pytest.raises(AssertionError, match="register_blueprint"):
        app.register_blueprint(Blueprint("late", __name__))


def test_endpoint_decorator_on_blueprint(app: Erlen, client: ErlenClient) -> None:
    # As in Flask, the endpoint a blueprint's decorator names is the app's, not prefixed.
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/page", endpoint="page")
    app.add_url_rule("/top", endpoint="top")

    @bp.endpoint("bp.page")
    def page_view() -> str:
        return f"{request.endpoint}"

    @bp.endpoint("top")
    def top_view() -> str:
        return f"{request.endpoint}"

    app.register_blueprint(bp)
    assert client.get("/bp/page").data == b"bp.page"
    assert client.get("/top").data == b"top"


def test_record_and_record_once(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/p")
    states: list[tuple[str, str, str | None, bool]] = []
    once: list[str] = []

    @bp.record
    def every(state: BlueprintSetupState) -> None:
        assert state.blueprint is bp
        states.append((state.app.name, state.name, state.url_prefix, state.first_registration))

    @bp.record_once
    def first(state: BlueprintSetupState) -> None:
        once.append(state.name)
        state.app.config["BP_READY"] = True

    app.register_blueprint(bp)
    app.register_blueprint(bp, name="bp2", url_prefix="/q")
    assert states == [
        ("test_blueprints", "bp", "/p", True),
        ("test_blueprints", "bp2", "/q", False),
    ]
    assert once == ["bp"]
    assert app.config["BP_READY"] is True

    other = Erlen("other")
    other.register_blueprint(bp)
    assert once == ["bp", "bp"]  # once per app
    assert states[-1] == ("other", "bp", "/p", True)


def test_setup_state_add_url_rule(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    def view() -> str:
        return request.endpoint or ""

    bp.record(lambda state: state.add_url_rule("/added", view_func=view))
    app.register_blueprint(bp)
    assert client.get("/bp/added").data == b"bp.view"


# --- nesting ----------------------------------------------------------------------------------


def test_nested_endpoints_and_prefixes(app: Erlen, client: ErlenClient) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/parent/")
    child = Blueprint("child", __name__, url_prefix="/child/")
    grandchild = Blueprint("grandchild", __name__, url_prefix="grand")

    @child.route("/view")
    def view() -> str:
        return (
            f"{request.endpoint} {request.blueprint} {request.blueprints}"
            f" {url_for('.view')} {url_for('.other')}"
        )

    @child.route("/other")
    def other() -> str:
        return "other"

    @grandchild.route("/")
    def deep() -> str:
        return f"{request.blueprints} {url_for('.deep')}"

    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/parent/child/view").data == (
        b"parent.child.view parent.child ['parent.child', 'parent']"
        b" /parent/child/view /parent/child/other"
    )
    assert client.get("/parent/child/grand/").data == (
        b"['parent.child.grandchild', 'parent.child', 'parent'] /parent/child/grand/"
    )
    assert set(app.blueprints) == {"parent", "parent.child", "parent.child.grandchild"}
    with app.test_request_context():
        assert url_for("parent.child.view") == "/parent/child/view"


def test_nested_registration_options(app: Erlen, client: ErlenClient) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, url_prefix="/ignored")

    @parent.route("/")
    def index() -> str:
        return "parent"

    @child.route("/")
    def index_child() -> str:
        return request.endpoint or ""

    parent.register_blueprint(child, url_prefix="/kid", name="kid")
    app.register_blueprint(parent, url_prefix="/p")
    assert client.get("/p/").data == b"parent"
    assert client.get("/p/kid/").data == b"parent.kid.index_child"
    assert client.get("/p/ignored/").status_code == 404


def test_nested_without_prefixes(app: Erlen, client: ErlenClient) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, url_prefix="/child")
    grandchild = Blueprint("grandchild", __name__)

    @grandchild.route("/g")
    def g_view() -> str:
        return "g"

    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/child/g").data == b"g"


def test_nested_subdomains(protocol: str, tmp_path: Path) -> None:
    app = Erlen("nested_sub", subdomain_matching=True, root_path=str(tmp_path))
    app.config.update(TESTING=True, SERVER_NAME="example.test")
    parent = Blueprint("parent", __name__, subdomain="api")
    child = Blueprint("child", __name__, subdomain="v1")
    plain = Blueprint("plain", __name__, url_prefix="/plain")

    @child.route("/")
    def index() -> str:
        return url_for(".index", _external=True)

    @plain.route("/")
    def plain_index() -> str:
        return "inherits the parent's subdomain"

    parent.register_blueprint(child)
    parent.register_blueprint(plain)
    app.register_blueprint(parent)
    client = client_for(app, protocol)
    assert client.get("/", subdomain="v1.api").data == b"http://v1.api.example.test/"
    assert client.get("/", subdomain="api").status_code == 404
    assert client.get("/plain/", subdomain="api").status_code == 200
    assert client.get("/plain/").status_code == 404


def test_parent_registered_twice_renames_children(app: Erlen, client: ErlenClient) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)

    @child.route("/c")
    def view() -> str:
        return f"{request.endpoint} {url_for('.view')}"

    parent.register_blueprint(child)
    app.register_blueprint(parent, url_prefix="/1")
    app.register_blueprint(parent, url_prefix="/2", name="other")
    assert client.get("/1/c").data == b"parent.child.view /1/c"
    assert client.get("/2/c").data == b"other.child.view /2/c"
    assert list(app.blueprints) == ["parent", "parent.child", "other", "other.child"]


def test_blueprint_cannot_be_registered_on_itself() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="itself"):
        bp.register_blueprint(bp)


def test_same_child_under_two_parents(app: Erlen, client: ErlenClient) -> None:
    child = Blueprint("child", __name__)
    first = Blueprint("first", __name__, url_prefix="/1")
    second = Blueprint("second", __name__, url_prefix="/2")

    @child.route("/")
    def index() -> str:
        return url_for(".index")

    first.register_blueprint(child)
    second.register_blueprint(child)
    app.register_blueprint(first)
    app.register_blueprint(second)
    assert client.get("/1/").data == b"/1/"
    assert client.get("/2/").data == b"/2/"


# --- blueprint-scoped hooks -------------------------------------------------------------------


def test_hook_order_with_nesting(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @app.before_request
    def app_before() -> None:
        events.append("app before")

    @parent.before_request
    def parent_before() -> None:
        events.append("parent before")

    @child.before_request
    def child_before() -> None:
        events.append("child before")

    @app.after_request
    def app_after(response: Response) -> Response:
        events.append("app after")
        return response

    @parent.after_request
    def parent_after(response: Response) -> Response:
        events.append("parent after")
        return response

    @child.after_request
    def child_after(response: Response) -> Response:
        events.append("child after")
        response.headers["X-Child"] = "1"
        return response

    @app.teardown_request
    def app_teardown(exc: BaseException | None) -> None:
        events.append("app teardown")

    @parent.teardown_request
    def parent_teardown(exc: BaseException | None) -> None:
        events.append("parent teardown")

    @child.teardown_request
    def child_teardown(exc: BaseException | None) -> None:
        events.append(f"child teardown {exc!r}")

    @child.route("/")
    def index() -> str:
        events.append("view")
        return "ok"

    @app.route("/")
    def app_index() -> str:
        events.append("app view")
        return "app"

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    response = client.get("/p/c/")
    assert response.headers["X-Child"] == "1"
    assert events == [
        "app before",
        "parent before",
        "child before",
        "view",
        "child after",
        "parent after",
        "app after",
        "child teardown None",
        "parent teardown",
        "app teardown",
    ]
    events.clear()
    response = client.get("/")
    assert "X-Child" not in response.headers
    assert events == ["app before", "app view", "app after", "app teardown"]


def test_before_request_of_blueprint_can_answer(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("private", __name__, url_prefix="/private")

    @bp.before_request
    def deny() -> tuple[str, int] | None:
        if request.args.get("key") != "secret":
            return "denied", 403
        return None

    @bp.route("/")
    def index() -> str:
        return "private"

    @app.route("/")
    def public() -> str:
        return "public"

    app.register_blueprint(bp)
    response = client.get("/private/")
    assert (response.status_code, response.data) == (403, b"denied")
    assert client.get("/private/?key=secret").data == b"private"
    assert client.get("/").data == b"public"


def test_teardown_receives_exception(app: Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    errors: list[BaseException | None] = []
    bp = Blueprint("bp", __name__)

    @bp.teardown_request
    def teardown(exc: BaseException | None) -> None:
        errors.append(exc)

    @bp.route("/boom")
    def boom() -> str:
        raise KeyError("boom")

    app.register_blueprint(bp)
    assert client.get("/boom").status_code == 500
    assert len(errors) == 1 and isinstance(errors[0], KeyError)


def test_url_value_preprocessor_and_url_defaults_scoped(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("lang", __name__, url_prefix="/<lang_code>")
    seen: list[tuple[str | None, dict[str, t.Any] | None]] = []

    @bp.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        seen.append((endpoint, dict(values or {})))
        assert values is not None
        g.lang_code = values.pop("lang_code")

    @bp.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang_code", g.get("lang_code", "xx"))

    @bp.route("/about")
    def about() -> str:
        return f"{g.lang_code} {url_for('.about')} {url_for('root')}"

    @app.route("/")
    def root() -> str:
        return f"{g.get('lang_code')} {url_for('lang.about', lang_code='fr')}"

    app.register_blueprint(bp)
    assert client.get("/de/about").data == b"de /de/about /"
    assert seen == [("lang.about", {"lang_code": "de"})]
    assert client.get("/").data == b"None /fr/about"
    assert len(seen) == 1  # not run for the app's endpoint
    with app.test_request_context():
        g.lang_code = "it"
        assert url_for("lang.about") == "/it/about"
        assert url_for("root") == "/"  # blueprint url_defaults only for its endpoints


# --- error handlers ---------------------------------------------------------------------------


class ShopError(Exception):
    pass


def test_blueprint_error_handlers(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.errorhandler(403)
    def bp_forbidden(error: Exception) -> tuple[str, int]:
        return "shop forbidden", 403

    @bp.errorhandler(ShopError)
    def bp_shop_error(error: Exception) -> tuple[str, int]:
        return f"shop error {error}", 409

    @bp.errorhandler(404)
    def bp_not_found(error: Exception) -> tuple[str, int]:
        return "shop 404", 404

    @app.errorhandler(403)
    def app_forbidden(error: Exception) -> tuple[str, int]:
        return "app forbidden", 403

    @app.errorhandler(404)
    def app_not_found(error: Exception) -> tuple[str, int]:
        return "app 404", 404

    @bp.route("/secret")
    def secret() -> str:
        abort(403)

    @bp.route("/broken")
    def broken() -> str:
        raise ShopError("sold out")

    @bp.route("/missing")
    def missing() -> str:
        raise NotFound()

    @app.route("/secret")
    def app_secret() -> str:
        abort(403)

    app.register_blueprint(bp)
    assert client.get("/shop/secret").data == b"shop forbidden"
    response = client.get("/shop/broken")
    assert (response.status_code, response.data) == (409, b"shop error sold out")
    assert client.get("/shop/missing").data == b"shop 404"
    assert client.get("/secret").data == b"app forbidden"
    # An unknown URL matches no endpoint, so no blueprint: the app's handler answers.
    assert client.get("/shop/unknown").data == b"app 404"
    assert client.get("/nowhere").data == b"app 404"


def test_blueprint_handler_by_class_hierarchy(app: Erlen, client: ErlenClient) -> None:
    class SpecificError(ShopError):
        pass

    bp = Blueprint("bp", __name__)

    @bp.errorhandler(ShopError)
    def handle(error: Exception) -> str:
        return f"handled {type(error).__name__}"

    @bp.route("/specific")
    def specific() -> str:
        raise SpecificError()

    @app.route("/app")
    def app_view() -> str:
        raise ShopError()

    app.register_blueprint(bp)
    assert client.get("/specific").data == b"handled SpecificError"
    with pytest.raises(ShopError):  # TESTING: unhandled errors propagate
        client.get("/app")


def test_blueprint_500_handler_for_unhandled_errors(app: Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        original = getattr(error, "original_exception", None)
        return f"bp 500 {type(original).__name__}", 500

    @bp.route("/crash")
    def crash() -> str:
        raise LookupError("lost")

    @app.route("/crash")
    def app_crash() -> str:
        raise LookupError("lost")

    app.register_blueprint(bp)
    response = client.get("/bp/crash")
    assert (response.status_code, response.data) == (500, b"bp 500 LookupError")
    response = client.get("/crash")
    assert response.status_code == 500
    assert b"bp 500" not in response.data


def test_nested_blueprint_error_handler_inherited(app: Erlen, client: ErlenClient) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @parent.errorhandler(ShopError)
    def parent_handler(error: Exception) -> str:
        return "parent handled"

    @child.errorhandler(418)
    def child_teapot(error: Exception) -> tuple[str, int]:
        return "child teapot", 418

    @parent.errorhandler(418)
    def parent_teapot(error: Exception) -> tuple[str, int]:
        return "parent teapot", 418

    @child.route("/error")
    def error() -> str:
        raise ShopError()

    @child.route("/teapot")
    def teapot() -> str:
        abort(418)

    @parent.route("/teapot")
    def parent_teapot_view() -> str:
        abort(418)

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/error").data == b"parent handled"
    assert client.get("/p/c/teapot").data == b"child teapot"
    assert client.get("/p/teapot").data == b"parent teapot"


# --- templates: context processors and template functions -------------------------------------


def test_context_processor_scoped_to_blueprint(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.context_processor
    def bp_values() -> dict[str, t.Any]:
        return {"who": "blueprint", "bp_only": "yes"}

    @app.context_processor
    def app_values() -> dict[str, t.Any]:
        return {"who": "app"}

    template = "{{ who }} {{ bp_only | default('-') }}"

    @bp.route("/")
    def bp_index() -> str:
        return render_template_string(template)

    @app.route("/")
    def index() -> str:
        return render_template_string(template)

    app.register_blueprint(bp)
    assert client.get("/bp/").data == b"blueprint yes"  # the blueprint's value wins in it
    assert client.get("/").data == b"app -"


def test_app_wide_template_functions_from_blueprint(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("helpers", __name__)

    @bp.app_context_processor
    def site() -> dict[str, t.Any]:
        return {"site": "erlen.test"}

    @bp.app_template_filter()
    def shout(value: str) -> str:
        return value.upper() + "!"

    @bp.app_template_filter("twice")
    def double(value: str) -> str:
        return value * 2

    @bp.app_template_test()
    def even(value: int) -> bool:
        return value % 2 == 0

    bp.add_app_template_test(lambda value: value > 100, name="big")
    bp.add_app_template_global(lambda: "global!", name="greet")
    bp.add_app_template_filter(str.strip, name="trim_it")

    @bp.app_template_global()
    def answer() -> int:
        return 42

    @app.route("/")
    def index() -> str:
        return render_template_string(
            "{{ site }} {{ 'hi' | shout }} {{ 'ab' | twice }} {{ 4 is even }} {{ 3 is even }}"
            " {{ 101 is big }} {{ greet() }} {{ answer() }} [{{ '  x ' | trim_it }}]"
        )

    app.register_blueprint(bp)
    assert client.get("/").data == (b"erlen.test HI! abab True False True global! 42 [x]")


def test_blueprint_template_context_processor_for_blueprint_templates(
    app: Erlen, client: ErlenClient, tmp_path: Path
) -> None:
    bp_root = tmp_path / "bp"
    write(bp_root / "templates", "bp/page.html", "{{ section }}")
    bp = Blueprint("bp", __name__, template_folder="templates", root_path=str(bp_root))

    @bp.context_processor
    def section() -> dict[str, str]:
        return {"section": "in blueprint"}

    @bp.route("/bp")
    def page() -> str:
        return render_template("bp/page.html")

    @app.route("/app")
    def app_page() -> str:
        return render_template("bp/page.html")  # the same template, outside the blueprint

    app.register_blueprint(bp)
    assert client.get("/bp").data == b"in blueprint"
    assert client.get("/app").data == b""


# --- app-wide hooks from a blueprint ----------------------------------------------------------


def test_app_wide_hooks_from_blueprint(app: Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[str] = []
    bp = Blueprint("ext", __name__, url_prefix="/ext")

    @bp.before_app_request
    def before() -> None:
        events.append(f"before {request.endpoint}")

    @bp.after_app_request
    def after(response: Response) -> Response:
        response.headers["X-Ext"] = "yes"
        return response

    @bp.teardown_app_request
    def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown {type(exc).__name__ if exc else None}")

    @bp.app_errorhandler(ShopError)
    def shop_error(error: Exception) -> tuple[str, int]:
        return "handled app-wide", 400

    @bp.app_errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return "app-wide 404", 404

    @bp.app_url_value_preprocessor
    def pull(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        if values and "user" in values:
            g.user = values.pop("user").title()

    @bp.app_url_defaults
    def defaults(endpoint: str, values: dict[str, t.Any]) -> None:
        if "user" not in values and endpoint == "profile":
            values["user"] = "default"

    @app.route("/u/<user>")
    def profile() -> str:
        return f"{g.user} {url_for('profile')}"

    @app.route("/fail")
    def fail() -> str:
        raise ShopError()

    @app.route("/crash")
    def crash() -> str:
        raise RuntimeError("crash")

    app.register_blueprint(bp)
    response = client.get("/u/ann")
    assert response.data == b"Ann /u/default"
    assert response.headers["X-Ext"] == "yes"
    assert events == ["before profile", "teardown None"]
    events.clear()
    response = client.get("/fail")
    assert (response.status_code, response.data) == (400, b"handled app-wide")
    assert client.get("/nope").data == b"app-wide 404"
    events.clear()
    assert client.get("/crash").status_code == 500
    assert events == ["before crash", "teardown RuntimeError"]


def test_app_wide_hooks_registered_once_when_blueprint_registered_twice(
    app: Erlen, client: ErlenClient
) -> None:
    calls: list[str] = []
    bp = Blueprint("bp", __name__)

    @bp.before_app_request
    def before() -> None:
        calls.append("before")

    app.register_blueprint(bp)
    app.register_blueprint(bp, name="bp2", url_prefix="/2")

    @app.route("/")
    def index() -> str:
        return "ok"

    client.get("/")
    assert calls == ["before"]


# --- async hooks ------------------------------------------------------------------------------


def test_async_hooks_in_blueprint(app: Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[str] = []
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.before_request
    async def before() -> None:
        g.started = "yes"
        events.append("before")

    @bp.after_request
    async def after(response: Response) -> Response:
        response.headers["X-Async"] = g.started
        events.append("after")
        return response

    @bp.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown {type(exc).__name__ if exc else None}")

    @bp.errorhandler(ShopError)
    async def handle(error: Exception) -> tuple[str, int]:
        return "async handled", 409

    @bp.before_app_request
    async def app_before() -> None:
        events.append("app before")

    @bp.route("/")
    async def index() -> str:
        return "async view"

    @bp.route("/sync")
    def sync_index() -> str:
        return "sync view"

    @bp.route("/error")
    async def error() -> str:
        raise ShopError()

    app.register_blueprint(bp)
    response = client.get("/bp/")
    assert (response.data, response.headers["X-Async"]) == (b"async view", "yes")
    assert events == ["app before", "before", "after", "teardown None"]
    assert client.get("/bp/sync").data == b"sync view"
    response = client.get("/bp/error")
    assert (response.status_code, response.data) == (409, b"async handled")


# --- an unused blueprint changes nothing ------------------------------------------------------


def test_blueprint_without_hooks_adds_no_hook_entries(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("plain", __name__, url_prefix="/plain")

    @bp.route("/")
    def index() -> str:
        return "plain"

    @app.route("/")
    def root() -> str:
        return "root"

    app.register_blueprint(bp)
    assert not app.before_request_funcs
    assert not app.after_request_funcs
    assert not app.teardown_request_funcs
    assert not app.url_value_preprocessors
    assert not app.url_default_functions
    assert not app.template_context_processors
    assert not app.error_handler_spec
    assert client.get("/").data == b"root"
    assert client.get("/plain/").data == b"plain"
    assert client.get("/missing").status_code == 404
    assert not app.before_request_funcs  # nor do requests add any


def test_unused_blueprint_does_not_change_responses(
    app: Erlen, client: ErlenClient, protocol: str, tmp_path: Path
) -> None:
    def build(with_blueprint: bool) -> ErlenClient:
        other = Erlen("same", root_path=str(tmp_path / ("a" if with_blueprint else "b")))
        other.config.update(TESTING=True)

        @other.route("/")
        def index() -> tuple[str, int, dict[str, str]]:
            return "hello", 201, {"X-Test": "1"}

        if with_blueprint:
            unused = Blueprint("unused", __name__, url_prefix="/unused")

            @unused.before_request
            def never() -> str:
                return "should not run"

            other.register_blueprint(unused)
        return client_for(other, protocol)

    with_bp, without_bp = build(True).get("/"), build(False).get("/")
    assert (with_bp.status_code, with_bp.data, with_bp.headers["X-Test"]) == (
        without_bp.status_code,
        without_bp.data,
        without_bp.headers["X-Test"],
    )
    assert build(True).get("/missing").status_code == build(False).get("/missing").status_code


def test_app_template_functions_accept_the_bare_decorator(app: Erlen, client: ErlenClient) -> None:
    bp = Blueprint("bare", __name__)

    @bp.app_template_filter
    def shout(value: str) -> str:
        return value.upper()

    @bp.app_template_test
    def short(value: str) -> bool:
        return len(value) < 4

    @bp.app_template_global
    def greeting() -> str:
        return "hi"

    app.register_blueprint(bp)

    @app.get("/")
    def index() -> str:
        return render_template_string("{{ 'abc'|shout }} {{ 'abc' is short }} {{ greeting() }}")

    assert client.get("/").text == "ABC True hi"


def test_hooks_of_a_nested_blueprint_only_run_for_its_routes(
    app: Erlen, client: ErlenClient
) -> None:
    """With no app-wide hooks, a blueprint's hooks and URL value preprocessors run for its own
    routes (nested ones included) and for no other."""
    events: list[str] = []
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @child.url_value_preprocessor
    def pull(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        events.append(f"preprocess {endpoint}")

    @child.before_request
    def before() -> None:
        events.append("before")

    @child.after_request
    def after(response: Response) -> Response:
        events.append("after")
        return response

    @app.get("/")
    def index() -> str:
        return "app"

    @parent.get("/")
    def parent_index() -> str:
        return "parent"

    @child.get("/")
    def child_index() -> str:
        return "child"

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/").text == "app"
    assert client.get("/p/").text == "parent"
    assert events == []
    assert client.get("/p/c/").text == "child"
    assert events == ["preprocess parent.child.child_index", "before", "after"]
