"""What a view's return value becomes (``erlen.responses``), on both protocols."""

from __future__ import annotations

import asyncio
import typing as t
from collections.abc import AsyncIterator, Iterable, Iterator

import pytest
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response as WerkzeugResponse

from erlen import (
    Erlen,
    Response,
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
