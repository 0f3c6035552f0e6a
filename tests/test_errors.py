"""Error handlers, and which exceptions propagate (``erlen.errors``), on both protocols."""

from __future__ import annotations

import asyncio
import logging
import typing as t

import pytest
from werkzeug.exceptions import (
    BadRequest,
    BadRequestKeyError,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
)

from erlen import (
    Erlen,
    Response,
    abort,
    request,
)
from erlen.testing import ErlenClient

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
