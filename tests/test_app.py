"""The application: view return values, hooks, error handling, helpers, config and serving."""

from __future__ import annotations

import asyncio
import logging
import sys
import types
import typing as t
from collections.abc import AsyncIterator, Iterable, Iterator

import pytest
from werkzeug.datastructures import Headers
from werkzeug.exceptions import (
    BadRequest,
    BadRequestKeyError,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
)
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WerkzeugResponse

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

# --- view return values -----------------------------------------------------------------------


def test_return_str(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return "héllo"

    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.mimetype_params["charset"] == "utf-8"
    assert response.data == "héllo".encode()


def test_return_bytes(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> bytes:
        return b"\x00\xffraw"

    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"\x00\xffraw"


def test_return_dict_is_json(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> dict[str, t.Any]:
        return {"a": 1, "b": [True, None]}

    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"a": 1, "b": [True, None]}


def test_return_list_is_json(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> list[t.Any]:
        return [1, "two", {"three": 3}]

    response = client.get("/")
    assert response.mimetype == "application/json"
    assert response.json == [1, "two", {"three": 3}]


def test_return_response(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> Response:
        return Response("teapot", status=418, mimetype="text/plain", headers={"X-A": "1"})

    response = client.get("/")
    assert response.status_code == 418
    assert response.mimetype == "text/plain"
    assert response.headers["X-A"] == "1"
    assert response.text == "teapot"


def test_return_body_and_status(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> tuple[str, int]:
        return "created", 201

    response = client.get("/")
    assert response.status_code == 201
    assert response.text == "created"


def test_return_body_and_headers_dict(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> tuple[str, dict[str, str]]:
        return "hi", {"X-Header": "value", "Content-Type": "text/plain"}

    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["X-Header"] == "value"
    assert response.mimetype == "text/plain"


def test_return_body_and_headers_list(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> tuple[str, list[tuple[str, str]]]:
        return "hi", [("X-Multi", "1"), ("X-Multi", "2")]

    response = client.get("/")
    assert response.status_code == 200
    assert response.headers.getlist("X-Multi") == ["1", "2"]


def test_return_body_and_headers_object(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> tuple[str, Headers]:
        return "hi", Headers({"X-Obj": "yes"})

    assert client.get("/").headers["X-Obj"] == "yes"


def test_return_body_status_headers(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> tuple[dict[str, int], int, dict[str, str]]:
        return {"id": 7}, 201, {"Location": "/items/7"}

    response = client.get("/")
    assert response.status_code == 201
    assert response.json == {"id": 7}
    assert response.headers["Location"].endswith("/items/7")


def test_return_status_as_string(app: Erlen, client: ErlenClient) -> None:
    @app.route("/full")
    def full() -> tuple[str, str]:
        return "x", "299 Custom Reason"

    @app.route("/code")
    def code() -> tuple[str, str]:
        return "x", "202"

    response = client.get("/full")
    assert response.status_code == 299
    if not client.asgi:  # ASGI carries no reason phrase
        assert response.status == "299 Custom Reason"
    response = client.get("/code")
    assert response.status_code == 202


def test_return_response_with_status_and_headers(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> tuple[Response, int, dict[str, str]]:
        return Response("body"), 202, {"X-Extra": "1"}

    response = client.get("/")
    assert response.status_code == 202
    assert response.headers["X-Extra"] == "1"
    assert response.text == "body"


def test_return_werkzeug_response(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> WerkzeugResponse:
        response = WerkzeugResponse("from werkzeug", status=203, mimetype="text/plain")
        response.set_cookie("k", "v")
        return response

    response = client.get("/")
    assert response.status_code == 203
    assert response.mimetype == "text/plain"
    assert response.text == "from werkzeug"
    assert "k=v" in response.headers["Set-Cookie"]


def test_return_generator_is_streamed(app: Erlen, client: ErlenClient) -> None:
    streamed: list[bool] = []

    @app.after_request
    def record(response: Response) -> Response:
        streamed.append(response.is_streamed)
        return response

    @app.route("/")
    def index() -> Iterator[str]:
        def generate() -> Iterator[str]:
            yield "one "
            # The request context is still active while the body streams.
            yield request.args["word"]
            yield b" three".decode()

        return generate()

    response = client.get("/?word=two")

    with response:
        assert response.status_code == 200
        assert response.text == "one two three"
    assert streamed == [True]


def test_generator_view_function(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    response = client.get("/")

    with response:
        assert response.data == b"ab"


def test_return_async_generator_is_streamed(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    async def index() -> AsyncIterator[str]:
        async def generate() -> AsyncIterator[str]:
            for part in ("x", "y", "z"):
                await asyncio.sleep(0)
                yield part
            yield request.path

        return generate()

    response = client.get("/")

    with response:
        assert response.status_code == 200
        assert response.text == "xyz/"


def test_async_generator_view_function(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    async def index() -> AsyncIterator[bytes]:
        await asyncio.sleep(0)
        yield b"1"
        yield b"2"

    response = client.get("/")

    with response:
        assert response.data == b"12"


def test_streamed_response_runs_teardown_after_body(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append("teardown")

    @app.route("/")
    def index() -> Iterator[str]:
        def generate() -> Iterator[str]:
            events.append("chunk")
            yield "data"

        return generate()

    response = client.get("/")

    with response:
        assert response.text == "data"
    assert events == ["chunk", "teardown"]


def test_return_wsgi_callable(app: Erlen, client: ErlenClient) -> None:
    def wsgi_app(environ: dict[str, t.Any], start_response: t.Any) -> Iterable[bytes]:
        start_response("202 Accepted", [("Content-Type", "text/plain"), ("X-Wsgi", "1")])
        return [b"from ", environ["PATH_INFO"].encode()]

    @app.route("/wsgi")
    def index() -> t.Any:
        return wsgi_app

    response = client.get("/wsgi")

    with response:
        assert response.status_code == 202
        assert response.headers["X-Wsgi"] == "1"
        assert response.mimetype == "text/plain"
        assert response.text == "from /wsgi"


def test_return_none_raises_type_error(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> None:
        pass

    with pytest.raises(TypeError, match="did not return a valid response") as info:
        client.get("/")
    assert "'index'" in str(info.value)
    assert "returned None" in str(info.value)


def test_return_invalid_type_raises_type_error(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return 42

    with pytest.raises(TypeError, match="int"):
        client.get("/")


def test_return_tuple_of_wrong_size_raises_type_error(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return "a", 200, {}, "extra"

    with pytest.raises(TypeError, match="tuple"):
        client.get("/")


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


def test_exception_in_before_request_is_handled(app: Erlen, client: ErlenClient) -> None:
    calls: list[str] = []

    @app.before_request
    def before() -> None:
        raise AppError("from hook")

    @app.errorhandler(AppError)
    def handle(error: AppError) -> tuple[str, int]:
        return f"handled {error}", 400

    @app.after_request
    def after(response: Response) -> Response:
        calls.append("after")
        return response

    @app.route("/")
    def index() -> str:
        calls.append("view")
        return "view"

    response = client.get("/")
    assert (response.status_code, response.text) == (400, "handled from hook")
    assert calls == ["after"]


def test_async_before_request_short_circuits(app: Erlen, client: ErlenClient) -> None:
    @app.before_request
    async def before() -> Response:
        return Response("denied", status=401)

    @app.route("/")
    async def index() -> str:
        raise AssertionError("the view must not run")

    response = client.get("/")
    assert (response.status_code, response.text) == (401, "denied")


# --- error handlers ---------------------------------------------------------------------------


class AppError(Exception):
    pass


class SpecificError(AppError):
    pass


class MoreSpecificError(SpecificError):
    pass


def test_errorhandler_by_code(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(404)
    def not_found(error: NotFound) -> tuple[str, int]:
        return f"custom 404: {type(error).__name__}", 404

    @app.route("/abort")
    def do_abort() -> str:
        abort(404)

    for path in ("/missing", "/abort"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.text == "custom 404: NotFound"


def test_errorhandler_by_http_exception_class(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(Forbidden)
    def forbidden(error: Forbidden) -> tuple[dict[str, t.Any], int]:
        return {"error": error.description}, 403

    @app.route("/")
    def index() -> str:
        abort(403, description="no entry")

    response = client.get("/")
    assert response.status_code == 403
    assert response.json == {"error": "no entry"}


def test_errorhandler_by_exception_class(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(AppError)
    def handle(error: AppError) -> tuple[str, int]:
        return f"handled {error}", 409

    @app.route("/")
    def index() -> str:
        raise AppError("conflict")

    response = client.get("/")
    assert (response.status_code, response.text) == (409, "handled conflict")


def test_errorhandler_base_class_catches_subclass(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(AppError)
    def handle(error: AppError) -> str:
        return f"base handler got {type(error).__name__}"

    @app.route("/")
    def index() -> str:
        raise MoreSpecificError()

    assert client.get("/").text == "base handler got MoreSpecificError"


def test_errorhandler_most_specific_class_wins(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(Exception)
    def handle_exception(error: Exception) -> str:
        return "Exception"

    @app.errorhandler(SpecificError)
    def handle_specific(error: SpecificError) -> str:
        return "SpecificError"

    @app.errorhandler(AppError)
    def handle_app(error: AppError) -> str:
        return "AppError"

    @app.route("/<kind>")
    def index(kind: str) -> str:
        raise {
            "app": AppError,
            "specific": SpecificError,
            "more": MoreSpecificError,
            "other": RuntimeError,
        }[kind]()

    assert client.get("/app").text == "AppError"
    assert client.get("/specific").text == "SpecificError"
    assert client.get("/more").text == "SpecificError"
    assert client.get("/other").text == "Exception"


def test_http_exception_subclass_handler_beats_code_handler(
    app: Erlen, client: ErlenClient
) -> None:
    class ItemNotFound(NotFound):
        pass

    @app.errorhandler(404)
    def generic(error: NotFound) -> tuple[str, int]:
        return "generic 404", 404

    @app.errorhandler(ItemNotFound)
    def item(error: ItemNotFound) -> tuple[str, int]:
        return "item 404", 404

    @app.route("/item")
    def get_item() -> str:
        raise ItemNotFound()

    assert client.get("/item").text == "item 404"
    assert client.get("/nothing").text == "generic 404"


def test_http_exception_handler(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(HTTPException)
    def handle(error: HTTPException) -> tuple[dict[str, t.Any], int]:
        assert error.code is not None
        return {"code": error.code, "name": error.name}, error.code

    @app.route("/only-post", methods=["POST"])
    def only_post() -> str:
        return "x"

    @app.route("/bad")
    def bad() -> str:
        raise BadRequest()

    assert client.get("/missing").json == {"code": 404, "name": "Not Found"}
    assert client.get("/only-post").json == {"code": 405, "name": "Method Not Allowed"}
    assert client.get("/bad").json == {"code": 400, "name": "Bad Request"}


def test_http_exception_handler_does_not_catch_routing_redirects(
    app: Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(HTTPException)
    def handle(error: HTTPException) -> tuple[str, int]:
        return "handled", 500

    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    response = client.get("/folder")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/folder/")


def test_exception_handler_catches_http_exceptions(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(Exception)
    def handle(error: Exception) -> tuple[str, int]:
        return f"caught {type(error).__name__}", 599

    response = client.get("/missing")
    assert (response.status_code, response.text) == (599, "caught NotFound")


def test_unhandled_http_exception_keeps_default_response(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        abort(409, description="already exists")

    response = client.get("/")
    assert response.status_code == 409
    assert b"already exists" in response.data
    assert response.mimetype == "text/html"


def test_async_errorhandler(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(AppError)
    async def handle(error: AppError) -> tuple[str, int]:
        await asyncio.sleep(0)
        return f"async handled {error}", 418

    @app.route("/")
    async def index() -> str:
        raise AppError("x")

    response = client.get("/")
    assert (response.status_code, response.text) == (418, "async handled x")


def test_500_handler_receives_original_exception(app: Erlen, client: ErlenClient) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    received: list[InternalServerError] = []

    @app.errorhandler(500)
    def server_error(error: InternalServerError) -> tuple[str, int]:
        received.append(error)
        original = error.original_exception
        return f"500 from {type(original).__name__}", 500

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError("secret detail")

    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "500 from ZeroDivisionError"
    assert isinstance(received[0], InternalServerError)
    assert isinstance(received[0].original_exception, ZeroDivisionError)


def test_500_handler_for_explicit_abort(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> tuple[str, int]:
        return f"original={error.original_exception!r}", 500

    @app.route("/")
    def index() -> str:
        abort(500)

    response = client.get("/")
    assert (response.status_code, response.text) == (500, "original=None")


def test_registering_invalid_error_handlers(app: Erlen) -> None:
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app.register_error_handler(999, lambda e: "x")
    with pytest.raises(TypeError, match="instance"):
        app.register_error_handler(ValueError(), lambda e: "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a subclass of Exception"):
        app.register_error_handler(str, lambda e: "x")  # type: ignore[arg-type]


# --- exception propagation --------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {},  # TESTING is on in the fixture
        {"TESTING": False, "PROPAGATE_EXCEPTIONS": True},
        {"TESTING": False, "DEBUG": True},
    ],
    ids=["testing", "propagate-exceptions", "debug"],
)
def test_exceptions_propagate(app: Erlen, client: ErlenClient, config: dict[str, t.Any]) -> None:
    app.config.update(config)

    @app.route("/")
    def index() -> str:
        raise RuntimeError("propagated")

    with pytest.raises(RuntimeError, match="propagated"):
        client.get("/")


def test_propagate_exceptions_false_overrides_testing(app: Erlen, client: ErlenClient) -> None:
    app.config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False)

    @app.route("/")
    def index() -> str:
        raise RuntimeError("hidden")

    assert client.get("/").status_code == 500


@pytest.mark.parametrize("propagate", [None, False])
def test_unhandled_exception_is_a_clean_logged_500(
    app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture, propagate: bool | None
) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=propagate)
    after_statuses: list[int] = []

    @app.after_request
    def after(response: Response) -> Response:
        after_statuses.append(response.status_code)
        return response

    @app.route("/explode")
    def explode() -> str:
        raise ValueError("sensitive-internal-detail")

    with caplog.at_level(logging.ERROR):
        response = client.get("/explode")
    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert b"sensitive-internal-detail" not in response.data
    assert b"Traceback" not in response.data
    assert b"ValueError" not in response.data
    assert after_statuses == [500]
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR
    assert "/explode" in record.getMessage()
    assert "GET" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


def test_unhandled_async_exception_is_500(app: Erlen, client: ErlenClient) -> None:
    app.config.update(TESTING=False)

    @app.route("/")
    async def index() -> str:
        raise ValueError("async secret")

    response = client.get("/")
    assert response.status_code == 500
    assert b"async secret" not in response.data


def test_error_in_after_request_while_handling_500_is_logged(
    app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(TESTING=False)

    @app.after_request
    def broken(response: Response) -> Response:
        if response.status_code == 500:
            raise RuntimeError("after_request failed")
        return response

    @app.route("/")
    def index() -> str:
        raise ValueError("first")

    with caplog.at_level(logging.ERROR):
        response = client.get("/")
    assert response.status_code == 500
    messages = [r.getMessage() for r in caplog.records]
    assert any("finalizing" in message for message in messages)


def test_trap_http_exceptions(app: Erlen, client: ErlenClient) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/abort")
    def do_abort() -> str:
        abort(403)

    @app.route("/handled")
    def handled() -> str:
        abort(409)

    @app.errorhandler(409)
    def conflict(error: HTTPException) -> tuple[str, int]:
        return "conflict handled", 409

    with pytest.raises(Forbidden):
        client.get("/abort")
    with pytest.raises(NotFound):
        client.get("/missing")
    assert client.get("/handled").text == "conflict handled"


def test_bad_request_key_error_default(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return request.args["secret_key_name"]

    response = client.get("/")
    assert response.status_code == 400
    assert b"secret_key_name" not in response.data


def test_bad_request_key_error_debug_is_trapped(app: Erlen, client: ErlenClient) -> None:
    app.debug = True

    @app.route("/")
    def index() -> str:
        return request.args["wanted"]

    with pytest.raises(BadRequestKeyError):
        client.get("/")
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    response = client.get("/")
    assert response.status_code == 400
    assert b"wanted" in response.data


def test_trap_bad_request_errors(app: Erlen, client: ErlenClient) -> None:
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True

    @app.route("/")
    def index() -> str:
        raise BadRequest("bad input")

    with pytest.raises(BadRequest):
        client.get("/")


def test_exception_in_error_handler_propagates(app: Erlen, client: ErlenClient) -> None:
    @app.errorhandler(AppError)
    def handle(error: AppError) -> str:
        raise RuntimeError("handler failed") from error

    @app.route("/")
    def index() -> str:
        raise AppError()

    with pytest.raises(RuntimeError, match="handler failed"):
        client.get("/")


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
