"""The application: sync and async views, hooks, helpers, config and serving."""

from __future__ import annotations

import asyncio
import sys
import types
import typing as t
from collections.abc import Iterable

import pytest
from werkzeug.exceptions import (
    NotFound,
)
from werkzeug.test import EnvironBuilder

from erlen import (
    Erlen,
    Response,
    abort,
    after_this_request,
    g,
    jsonify,
    make_response,
    redirect,
    request,
)
from erlen.testing import ErlenClient

# --- sync and async views ---------------------------------------------------------------------


def test_sync_and_async_views(app: Erlen, client: ErlenClient) -> None:
    @app.route("/sync/<int:n>")
    def sync_view(n: int) -> dict[str, t.Any]:
        return {"n": n, "method": request.method}

    @app.route("/async/<int:n>", methods=["GET", "POST"])
    async def async_view(n: int) -> dict[str, t.Any]:
        await asyncio.sleep(0)
        return {"n": n * 2, "method": request.method, "json": request.get_json(silent=True)}

    assert client.get("/sync/3").json == {"n": 3, "method": "GET"}
    assert client.get("/async/3").json == {"n": 6, "method": "GET", "json": None}
    assert client.post("/async/4", json={"a": 1}).json == {
        "n": 8,
        "method": "POST",
        "json": {"a": 1},
    }


def test_async_view_can_return_tuple(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    async def index() -> tuple[str, int, dict[str, str]]:
        return "async", 201, {"X-Async": "1"}

    response = client.get("/")
    assert (response.status_code, response.text, response.headers["X-Async"]) == (
        201,
        "async",
        "1",
    )


def test_async_view_exception_propagates(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        raise KeyError("async-boom")

    with pytest.raises(KeyError, match="async-boom"):
        client.get("/")


# --- hooks ------------------------------------------------------------------------------------


def test_before_request_order_and_g(app: Erlen, client: ErlenClient) -> None:
    order: list[str] = []

    @app.before_request
    def first() -> None:
        order.append("first")
        g.value = "set in hook"

    @app.before_request
    def second() -> None:
        order.append("second")

    @app.route("/")
    def index() -> str:
        order.append("view")
        return str(g.value)

    assert client.get("/").text == "set in hook"
    assert order == ["first", "second", "view"]


def test_before_request_short_circuits(app: Erlen, client: ErlenClient) -> None:
    order: list[str] = []

    @app.before_request
    def first() -> tuple[str, int] | None:
        order.append("first")
        if request.args.get("block"):
            return "blocked", 403
        return None

    @app.before_request
    def second() -> None:
        order.append("second")

    @app.after_request
    def after(response: Response) -> Response:
        order.append("after")
        return response

    @app.route("/")
    def index() -> str:
        order.append("view")
        return "view"

    response = client.get("/?block=1")
    assert (response.status_code, response.text) == (403, "blocked")
    assert order == ["first", "after"]
    order.clear()
    assert client.get("/").text == "view"
    assert order == ["first", "second", "view", "after"]


def test_before_request_runs_for_unmatched_urls(app: Erlen, client: ErlenClient) -> None:
    seen: list[str] = []

    @app.before_request
    def before() -> None:
        seen.append(request.path)

    assert client.get("/missing").status_code == 404
    assert seen == ["/missing"]


def test_after_request_reverse_order(app: Erlen, client: ErlenClient) -> None:
    @app.after_request
    def first(response: Response) -> Response:
        response.headers.add("X-Order", "first")
        return response

    @app.after_request
    def second(response: Response) -> Response:
        response.headers.add("X-Order", "second")
        return response

    @app.route("/")
    def index() -> str:
        return "x"

    assert client.get("/").headers.getlist("X-Order") == ["second", "first"]


def test_after_request_can_replace_response(app: Erlen, client: ErlenClient) -> None:
    @app.after_request
    def replace(response: Response) -> Response:
        return Response(f"replaced {response.status_code}", status=202)

    @app.route("/")
    def index() -> str:
        return "original"

    response = client.get("/")
    assert response.status_code == 202
    assert response.text == "replaced 200"


def test_after_request_runs_for_error_responses(app: Erlen, client: ErlenClient) -> None:
    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["X-After"] = str(response.status_code)
        return response

    @app.route("/forbidden")
    def forbidden() -> str:
        abort(403)

    assert client.get("/forbidden").headers["X-After"] == "403"
    assert client.get("/missing").headers["X-After"] == "404"


def test_after_this_request(app: Erlen, client: ErlenClient) -> None:
    order: list[str] = []

    @app.after_request
    def global_after(response: Response) -> Response:
        order.append("after_request")
        return response

    @app.route("/")
    def index() -> str:
        @after_this_request
        def add_header(response: Response) -> Response:
            order.append("after_this_request")
            response.headers["X-This"] = "yes"
            return response

        return "x"

    @app.route("/other")
    def other() -> str:
        return "y"

    assert client.get("/").headers["X-This"] == "yes"
    assert order == ["after_this_request", "after_request"]
    assert "X-This" not in client.get("/other").headers


def test_after_this_request_outside_request_raises(app: Erlen) -> None:
    with pytest.raises(RuntimeError, match="request context"):
        after_this_request(lambda response: response)


def test_teardown_request_receives_none(app: Erlen, client: ErlenClient) -> None:
    errors: list[BaseException | None] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        errors.append(error)

    @app.route("/")
    def index() -> str:
        return "ok"

    assert client.get("/").text == "ok"
    assert errors == [None]


def test_teardown_request_receives_exception(app: Erlen, client: ErlenClient) -> None:
    errors: list[BaseException | None] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        errors.append(error)

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        client.get("/")
    assert len(errors) == 1
    assert isinstance(errors[0], ValueError)
    assert str(errors[0]) == "boom"


def test_teardown_receives_exception_when_not_propagated(app: Erlen, client: ErlenClient) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    request_errors: list[BaseException | None] = []
    app_errors: list[BaseException | None] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        request_errors.append(error)

    @app.teardown_appcontext
    def teardown_app(error: BaseException | None) -> None:
        app_errors.append(error)

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    assert client.get("/").status_code == 500
    assert [type(e) for e in request_errors] == [ValueError]
    assert [type(e) for e in app_errors] == [ValueError]


def test_teardown_gets_none_for_handled_exception(app: Erlen, client: ErlenClient) -> None:
    errors: list[BaseException | None] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        errors.append(error)

    @app.errorhandler(ValueError)
    def handle(error: ValueError) -> tuple[str, int]:
        return "handled", 400

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    assert client.get("/").status_code == 400
    assert errors == [None]


def test_teardown_request_reverse_order(app: Erlen, client: ErlenClient) -> None:
    order: list[str] = []

    @app.teardown_request
    def first(error: BaseException | None) -> None:
        order.append("first")

    @app.teardown_request
    def second(error: BaseException | None) -> None:
        order.append("second")

    @app.teardown_appcontext
    def app_teardown(error: BaseException | None) -> None:
        order.append("appcontext")

    @app.route("/")
    def index() -> str:
        return "ok"

    client.get("/")
    assert order == ["second", "first", "appcontext"]


def test_teardown_appcontext(app: Erlen, client: ErlenClient) -> None:
    seen: list[tuple[str, BaseException | None]] = []

    @app.teardown_appcontext
    def teardown(error: BaseException | None) -> None:
        seen.append((str(g.get("marker")), error))

    @app.route("/")
    def index() -> str:
        g.marker = "from view"
        return "ok"

    @app.route("/fail")
    def fail() -> str:
        raise LookupError("fail")

    client.get("/")
    assert seen == [("from view", None)]
    with pytest.raises(LookupError):
        client.get("/fail")
    assert isinstance(seen[1][1], LookupError)


def test_teardown_appcontext_outside_request(app: Erlen) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    def teardown(error: BaseException | None) -> None:
        seen.append(error)

    with app.app_context():
        pass
    assert seen == [None]


def test_async_hooks(app: Erlen, client: ErlenClient) -> None:
    order: list[str] = []

    @app.before_request
    async def before() -> None:
        await asyncio.sleep(0)
        order.append("before")
        g.user = "async-user"

    @app.after_request
    async def after(response: Response) -> Response:
        await asyncio.sleep(0)
        order.append("after")
        response.headers["X-Async-After"] = "1"
        return response

    @app.teardown_request
    async def teardown(error: BaseException | None) -> None:
        await asyncio.sleep(0)
        order.append("teardown")

    @app.route("/")
    def index() -> str:
        order.append("view")
        return str(g.user)

    response = client.get("/")
    assert response.text == "async-user"
    assert response.headers["X-Async-After"] == "1"
    assert order == ["before", "view", "after", "teardown"]


def test_sync_hook_and_async_view_share_g(app: Erlen, client: ErlenClient) -> None:
    @app.before_request
    def before() -> None:
        g.items = ["sync hook"]

    @app.route("/")
    async def index() -> dict[str, t.Any]:
        g.items.append("async view")
        return {"items": g.items}

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-Count"] = str(len(g.items))
        return response

    response = client.get("/")
    assert response.json == {"items": ["sync hook", "async view"]}
    assert response.headers["X-Count"] == "2"


def test_async_before_request_short_circuits(app: Erlen, client: ErlenClient) -> None:
    @app.before_request
    async def before() -> Response:
        return Response("denied", status=401)

    @app.route("/")
    async def index() -> str:
        raise AssertionError("the view must not run")

    response = client.get("/")
    assert (response.status_code, response.text) == (401, "denied")


# --- helpers ----------------------------------------------------------------------------------


def test_abort_404(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        abort(404)

    response = client.get("/")
    assert response.status_code == 404
    assert b"Not Found" in response.data


def test_abort_with_description(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        abort(400, "you sent nonsense")

    response = client.get("/")
    assert response.status_code == 400
    assert b"you sent nonsense" in response.data


def test_abort_with_response(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        abort(Response("custom body", status=418, headers={"X-Abort": "1"}))

    response = client.get("/")
    assert response.status_code == 418
    assert response.text == "custom body"
    assert response.headers["X-Abort"] == "1"


def test_abort_in_before_request(app: Erlen, client: ErlenClient) -> None:
    @app.before_request
    def guard() -> None:
        if "token" not in request.args:
            abort(401)

    @app.route("/")
    def index() -> str:
        return "secret"

    assert client.get("/").status_code == 401
    assert client.get("/?token=1").text == "secret"


def test_abort_outside_app_context() -> None:
    with pytest.raises(NotFound):
        abort(404)


def test_redirect_default_302(app: Erlen, client: ErlenClient) -> None:
    @app.route("/old")
    def old() -> t.Any:
        return redirect("/new")

    @app.route("/new")
    def new() -> str:
        return "new page"

    response = client.get("/old")
    assert response.status_code == 302
    assert response.headers["Location"] == "/new"
    assert client.get("/old", follow_redirects=True).text == "new page"


def test_redirect_303_after_post(app: Erlen, client: ErlenClient) -> None:
    @app.post("/form")
    def form() -> t.Any:
        return redirect("/done", code=303)

    @app.get("/done")
    def done() -> str:
        return f"done via {request.method}"

    response = client.post("/form", data={"a": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/done"
    assert client.post("/form", follow_redirects=True).text == "done via GET"


def test_redirect_returns_app_response_class(app: Erlen) -> None:
    with app.app_context():
        response = redirect("/somewhere")
    assert isinstance(response, Response)
    assert response.status_code == 302


def test_make_response_helper(app: Erlen, client: ErlenClient) -> None:
    @app.route("/tuple")
    def from_tuple() -> Response:
        response = make_response("Hello", 201, {"X-Id": "1"})
        response.headers["X-Extra"] = "2"
        return response

    @app.route("/single")
    def single() -> Response:
        response = make_response({"ok": True})
        response.set_cookie("made", "yes")
        return response

    @app.route("/empty")
    def empty() -> Response:
        response = make_response()
        response.status_code = 204
        return response

    response = client.get("/tuple")
    assert (response.status_code, response.text) == (201, "Hello")
    assert response.headers["X-Id"] == "1"
    assert response.headers["X-Extra"] == "2"
    response = client.get("/single")
    assert response.json == {"ok": True}
    assert "made=yes" in response.headers["Set-Cookie"]
    response = client.get("/empty")
    assert response.status_code == 204
    assert response.data == b""


def test_jsonify(app: Erlen, client: ErlenClient) -> None:
    @app.route("/kwargs")
    def kwargs() -> Response:
        return jsonify(a=1, b="two")

    @app.route("/object")
    def obj() -> Response:
        return jsonify({"nested": {"x": [1, 2]}})

    @app.route("/args")
    def args() -> Response:
        return jsonify(1, 2, 3)

    @app.route("/status")
    def status() -> tuple[Response, int]:
        return jsonify(error="nope"), 422

    response = client.get("/kwargs")
    assert response.mimetype == "application/json"
    assert response.json == {"a": 1, "b": "two"}
    assert client.get("/object").json == {"nested": {"x": [1, 2]}}
    assert client.get("/args").json == [1, 2, 3]
    response = client.get("/status")
    assert (response.status_code, response.json) == (422, {"error": "nope"})


def test_jsonify_without_app_context_raises() -> None:
    with pytest.raises(RuntimeError):
        jsonify(a=1)


# --- config and app attributes ----------------------------------------------------------------

FLASK_CONFIG_KEYS = {
    "DEBUG",
    "TESTING",
    "PROPAGATE_EXCEPTIONS",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "PERMANENT_SESSION_LIFETIME",
    "USE_X_SENDFILE",
    "TRUSTED_HOSTS",
    "SERVER_NAME",
    "APPLICATION_ROOT",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_PARTITIONED",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_REFRESH_EACH_REQUEST",
    "MAX_CONTENT_LENGTH",
    "MAX_FORM_MEMORY_SIZE",
    "MAX_FORM_PARTS",
    "SEND_FILE_MAX_AGE_DEFAULT",
    "TRAP_BAD_REQUEST_ERRORS",
    "TRAP_HTTP_EXCEPTIONS",
    "EXPLAIN_TEMPLATE_LOADING",
    "PREFERRED_URL_SCHEME",
    "TEMPLATES_AUTO_RELOAD",
    "MAX_COOKIE_SIZE",
    "PROVIDE_AUTOMATIC_OPTIONS",
}


def test_config_defaults() -> None:
    app = Erlen("defaults")
    assert set(app.config) >= FLASK_CONFIG_KEYS
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["DEBUG"] is False
    assert app.config["TESTING"] is False
    assert app.config["PROPAGATE_EXCEPTIONS"] is None
    assert app.config["SECRET_KEY"] is None
    assert app.config["SERVER_NAME"] is None
    assert app.config["APPLICATION_ROOT"] == "/"
    assert app.config["PREFERRED_URL_SCHEME"] == "http"
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["PROVIDE_AUTOMATIC_OPTIONS"] is True
    assert app.debug is False
    assert app.testing is False


def test_config_is_per_app(app: Erlen) -> None:
    app.config["CUSTOM"] = "x"
    app.config["MAX_CONTENT_LENGTH"] = 1
    other = Erlen("other")
    assert "CUSTOM" not in other.config
    assert other.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


def test_config_properties(app: Erlen) -> None:
    assert app.testing is True
    assert app.secret_key == app.config["SECRET_KEY"]
    app.debug = True
    assert app.config["DEBUG"] is True
    app.testing = False
    assert app.config["TESTING"] is False
    app.secret_key = "other"
    assert app.config["SECRET_KEY"] == "other"


def test_max_content_length_default_applies(app: Erlen, client: ErlenClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    def index() -> str:
        return str(len(request.get_data()))

    assert client.post("/", data=b"x" * 10).text == "10"
    assert client.post("/", data=b"x" * 11).status_code == 413


def test_app_name(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    assert app.name == "test_app"
    assert repr(app) == "<Erlen 'test_app'>"
    main = types.ModuleType("__main__")
    main.__file__ = "/somewhere/my_script.py"
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert Erlen("__main__", root_path="/somewhere").name == "my_script"


def test_setupmethod_after_first_request(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return "ok"

    @app.before_request
    def before() -> None:
        pass

    assert client.get("/").text == "ok"
    with pytest.raises(AssertionError, match="add_url_rule"):

        @app.route("/late")
        def late() -> str:
            return "late"

    with pytest.raises(AssertionError, match="before_request"):
        app.before_request(lambda: None)
    with pytest.raises(AssertionError, match="errorhandler"):
        app.errorhandler(404)
    with pytest.raises(AssertionError, match="first request"):
        app.teardown_appcontext(lambda error: None)
    assert client.get("/late").status_code == 404


def test_setupmethod_allowed_before_first_request(app: Erlen) -> None:
    with app.test_request_context():
        pass

    # A request context alone is not a handled request: registration still works.
    @app.route("/")
    def index() -> str:
        return "ok"

    assert "index" in app.view_functions


# --- serving ----------------------------------------------------------------------------------


def _routes(app: Erlen) -> None:
    @app.route("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name} via {'asgi' if request.scope else 'wsgi'}"


def test_call_dispatches_wsgi(app: Erlen) -> None:
    _routes(app)
    environ = EnvironBuilder(path="/hello/wsgi").get_environ()
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Any:
        started.append((status, headers))
        return lambda data: None

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    assert started[0][0] == "200 OK"
    assert ("Content-Type", "text/html; charset=utf-8") in started[0][1]
    assert data == b"hello wsgi via wsgi"


def _asgi_scope(path: str) -> dict[str, t.Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1234),
        "server": ("localhost", 80),
    }


async def _drive_asgi(
    call: t.Callable[[t.Any, t.Any], t.Awaitable[None]],
) -> list[dict[str, t.Any]]:
    sent: list[dict[str, t.Any]] = []
    requested = False

    async def receive() -> dict[str, t.Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    await call(receive, send)
    return sent


def test_call_dispatches_asgi(app: Erlen) -> None:
    _routes(app)
    scope = _asgi_scope("/hello/asgi")
    result = app(scope, None, None)
    assert asyncio.iscoroutine(result)
    result.close()
    sent = asyncio.run(_drive_asgi(lambda receive, send: app(scope, receive, send)))
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 200
    assert (b"content-type", b"text/html; charset=utf-8") in sent[0]["headers"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert body == b"hello asgi via asgi"


def test_call_dispatches_asgi2(app: Erlen) -> None:
    _routes(app)
    scope = _asgi_scope("/hello/two")
    instance = app(scope)
    assert callable(instance)
    sent = asyncio.run(_drive_asgi(instance))
    assert sent[0]["status"] == 200
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert body == b"hello two via asgi"


def test_wsgi_app_can_be_wrapped(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return str(request.environ.get("HTTP_X_MIDDLEWARE", "none"))

    inner = app.wsgi_app

    def middleware(environ: dict[str, t.Any], start_response: t.Any) -> Iterable[bytes]:
        environ["HTTP_X_MIDDLEWARE"] = "wrapped"
        return inner(environ, start_response)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    if client.asgi:
        # The ASGI path does not go through wsgi_app.
        assert client.get("/").text == "none"
    else:
        assert client.get("/").text == "wrapped"


@pytest.mark.parametrize("how", ["on the app", "in a subclass"])
@pytest.mark.parametrize("call", ["wsgi", "asgi", "asgi2"])
def test_calling_the_app_goes_through_a_wrapped_entry_point(how: str, call: str) -> None:
    seen: list[str] = []

    if how == "on the app":
        app = Erlen(__name__)
        wsgi_inner, asgi_inner = app.wsgi_app, app.asgi_app

        def wsgi_middleware(environ: dict[str, t.Any], start_response: t.Any) -> Iterable[bytes]:
            seen.append("wsgi_app")
            return wsgi_inner(environ, start_response)

        async def asgi_middleware(scope: t.Any, receive: t.Any, send: t.Any) -> None:
            seen.append("asgi_app")
            await asgi_inner(scope, receive, send)

        app.wsgi_app = wsgi_middleware  # type: ignore[method-assign]
        app.asgi_app = asgi_middleware  # type: ignore[method-assign]
    else:

        class Wrapped(Erlen):
            def wsgi_app(self, environ: t.Any, start_response: t.Any) -> Iterable[bytes]:
                seen.append("wsgi_app")
                return super().wsgi_app(environ, start_response)

            async def asgi_app(self, scope: t.Any, receive: t.Any, send: t.Any) -> None:
                seen.append("asgi_app")
                await super().asgi_app(scope, receive, send)

        app = Wrapped(__name__)
    _routes(app)
    if call == "wsgi":
        body = b"".join(app(EnvironBuilder(path="/hello/wsgi").get_environ(), lambda *_: None))
        assert body == b"hello wsgi via wsgi"
    else:
        scope = _asgi_scope("/hello/asgi")
        if call == "asgi":
            sent = asyncio.run(_drive_asgi(lambda receive, send: app(scope, receive, send)))
        else:
            sent = asyncio.run(_drive_asgi(app(scope)))
        assert sent[-1]["body"] == b"hello asgi via asgi"
    assert seen == ["wsgi_app" if call == "wsgi" else "asgi_app"]
    if how == "on the app":  # the middleware removed: the app is called directly again
        del app.wsgi_app, app.asgi_app
        seen.clear()
        environ = EnvironBuilder(path="/hello/again").get_environ()
        assert b"".join(app(environ, lambda *_: None)) == b"hello again via wsgi"
        sent = asyncio.run(_drive_asgi(app(_asgi_scope("/hello/again"))))
        assert sent[-1]["body"] == b"hello again via asgi"
        assert seen == []
