"""The test clients: ErlenClient (WSGI and ASGI paths) and AsyncClient."""

from __future__ import annotations

import asyncio
import io
import typing as t

import pytest

from erlen import Erlen, Response, g, has_request_context, redirect, request, session
from erlen.testing import AsyncClient, ErlenClient


@pytest.fixture
def echo_app(app: Erlen) -> Erlen:
    @app.route("/echo", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def echo() -> t.Any:
        return {
            "method": request.method,
            "path": request.path,
            "args": {key: request.args.getlist(key) for key in request.args},
            "form": request.form.to_dict(),
            "files": {key: f.read().decode() for key, f in request.files.items()},
            "json": request.get_json(silent=True),
            "data": request.get_data(as_text=True),
            "content_type": request.content_type,
            "x_test": request.headers.get("X-Test"),
        }

    return app


def test_cookies_kept_across_requests(app: Erlen, client: ErlenClient) -> None:
    @app.route("/set")
    def set_cookie() -> Response:
        response = Response("set")
        response.set_cookie("visit", "first")
        return response

    @app.route("/get")
    def get_cookie() -> t.Any:
        return {"visit": request.cookies.get("visit")}

    assert client.get("/get").json == {"visit": None}
    client.get("/set")
    assert client.get("/get").json == {"visit": "first"}
    assert client.get("/get").json == {"visit": "first"}
    cookie = client.get_cookie("visit")
    assert cookie is not None and cookie.value == "first"
    client.delete_cookie("visit")
    assert client.get("/get").json == {"visit": None}


def test_client_without_cookies(app: Erlen, protocol: str) -> None:
    @app.route("/set")
    def set_cookie() -> Response:
        response = Response("set")
        response.set_cookie("visit", "first")
        return response

    @app.route("/get")
    def get_cookie() -> t.Any:
        return {"visit": request.cookies.get("visit")}

    client = app.test_client(use_cookies=False, asgi=protocol == "asgi")
    assert "visit=first" in client.get("/set").headers["Set-Cookie"]
    assert client.get("/get").json == {"visit": None}


def test_session_round_trip(app: Erlen, client: ErlenClient) -> None:
    @app.route("/login", methods=["POST"])
    def login() -> str:
        session["user"] = request.form["user"]
        session["visits"] = 0
        return "ok"

    @app.route("/visit")
    def visit() -> t.Any:
        session["visits"] = session.get("visits", 0) + 1
        return {"user": session.get("user"), "visits": session["visits"]}

    @app.route("/logout")
    def logout() -> str:
        session.clear()
        return "bye"

    assert client.get("/visit").json == {"user": None, "visits": 1}
    client.post("/login", data={"user": "ann"})
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert "ann" not in cookie.value  # signed and encoded, not the plain value
    assert client.get("/visit").json == {"user": "ann", "visits": 1}
    assert client.get("/visit").json == {"user": "ann", "visits": 2}
    client.get("/logout")
    assert client.get_cookie("session") is None
    assert client.get("/visit").json == {"user": None, "visits": 1}


def test_tampered_session_cookie_is_ignored(app: Erlen, client: ErlenClient) -> None:
    @app.route("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    @app.route("/whoami")
    def whoami() -> t.Any:
        return {"user": session.get("user")}

    client.get("/login")
    cookie = client.get_cookie("session")
    assert cookie is not None
    value = cookie.value
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    client.set_cookie("session", tampered)
    assert client.get("/whoami").json == {"user": None}
    client.set_cookie("session", value)
    assert client.get("/whoami").json == {"user": "ann"}
    # Signed with another key: not accepted either.
    app.config["SECRET_KEY"] = "a-different-secret-key-of-enough-length-99"
    assert client.get("/whoami").json == {"user": None}


def test_with_client_keeps_last_request_context(app: Erlen, client: ErlenClient) -> None:
    @app.route("/first")
    def first() -> str:
        session["step"] = 1
        return "1"

    @app.route("/second")
    def second() -> str:
        session["step"] = 2
        g.seen = request.args["q"]
        return "2"

    with client:
        client.get("/first")
        assert has_request_context()
        assert request.path == "/first"
        assert session["step"] == 1
        client.get("/second?q=kept")
        assert request.path == "/second"
        assert request.args["q"] == "kept"
        assert session["step"] == 2
        assert g.seen == "kept"
    assert not has_request_context()
    with pytest.raises(RuntimeError):
        _ = request.path


def test_without_with_block_no_context_is_kept(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    client.get("/")
    assert not has_request_context()


def test_with_client_cannot_nest(client: ErlenClient) -> None:
    with client, pytest.raises(RuntimeError, match="nest"), client:
        pass


def test_follow_redirects(app: Erlen, client: ErlenClient) -> None:
    @app.route("/start")
    def start() -> t.Any:
        return redirect("/middle")

    @app.route("/middle")
    def middle() -> t.Any:
        return redirect("/end?from=middle", 301)

    @app.route("/end")
    def end() -> str:
        return f"end from {request.args['from']}"

    rv = client.get("/start")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/middle"

    rv = client.get("/start", follow_redirects=True)
    assert rv.status_code == 200
    assert rv.data == b"end from middle"
    assert [r.status_code for r in rv.history] == [302, 301]
    assert rv.request.path == "/end"


def test_json_argument(echo_app: Erlen, client: ErlenClient) -> None:
    rv = client.post("/echo", json={"a": [1, 2], "b": {"c": None}})
    assert rv.json is not None
    assert rv.json["json"] == {"a": [1, 2], "b": {"c": None}}
    assert rv.json["content_type"] == "application/json"
    assert rv.json["method"] == "POST"


def test_data_dict_and_bytes(echo_app: Erlen, client: ErlenClient) -> None:
    rv = client.post("/echo", data={"name": "ann", "age": "3"})
    assert rv.json is not None
    assert rv.json["form"] == {"name": "ann", "age": "3"}
    assert rv.json["content_type"] == "application/x-www-form-urlencoded"

    rv = client.put("/echo", data=b"\x00raw", content_type="application/octet-stream")
    assert rv.json is not None
    assert rv.json["data"] == "\x00raw"
    assert rv.json["form"] == {}
    assert rv.json["method"] == "PUT"

    rv = client.post("/echo", data={"up": (io.BytesIO(b"file!"), "a.txt"), "k": "v"})
    assert rv.json is not None
    assert rv.json["files"] == {"up": "file!"}
    assert rv.json["form"] == {"k": "v"}
    assert rv.json["content_type"].startswith("multipart/form-data; boundary=")


def test_headers_argument(echo_app: Erlen, client: ErlenClient) -> None:
    rv = client.get("/echo", headers={"X-Test": "header value"})
    assert rv.json is not None
    assert rv.json["x_test"] == "header value"
    rv = client.get("/echo", headers=[("X-Test", "from list")])
    assert rv.json is not None
    assert rv.json["x_test"] == "from list"


def test_query_string_argument(echo_app: Erlen, client: ErlenClient) -> None:
    rv = client.get("/echo", query_string={"a": "1", "b": ["x", "y"]})
    assert rv.json is not None
    assert rv.json["args"] == {"a": ["1"], "b": ["x", "y"]}
    rv = client.delete("/echo", query_string="z=%20space")
    assert rv.json is not None
    assert rv.json["args"] == {"z": [" space"]}
    assert rv.json["method"] == "DELETE"


def test_response_attributes(app: Erlen, client: ErlenClient) -> None:
    @app.route("/r")
    def r() -> t.Any:
        return "text body", 201, {"X-Extra": "1"}

    rv = client.get("/r")
    assert rv.status_code == 201
    assert rv.status == "201 CREATED"
    assert rv.headers["X-Extra"] == "1"
    assert rv.get_data(as_text=True) == "text body"
    assert rv.text == "text body"
    assert rv.mimetype == "text/html"


def test_asgi_client_matches_wsgi_client(app: Erlen) -> None:
    @app.route("/same", methods=["POST"])
    def same() -> t.Any:
        response = Response(f"{request.args['q']}:{request.get_data(as_text=True)}", 203)
        response.headers["X-Path"] = request.path
        response.set_cookie("c", "v")
        return response

    wsgi = app.test_client()
    asgi = app.test_client(asgi=True)
    assert (wsgi.asgi, asgi.asgi) == (False, True)
    results = []
    for client in (wsgi, asgi):
        rv = client.post("/same?q=1", data=b"payload", content_type="text/plain")
        results.append(
            (
                rv.status,
                rv.data,
                rv.headers["X-Path"],
                rv.headers["Content-Type"],
                rv.headers["Content-Length"],
                rv.headers["Set-Cookie"],
            )
        )
    assert results[0] == results[1]
    assert results[0][:3] == ("203 NON AUTHORITATIVE INFORMATION", b"1:payload", "/same")


def test_app_exceptions_propagate_in_testing(app: Erlen, client: ErlenClient) -> None:
    @app.route("/boom")
    def boom() -> str:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        client.get("/boom")


def test_async_client_basics(app: Erlen) -> None:
    @app.route("/hello")
    async def hello() -> t.Any:
        await asyncio.sleep(0)
        return {"name": request.args.get("name", "world"), "ua": request.user_agent.string}

    @app.route("/items", methods=["POST"])
    def items() -> t.Any:
        return {"got": request.get_json(), "form": request.form.to_dict()}, 201

    async def main() -> None:
        client = AsyncClient(app)
        rv = await client.get("/hello", query_string={"name": "ann"})
        assert rv.status_code == 200
        assert rv.json is not None and rv.json["name"] == "ann"
        rv = await client.post("/items", json=[1, 2])
        assert rv.status_code == 201
        assert rv.json == {"got": [1, 2], "form": {}}
        rv = await client.post("/items", data={"a": "b"})
        assert rv.status_code == 415  # the view asks for JSON
        rv = await client.get("/missing")
        assert rv.status_code == 404
        rv = await client.open("/hello", method="GET", headers={"User-Agent": "custom"})
        assert rv.json is not None and rv.json["ua"] == "custom"
        rv = await client.post("/hello")
        assert rv.status_code == 405

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_async_client_concurrent_requests(app: Erlen) -> None:
    @app.route("/wait/<int:n>")
    async def wait(n: int) -> t.Any:
        await asyncio.sleep(0.001 * (n % 3))
        return {"n": n}

    async def main() -> list[t.Any]:
        client = AsyncClient(app)
        responses = await asyncio.gather(*(client.get(f"/wait/{i}") for i in range(20)))
        return [rv.json for rv in responses]

    assert asyncio.run(asyncio.wait_for(main(), timeout=30)) == [{"n": i} for i in range(20)]


# --- Flask's test tooling ---------------------------------------------------------------------


def test_session_transaction_reads_and_writes_the_clients_session(
    app: Erlen, client: ErlenClient
) -> None:
    @app.route("/login")
    def login() -> str:
        session["user"] = "ada"
        return "in"

    @app.route("/whoami")
    def whoami() -> str:
        return f"{session.get('user')} {session.get('role')}"

    with client.session_transaction() as sess:
        assert dict(sess) == {}
    client.get("/login")
    with client.session_transaction() as sess:
        assert sess["user"] == "ada"  # what the app stored
        sess["role"] = "admin"  # and a change the next request sees
    assert client.get("/whoami").data == b"ada admin"
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get("/whoami").data == b"None None"


def test_session_transaction_does_not_change_the_active_contexts(
    app: Erlen, client: ErlenClient
) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    with client:
        client.get("/")
        current = request._get_current_object()  # type: ignore[attr-defined]
        with client.session_transaction() as sess:
            sess["k"] = 1
            assert request._get_current_object() is current  # type: ignore[attr-defined]


def test_session_transaction_needs_cookies(app: Erlen) -> None:
    with (
        pytest.raises(TypeError, match="use_cookies=True"),
        app.test_client(use_cookies=False).session_transaction(),
    ):
        pass


def test_session_transaction_refuses_a_null_session(app: Erlen) -> None:
    app.secret_key = None  # no key: the session interface opens no session
    with (
        pytest.raises(RuntimeError, match="did not open a session"),
        app.test_client().session_transaction(),
    ):
        pass


def test_environ_builder_serializes_json_with_the_apps_provider(app: Erlen) -> None:
    from erlen.testing import EnvironBuilder

    class Money:
        def __html__(self) -> str:
            return "12 EUR"

    builder = EnvironBuilder(app, "/pay", json={"amount": Money()})  # __html__: the provider's
    try:
        assert builder.get_request().get_data() == b'{"amount": "12 EUR"}'
    finally:
        builder.close()


def test_environ_base_is_flasks_and_applies_to_prepared_requests(
    app: Erlen, client: ErlenClient
) -> None:
    from importlib.metadata import version

    from erlen.testing import EnvironBuilder

    @app.route("/who")
    def who() -> str:
        return f"{request.remote_addr} {request.user_agent.string}"

    assert client.get("/who").data.decode() == f"127.0.0.1 Werkzeug/{version('werkzeug')}"
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    builder = EnvironBuilder(app, "/who")
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ.pop("REMOTE_ADDR", None)
    assert client.open(environ).data.decode().startswith("192.0.2.7 ")
    assert client.open(EnvironBuilder(app, "/who")).data.decode().startswith("192.0.2.7 ")


def test_test_request_context_knows_its_endpoint(app: Erlen) -> None:
    @app.route("/users/<int:user_id>")
    def user(user_id: int) -> str:
        return ""

    with app.test_request_context("/users/7"):
        assert request.endpoint == "user"
        assert request.view_args == {"user_id": 7}
    with app.test_request_context("/nowhere"):
        assert request.endpoint is None
        assert request.routing_exception is not None
