"""Flask's override points: each pipeline step is a method a subclass may override, or an
extension wrap on the app, and the pipeline then calls it, on the WSGI and the ASGI path."""

from __future__ import annotations

import asyncio
import logging
import typing as t

import pytest
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from erlen import Erlen, Response, abort, g, request
from erlen.app import OVERRIDE_POINTS
from erlen.debughelpers import FormDataRoutingRedirect
from erlen.templating import Environment


def _client(app: Erlen, protocol: str) -> t.Any:
    return app.test_client(asgi=protocol == "asgi")


def _app(cls: type[Erlen] = Erlen) -> Erlen:
    app = cls("override_points")
    app.config.update(SECRET_KEY="test-secret-key-with-enough-entropy-0123")

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/boom")
    def boom() -> str:
        raise ValueError("boom")

    @app.route("/missing")
    def missing() -> str:
        abort(404)

    return app


def test_a_plain_app_overrides_nothing() -> None:
    assert _app()._overrides == frozenset()


def test_a_subclass_is_seen_at_creation_and_an_assignment_at_once() -> None:
    class Sub(Erlen):
        def dispatch_request(self) -> t.Any:
            return super().dispatch_request()

    app = _app(Sub)
    assert app._overrides == {"dispatch_request"}
    app.handle_exception = app.handle_exception  # type: ignore[method-assign]
    assert app._overrides == {"dispatch_request", "handle_exception"}
    del app.handle_exception
    assert app._overrides == {"dispatch_request"}
    app.unrelated = 1  # other attributes do not recount
    assert app._overrides == {"dispatch_request"}


def test_dispatch_request_and_preprocess_request(protocol: str) -> None:
    calls: list[str] = []

    class Sub(Erlen):
        def preprocess_request(self) -> t.Any:
            calls.append("preprocess")
            if request.args.get("stop"):
                return "stopped by preprocess"
            return super().preprocess_request()

        def dispatch_request(self) -> t.Any:
            calls.append(f"dispatch {request.endpoint}")
            return f"[{super().dispatch_request()!s}]"

    app = _app(Sub)

    @app.before_request
    def hook() -> None:
        calls.append("hook")

    client = _client(app, protocol)
    assert client.get("/").data == b"[index]"
    assert calls == ["preprocess", "hook", "dispatch index"]
    calls.clear()
    assert client.get("/?stop=1").data == b"stopped by preprocess"
    assert calls == ["preprocess"]


def test_full_dispatch_request_wraps_the_whole_request(protocol: str) -> None:
    class Sub(Erlen):
        def full_dispatch_request(self) -> Response:
            response = super().full_dispatch_request()
            response.headers["X-Wrapped"] = "yes"
            return response

    client = _client(_app(Sub), protocol)
    response = client.get("/")
    assert response.data == b"index"
    assert response.headers["X-Wrapped"] == "yes"
    assert client.get("/nowhere").headers["X-Wrapped"] == "yes"  # a 404 is dispatched too


def test_process_response_and_finalize_request(protocol: str) -> None:
    class Sub(Erlen):
        def process_response(self, response: Response) -> Response:
            response = super().process_response(response)
            response.headers["X-Processed"] = "1"
            return response

        def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
            response = super().finalize_request(rv, from_error_handler)
            response.headers["X-Final"] = "error" if from_error_handler else "view"
            return response

    app = _app(Sub)

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-After"] = "1"
        return response

    client = _client(app, protocol)
    response = client.get("/")
    assert (response.headers["X-Processed"], response.headers["X-After"]) == ("1", "1")
    assert response.headers["X-Final"] == "view"
    assert client.get("/boom").headers["X-Final"] == "error"  # the 500 is finalized too


def test_extension_wraps_error_handling_on_the_app(protocol: str) -> None:
    """As Flask-CORS does: wrap handle_exception and handle_user_exception on the instance."""
    app = _app()
    seen: list[str] = []

    def wrap(original: t.Callable[[Exception], t.Any]) -> t.Callable[[Exception], t.Any]:
        def wrapper(error: Exception) -> t.Any:
            seen.append(f"{original.__name__} {type(error).__name__}")
            response = app.make_response(original(error))
            response.headers["X-Wrapped"] = original.__name__
            return response

        return wrapper

    # (setattr: the wrappers are typed loosely, as an extension's are)
    setattr(app, "handle_exception", wrap(app.handle_exception))  # noqa: B010
    setattr(app, "handle_user_exception", wrap(app.handle_user_exception))  # noqa: B010
    client = _client(app, protocol)
    missing = client.get("/missing")
    assert missing.status_code == 404
    assert missing.headers["X-Wrapped"] == "handle_user_exception"
    boom = client.get("/boom")
    assert boom.status_code == 500
    assert boom.headers["X-Wrapped"] == "handle_exception"
    assert b"boom" not in boom.data
    assert seen == [
        "handle_user_exception NotFound",
        "handle_user_exception ValueError",
        "handle_exception ValueError",
    ]
    assert client.get("/").headers.get("X-Wrapped") is None


def test_handle_http_exception(protocol: str) -> None:
    class Sub(Erlen):
        def handle_http_exception(self, e: HTTPException) -> t.Any:
            return f"http {e.code}", e.code

    client = _client(_app(Sub), protocol)
    assert client.get("/missing").data == b"http 404"
    assert client.get("/no/such/page").data == b"http 404"


def test_log_exception_takes_exc_info(protocol: str) -> None:
    logged: list[tuple[t.Any, ...]] = []

    class Sub(Erlen):
        def log_exception(self, exc_info: t.Any) -> None:
            logged.append(exc_info)

    response = _client(_app(Sub), protocol).get("/boom")
    assert response.status_code == 500
    (exc_info,) = logged
    assert exc_info[0] is ValueError and str(exc_info[1]) == "boom"
    assert exc_info[2] is exc_info[1].__traceback__


def test_default_log_exception_names_the_request(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        _client(_app(), protocol).get("/boom")
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "Exception on /boom [GET]"
    assert record.exc_info is not None and record.exc_info[0] is ValueError


def test_teardown_overrides_and_should_ignore_error(protocol: str) -> None:
    calls: list[tuple[str, str | None]] = []

    class Sub(Erlen):
        def do_teardown_request(self, exc: BaseException | None = None) -> None:
            calls.append(("request", type(exc).__name__ if exc else None))
            super().do_teardown_request(exc)

        def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
            calls.append(("app", type(exc).__name__ if exc else None))
            super().do_teardown_appcontext(exc)

        def should_ignore_error(self, error: BaseException | None) -> bool:
            return isinstance(error, KeyError)

    app = _app(Sub)

    @app.route("/key")
    def key() -> str:
        raise KeyError("k")

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        calls.append(("teardown_request", type(exc).__name__ if exc else None))

    client = _client(app, protocol)
    client.get("/")
    assert calls == [("request", None), ("teardown_request", None), ("app", None)]
    calls.clear()
    client.get("/boom")
    assert calls[0] == ("request", "ValueError")
    calls.clear()
    client.get("/key")
    assert calls[:1] == [("request", None)]  # ignored: teardown sees no error


def test_raise_routing_exception(protocol: str) -> None:
    class Sub(Erlen):
        def raise_routing_exception(self, request: t.Any) -> t.NoReturn:
            if isinstance(request.routing_exception, NotFound):
                abort(410)
            super().raise_routing_exception(request)

    client = _client(_app(Sub), protocol)
    assert client.get("/no/such/page").status_code == 410
    assert client.get("/").status_code == 200


def test_debug_mode_explains_a_redirect_that_drops_a_form() -> None:
    app = _app()
    redirect = RequestRedirect("http://localhost/form/")
    redirect.code = 301  # a browser follows 301 with a GET, without the form
    with app.test_request_context("/form", method="POST"):
        request.routing_exception = redirect
        with pytest.raises(RequestRedirect):
            app.raise_routing_exception(request)  # production: the redirect as it is
        app.debug = True
        with pytest.raises(FormDataRoutingRedirect, match="'http://localhost/form/'"):
            app.raise_routing_exception(request)
    with app.test_request_context("/form", method="GET"):
        request.routing_exception = redirect
        with pytest.raises(RequestRedirect):
            app.raise_routing_exception(request)  # a GET loses nothing


def test_ensure_sync_and_async_to_sync() -> None:
    app = _app()

    def sync(x: int) -> int:
        return x + 1

    async def asynchronous(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    assert app.ensure_sync(sync) is sync
    assert app.ensure_sync(asynchronous)(21) == 42
    assert app.async_to_sync(asynchronous)(5) == 10


def test_create_jinja_environment_and_loader() -> None:
    from jinja2 import DictLoader

    class Sub(Erlen):
        def create_global_jinja_loader(self) -> t.Any:
            return DictLoader({"page.html": "from {{ where }}"})

        def create_jinja_environment(self) -> Environment:
            env = super().create_jinja_environment()
            env.globals["where"] = "the override"
            return env

    app = Sub("jinja_overrides")
    with app.app_context():
        from erlen import render_template

        assert render_template("page.html") == "from the override"


def test_make_default_options_response(protocol: str) -> None:
    class Sub(Erlen):
        def make_default_options_response(self) -> Response:
            response = super().make_default_options_response()
            response.headers["X-Options"] = "custom"
            return response

    response = _client(_app(Sub), protocol).options("/")
    assert response.headers["X-Options"] == "custom"
    assert "GET" in response.headers["Allow"]


def test_override_points_are_flasks_methods() -> None:
    flask = pytest.importorskip("flask")
    for name in OVERRIDE_POINTS:
        assert callable(getattr(flask.Flask, name)), name
        assert callable(getattr(Erlen, name)), name


def test_g_survives_an_overridden_dispatch(protocol: str) -> None:
    class Sub(Erlen):
        def dispatch_request(self) -> t.Any:
            g.seen = "set in the override"
            return super().dispatch_request()

    app = _app(Sub)

    @app.route("/g")
    def read_g() -> str:
        return str(g.seen)

    assert _client(app, protocol).get("/g").data == b"set in the override"
