"""WebSocket handlers, driven through the test client's in-process ASGI session.

The ``client`` fixture runs each test from the WSGI and from the ASGI test client: WebSockets
always go through the ASGI app, whichever client opens them.
"""

from __future__ import annotations

import asyncio
import logging
import typing as t

import pytest

from erlen import (
    Blueprint,
    Erlen,
    WebSocket,
    WebSocketDisconnect,
    abort,
    request,
    session,
    url_for,
    websocket,
)
from erlen.testing import AsyncClient, ErlenClient, WebSocketRejected


def _echo_app(app: Erlen) -> None:
    @app.websocket("/echo")
    async def echo() -> None:
        await websocket.accept()
        async for message in websocket:
            await websocket.send(message)


def test_echo_text_and_bytes(app: Erlen, client: ErlenClient) -> None:
    _echo_app(app)
    with client.websocket("/echo") as ws:
        ws.send("hello")
        assert ws.receive() == "hello"
        ws.send(b"\x00\xffbinary")
        assert ws.receive() == b"\x00\xffbinary"
        ws.send("ünïcode ✓")
        assert ws.receive_text() == "ünïcode ✓"


def test_async_for_ends_when_the_client_closes(app: Erlen, client: ErlenClient) -> None:
    received: list[str | bytes] = []
    ended: list[bool] = []

    @app.websocket("/collect")
    async def collect() -> None:
        async for message in websocket:
            received.append(message)
            await websocket.send(f"got {len(received)}")
        ended.append(True)

    with client.websocket("/collect") as ws:
        for word in ("one", "two", "three"):
            ws.send(word)
        assert [ws.receive() for _ in range(3)] == ["got 1", "got 2", "got 3"]
    assert received == ["one", "two", "three"]
    assert ended == [True]


def test_typed_receive_and_send_json(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/typed")
    async def typed() -> None:
        text = await websocket.receive_text()
        data = await websocket.receive_bytes()
        decoded = await websocket.receive_text()  # a binary frame, decoded as UTF-8
        encoded = await websocket.receive_bytes()  # a text frame, encoded as UTF-8
        obj = await websocket.receive_json()
        await websocket.send_json(
            {
                "text": text,
                "bytes": list(data),
                "decoded": decoded,
                "encoded": list(encoded),
                "json": obj,
            }
        )
        await websocket.send(b"\x01\x02")

    with client.websocket("/typed") as ws:
        ws.send("plain")
        ws.send(b"\x00\x01")
        ws.send("é".encode())
        ws.send("é")
        ws.send_json({"numbers": [1, 2], "nested": {"ok": True}})
        assert ws.receive_json() == {
            "text": "plain",
            "bytes": [0, 1],
            "decoded": "é",
            "encoded": [0xC3, 0xA9],
            "json": {"numbers": [1, 2], "nested": {"ok": True}},
        }
        with pytest.raises(TypeError, match="binary"):
            ws.receive_text()


def test_subprotocol_negotiation(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/proto")
    async def proto() -> None:
        offered = websocket.requested_subprotocols
        chosen = next((name for name in ("chat.v2", "chat.v1") if name in offered), None)
        await websocket.accept(subprotocol=chosen)
        await websocket.send_json({"offered": offered, "chosen": websocket.subprotocol})

    with client.websocket("/proto", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.receive_json() == {"offered": ["chat.v1", "chat.v2"], "chosen": "chat.v2"}
    with client.websocket("/proto", subprotocols=["other"]) as ws:
        assert ws.subprotocol is None
        assert ws.receive_json() == {"offered": ["other"], "chosen": None}
    with client.websocket("/proto") as ws:
        assert ws.receive_json() == {"offered": [], "chosen": None}


def test_accept_headers_reach_the_client(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/headers")
    async def headers() -> None:
        await websocket.accept(headers={"X-Server-Name": "erlen", "X-Room": "lobby"})
        await websocket.send("ok")

    with client.websocket("/headers") as ws:
        assert ws.receive() == "ok"
        assert ws.headers["X-Server-Name"] == "erlen"
        assert ws.headers["x-room"] == "lobby"


def test_handshake_data_is_readable(app: Erlen, client: ErlenClient) -> None:
    @app.post("/login")
    def login() -> str:
        session["user"] = "ada"
        return "logged in"

    @app.websocket("/rooms/<int:room>")
    async def room(room: int) -> None:
        current = t.cast(t.Any, request)._get_current_object()
        await websocket.send_json(
            {
                "room": room,
                "view_args": websocket.view_args,
                "path": websocket.path,
                "args": websocket.args.to_dict(flat=False),
                "cookie": websocket.cookies.get("flavour"),
                "header": websocket.headers.get("X-Token"),
                "user": session.get("user"),
                "request_is_websocket": isinstance(current, WebSocket)
                and current is t.cast(t.Any, websocket)._get_current_object(),
                "is_websocket": request.is_websocket,
                "url": url_for("room", room=room + 1),
            }
        )

    assert client.post("/login").status_code == 200
    client.set_cookie("flavour", "mint")
    query = {"tag": ["a", "b"], "q": "x y"}
    with client.websocket("/rooms/7", query_string=query, headers={"X-Token": "t0k"}) as ws:
        assert ws.receive_json() == {
            "room": 7,
            "view_args": {"room": 7},
            "path": "/rooms/7",
            "args": {"tag": ["a", "b"], "q": ["x y"]},
            "cookie": "mint",
            "header": "t0k",
            "user": "ada",
            "request_is_websocket": True,
            "is_websocket": True,
            "url": "ws://localhost/rooms/8",  # werkzeug builds WebSocket rules as ws://
        }


def test_hooks_of_app_and_blueprints(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []
    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__, url_prefix="/child")

    @app.before_request
    def app_before_request() -> None:
        events.append("app before_request")

    @app.before_websocket
    def app_before() -> None:  # a sync hook, run in a worker thread
        events.append("app before")

    @app.after_websocket
    async def app_after(response: t.Any) -> t.Any:
        events.append(f"app after {response!r}")
        return response

    @parent.before_websocket
    async def parent_before() -> None:
        events.append("parent before")

    @parent.after_websocket
    def parent_after(response: t.Any) -> t.Any:
        events.append("parent after")
        return response

    @child.before_websocket
    async def child_before() -> None:
        events.append("child before")

    @child.websocket("/feed")
    async def feed() -> None:
        events.append("handler")
        await websocket.send_json(
            {
                "endpoint": websocket.endpoint,
                "blueprint": websocket.blueprint,
                "blueprints": websocket.blueprints,
                "url": url_for(".feed"),
            }
        )

    @parent.websocket("/own")
    async def own() -> None:
        events.append("own handler")
        await websocket.send(websocket.endpoint or "")

    parent.register_blueprint(child)
    app.register_blueprint(parent)

    with client.websocket("/parent/child/feed") as ws:
        assert ws.receive_json() == {
            "endpoint": "parent.child.feed",
            "blueprint": "parent.child",
            "blueprints": ["parent.child", "parent"],
            "url": "ws://localhost/parent/child/feed",
        }
    assert events == [
        "app before",
        "parent before",
        "child before",
        "handler",
        "parent after",
        "app after None",
    ]
    events.clear()
    with client.websocket("/parent/own") as ws:
        assert ws.receive() == "parent.own"
    assert events == [
        "app before",
        "parent before",
        "own handler",
        "parent after",
        "app after None",
    ]


def test_handler_error_closes_with_1011_and_is_logged(
    app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    torn_down: list[BaseException | None] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        torn_down.append(error)

    @app.websocket("/fail")
    async def fail() -> None:
        await websocket.accept()
        message = await websocket.receive()
        raise ValueError(f"boom on {message!r}")

    with caplog.at_level(logging.ERROR), client.websocket("/fail") as ws:
        ws.send("trigger")
        with pytest.raises(WebSocketDisconnect) as excinfo:
            ws.receive()
    assert excinfo.value.code == 1011
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert len(records) == 1
    assert "/fail" in records[0].getMessage()
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], ValueError)
    assert len(torn_down) == 1 and isinstance(torn_down[0], ValueError)


def test_handler_error_propagates_when_testing(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/fail")
    async def fail() -> None:
        await websocket.accept()
        await websocket.receive()
        raise KeyError("propagated")

    with pytest.raises(KeyError, match="propagated"), client.websocket("/fail") as ws:
        ws.send("trigger")
        with pytest.raises(WebSocketDisconnect) as excinfo:
            ws.receive()
        assert excinfo.value.code == 1011


def test_handler_closing_with_a_code(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/bye")
    async def bye() -> None:
        await websocket.send("last words")
        await websocket.close(4000, "see you")

    with client.websocket("/bye") as ws:
        assert ws.receive() == "last words"
        with pytest.raises(WebSocketDisconnect) as excinfo:
            ws.receive()
        assert (excinfo.value.code, excinfo.value.reason) == (4000, "see you")
        assert ws.close_code == 4000


def test_abort_before_accept_rejects_the_handshake(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/private")
    async def private() -> None:
        if websocket.headers.get("Authorization") != "Bearer ok":
            abort(403)
        await websocket.send("welcome")

    with pytest.raises(WebSocketRejected) as excinfo, client.websocket("/private"):
        pytest.fail("the handshake should have been rejected")
    assert excinfo.value.status_code == 403
    assert b"Forbidden" in excinfo.value.body
    with client.websocket("/private", headers={"Authorization": "Bearer ok"}) as ws:
        assert ws.receive() == "welcome"


def test_before_websocket_response_rejects_with_its_status(app: Erlen, client: ErlenClient) -> None:
    handled: list[bool] = []

    @app.before_websocket
    def gate() -> t.Any:
        if "key" not in websocket.args:
            return "missing key", 401, {"X-Reason": "no-key"}
        return None

    @app.websocket("/gated")
    async def gated() -> None:
        handled.append(True)
        await websocket.send("in")

    with pytest.raises(WebSocketRejected) as excinfo, client.websocket("/gated"):
        pytest.fail("the handshake should have been rejected")
    assert excinfo.value.status_code == 401
    assert excinfo.value.body == b"missing key"
    assert excinfo.value.headers["X-Reason"] == "no-key"
    assert handled == []
    with client.websocket("/gated?key=1") as ws:
        assert ws.receive() == "in"
    assert handled == [True]


def test_refusals_without_a_response(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/closes")
    async def closes() -> None:
        await websocket.close(1008)

    @app.websocket("/returns")
    async def returns() -> None:
        return None

    @app.get("/http-only")
    def http_only() -> str:
        return "http"

    for path, status in (("/closes", 403), ("/returns", 403), ("/missing", 404)):
        with pytest.raises(WebSocketRejected) as excinfo, client.websocket(path):
            pytest.fail(f"{path}: the handshake should have been rejected")
        assert excinfo.value.status_code == status, path
    with pytest.raises(WebSocketRejected) as excinfo, client.websocket("/http-only"):
        pytest.fail("a WebSocket to an HTTP route should be rejected")
    assert 400 <= excinfo.value.status_code < 500


def test_client_disconnect_ends_the_handler_and_teardown_runs(
    app: Erlen, client: ErlenClient
) -> None:
    events: list[t.Any] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append(("teardown", error))

    @app.after_websocket
    def after(response: t.Any) -> t.Any:
        events.append(("after", response))
        return response

    @app.websocket("/listen")
    async def listen() -> None:
        await websocket.accept()
        try:
            for _ in range(100):
                events.append(("message", await websocket.receive()))
        except WebSocketDisconnect as disconnect:
            events.append(("disconnect", disconnect.code))
            raise
        events.append("not reached")

    with client.websocket("/listen") as ws:
        ws.send("hi")
        ws.close(4001)
    assert events == [
        ("message", "hi"),
        ("disconnect", 4001),
        ("after", None),
        ("teardown", None),
    ]


def test_send_after_the_client_left_raises_disconnect(app: Erlen, client: ErlenClient) -> None:
    outcome: list[t.Any] = []

    @app.websocket("/push")
    async def push() -> None:
        await websocket.accept()
        await websocket.receive()  # the client's disconnect
        outcome.append("unreachable")

    @app.websocket("/talker")
    async def talker() -> None:
        await websocket.accept()
        assert await websocket.receive() == "go"
        # The client closes now; keep sending until the send fails.
        try:
            for index in range(1000):
                await websocket.send(str(index))
                await asyncio.sleep(0.001)
        except WebSocketDisconnect as error:
            outcome.append(("send failed", error.code))

    with client.websocket("/push") as ws:
        pass
    assert outcome == []
    with client.websocket("/talker") as ws:
        ws.send("go")
        assert ws.receive() == "0"
    assert outcome == [("send failed", 1006)]


def test_http_request_to_websocket_route_is_426(app: Erlen, client: ErlenClient) -> None:
    called: list[bool] = []

    @app.websocket("/socket")
    async def socket() -> None:
        called.append(True)

    response = client.get("/socket")
    assert response.status_code == 426
    assert response.headers["Upgrade"] == "websocket"
    assert b"WebSocket" in response.data
    assert called == []


def test_websocket_proxy_outside_a_handler(app: Erlen, client: ErlenClient) -> None:
    @app.get("/plain")
    def plain() -> str:
        try:
            websocket.path  # noqa: B018
        except RuntimeError as error:
            return f"error: {error}"
        return "no error"

    assert client.get("/plain").text.startswith("error: Working outside of a WebSocket handler")
    with pytest.raises(RuntimeError):
        websocket.path  # noqa: B018


def test_receive_times_out_instead_of_hanging(app: Erlen, client: ErlenClient) -> None:
    @app.websocket("/silent")
    async def silent() -> None:
        await websocket.accept()
        await websocket.receive()  # waits for the client; ends on its disconnect

    with (
        pytest.raises(TimeoutError, match="sent nothing"),
        client.websocket("/silent", timeout=0.2) as ws,
    ):
        ws.receive()


def test_async_client_websocket(app: Erlen) -> None:
    _echo_app(app)
    closed: list[bool] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        closed.append(error is None)

    async def main() -> list[str | bytes]:
        client = AsyncClient(app)
        replies: list[str | bytes] = []
        async with client.websocket("/echo") as first, client.websocket("/echo") as second:
            await first.send("to first")
            await second.send(b"to second")
            replies.append(await second.receive())
            replies.append(await first.receive())
            await first.send_json({"n": 1})
            replies.append(await first.receive_text())
        return replies

    replies = asyncio.run(asyncio.wait_for(main(), timeout=10))
    assert replies == [b"to second", "to first", '{"n": 1}']
    assert closed == [True, True]
