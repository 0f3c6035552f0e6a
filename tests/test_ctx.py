"""Application and request contexts: proxies, ``g``, nesting, copies, streaming, isolation."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import typing as t
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from erlen import (
    Erlen,
    Response,
    after_this_request,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
    stream_with_context,
)
from erlen.testing import AsyncClient, ErlenClient

# --- outside any context ------------------------------------------------------------------------


def test_proxies_outside_context_raise_clear_errors() -> None:
    assert not has_app_context()
    assert not has_request_context()
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        _ = current_app.name
    with pytest.raises(RuntimeError, match=re.escape("app.app_context()")):
        _ = g.anything
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        _ = request.path
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        session.get("user")


def test_request_proxies_need_request_not_just_app_context(app: Erlen) -> None:
    with app.app_context():
        assert current_app.name == app.name
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            _ = request.args


def test_helpers_outside_request_context_raise() -> None:
    with pytest.raises(RuntimeError, match="after_this_request"):
        after_this_request(lambda response: response)
    with pytest.raises(RuntimeError, match="copy_current_request_context"):
        copy_current_request_context(lambda: None)


# --- application context and g ------------------------------------------------------------------


def test_app_context_and_g(app: Erlen) -> None:
    with app.app_context() as ctx:
        assert has_app_context()
        assert not has_request_context()
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert ctx.app is app

        g.user = "ann"
        assert g.user == "ann"
        assert g.get("user") == "ann"
        assert g.get("missing") is None
        assert g.get("missing", 5) == 5
        assert "user" in g
        assert "missing" not in g

        assert g.setdefault("count", 1) == 1
        assert g.setdefault("count", 2) == 1
        assert sorted(g) == ["count", "user"]

        assert g.pop("user") == "ann"
        assert "user" not in g
        assert g.pop("user", "gone") == "gone"
        with pytest.raises(KeyError):
            g.pop("user")
        with pytest.raises(AttributeError):
            _ = g.user
    assert not has_app_context()


def test_each_app_context_has_its_own_g(app: Erlen) -> None:
    with app.app_context():
        g.value = 1
    with app.app_context():
        assert "value" not in g
        assert list(g) == []


def test_teardown_appcontext_runs_on_exit(app: Erlen) -> None:
    errors: list[BaseException | None] = []

    @app.teardown_appcontext
    def teardown(error: BaseException | None) -> None:
        errors.append(error)

    with app.app_context():
        assert errors == []
    assert errors == [None]
    with pytest.raises(ValueError), app.app_context():
        raise ValueError("boom")
    assert len(errors) == 2 and isinstance(errors[1], ValueError)


def test_each_request_is_its_own_app_context(app: Erlen, client: ErlenClient) -> None:
    """Without an outer app context, a request is the app context: a fresh ``g`` per request,
    ``teardown_appcontext`` once per request with the error, after ``teardown_request``."""
    from erlen.signals import appcontext_popped, appcontext_pushed

    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[str] = []
    seen_g: list[object] = []

    @app.teardown_request
    def request_down(error: BaseException | None) -> None:
        events.append("request")

    @app.teardown_appcontext
    def app_down(error: BaseException | None) -> None:
        events.append(f"app:{type(error).__name__}")

    @app.get("/")
    def index() -> str:
        assert not hasattr(g, "mark")
        g.mark = 1
        seen_g.append(g._get_current_object())
        return "ok"

    @app.get("/fail")
    def fail() -> str:
        raise ValueError("boom")

    def pushed(sender: Erlen, **extra: t.Any) -> None:
        events.append("pushed")

    def popped(sender: Erlen, **extra: t.Any) -> None:
        events.append("popped")

    with appcontext_pushed.connected_to(pushed, app), appcontext_popped.connected_to(popped, app):
        assert client.get("/").text == "ok"
        assert client.get("/").text == "ok"
        assert client.get("/fail").status_code == 500
    assert seen_g[0] is not seen_g[1]
    assert events == [
        *("pushed", "request", "app:NoneType", "popped") * 2,
        *("pushed", "request", "app:ValueError", "popped"),
    ]
    assert not has_app_context()


# --- test_request_context -----------------------------------------------------------------------


def test_test_request_context(app: Erlen) -> None:
    with app.test_request_context(
        "/items?page=2",
        method="POST",
        data=b"raw body",
        headers={"X-Token": "secret"},
        content_type="application/octet-stream",
    ):
        assert has_request_context()
        assert has_app_context()
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert request.path == "/items"
        assert request.method == "POST"
        assert request.args["page"] == "2"
        assert request.get_data() == b"raw body"
        assert request.headers["X-Token"] == "secret"
        assert request.url == "http://localhost/items?page=2"
    assert not has_request_context()
    assert not has_app_context()


def test_test_request_context_json_and_form(app: Erlen) -> None:
    with app.test_request_context("/j", method="PUT", json={"a": [1, 2]}):
        assert request.is_json
        assert request.get_json() == {"a": [1, 2]}
        assert request.method == "PUT"
    with app.test_request_context("/f", method="POST", data={"k": "v"}):
        assert request.form["k"] == "v"


def test_test_request_context_session_and_g(app: Erlen) -> None:
    with app.test_request_context("/"):
        session["user"] = "bob"
        g.thing = 1
        assert session["user"] == "bob"
        assert g.thing == 1


def test_nested_request_contexts_restore_previous(app: Erlen) -> None:
    with app.test_request_context("/outer"):
        g.level = "outer"
        with app.test_request_context("/inner", method="DELETE"):
            assert request.path == "/inner"
            assert request.method == "DELETE"
            # Same app: the app context (and so g) is shared.
            assert g.level == "outer"
        assert request.path == "/outer"
        assert request.method == "GET"
        assert g.level == "outer"
    assert not has_request_context()


def test_nested_app_contexts_of_different_apps(app: Erlen) -> None:
    other = Erlen("other_app")
    with app.app_context():
        g.who = "first"
        with other.app_context():
            assert current_app.name == "other_app"
            assert "who" not in g
            g.who = "second"
            with app.test_request_context("/x"):
                # A request context for another app pushes that app's context.
                assert current_app._get_current_object() is app  # type: ignore[attr-defined]
                assert "who" not in g
            assert current_app.name == "other_app"
            assert g.who == "second"
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert g.who == "first"
    assert not has_app_context()


def test_request_context_inside_app_context_shares_g(app: Erlen) -> None:
    with app.app_context():
        g.shared = "yes"
        with app.test_request_context("/"):
            assert g.shared == "yes"
            g.added = 1
        assert g.added == 1


# --- copies, after_this_request ------------------------------------------------------------------


def test_copy_current_request_context_in_thread(app: Erlen, client: ErlenClient) -> None:
    @app.route("/thread")
    def in_thread() -> t.Any:
        results: dict[str, t.Any] = {}

        @copy_current_request_context
        def work() -> None:
            results["value"] = request.args["v"]
            results["path"] = request.path
            results["session"] = session.get("who")
            session["from_thread"] = "yes"  # the copy shares the view's session object

        session["who"] = "me"
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive()
        return results

    @app.route("/read-session")
    def read_session() -> t.Any:
        return dict(session)

    assert client.get("/thread?v=42").json == {"value": "42", "path": "/thread", "session": "me"}
    assert client.get("/read-session").json == {"who": "me", "from_thread": "yes"}


def test_copy_current_request_context_async_function(app: Erlen, client: ErlenClient) -> None:
    saved: list[Callable[[], t.Any]] = []

    @app.route("/async-copy")
    async def async_copy() -> t.Any:
        @copy_current_request_context
        async def work() -> str:
            await asyncio.sleep(0)
            return f"{request.path}?v={request.args['v']}"

        saved.append(work)
        return {"inline": await work()}

    assert client.get("/async-copy?v=7").json == {"inline": "/async-copy?v=7"}
    # The copy carries the request to code that runs outside it, later.
    assert not has_request_context()
    assert asyncio.run(saved[0]()) == "/async-copy?v=7"
    assert not has_request_context()


def test_copy_current_request_context_sync_function_later(app: Erlen, client: ErlenClient) -> None:
    saved: list[Callable[[], t.Any]] = []

    @app.route("/later")
    def later() -> str:
        saved.append(copy_current_request_context(lambda: request.args["v"]))
        return "ok"

    assert client.get("/later?v=late").status_code == 200
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(saved[0]()))
    thread.start()
    thread.join(timeout=10)
    assert result == ["late"]


def test_after_this_request(app: Erlen, client: ErlenClient) -> None:
    calls: list[str] = []

    @app.route("/after")
    def after_view() -> str:
        @after_this_request
        def add_header(response: Response) -> Response:
            calls.append(request.path)
            response.headers["X-After"] = "done"
            return response

        return "body"

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    rv = client.get("/after")
    assert rv.headers["X-After"] == "done"
    assert rv.data == b"body"
    # Registered for that request only.
    assert "X-After" not in client.get("/plain").headers
    assert calls == ["/after"]


def test_after_this_request_in_async_view(app: Erlen, client: ErlenClient) -> None:
    @app.route("/after")
    async def after_view() -> str:
        def set_status(response: Response) -> Response:
            response.status_code = 201
            return response

        after_this_request(set_status)
        return "made"

    assert client.get("/after").status_code == 201


# --- streaming keeps the context ----------------------------------------------------------------


def test_stream_with_context_on_generator(app: Erlen, client: ErlenClient) -> None:
    @app.route("/swc")
    def swc() -> t.Any:
        def generate() -> Iterator[str]:
            yield "hello "
            yield request.args["name"]

        return stream_with_context(generate())

    assert client.get("/swc?name=world", buffered=True).data == b"hello world"


def test_stream_with_context_as_decorator(app: Erlen, client: ErlenClient) -> None:
    @app.route("/swc-deco")
    def swc_deco() -> t.Any:
        @stream_with_context
        def generate(prefix: str) -> Iterator[str]:
            yield prefix
            yield request.args["name"]
            yield session.get("mood", "-")

        session["mood"] = "!"
        return generate("hi ")

    assert client.get("/swc-deco?name=ann", buffered=True).data == b"hi ann!"


def test_request_context_active_while_streaming(app: Erlen, client: ErlenClient) -> None:
    @app.route("/mid")
    def mid() -> t.Any:
        g.marker = "from-view"

        def generate() -> Iterator[str]:
            yield "start;"
            yield f"active={has_request_context()};"
            yield f"q={request.args['q']};"
            yield f"path={request.path};"
            yield f"g={g.marker};"
            yield f"app={current_app.name}"

        return generate()

    rv = client.get("/mid?q=mid-stream", buffered=True)
    assert rv.data == b"start;active=True;q=mid-stream;path=/mid;g=from-view;app=test_app"


def test_request_context_active_in_async_stream(app: Erlen, client: ErlenClient) -> None:
    @app.route("/amid")
    async def amid() -> t.Any:
        async def generate() -> AsyncIterator[str]:
            yield "start;"
            await asyncio.sleep(0)
            yield f"q={request.args['q']};"
            yield f"g={g.get('x', 'none')}"

        g.x = "gx"
        return generate()

    assert client.get("/amid?q=aq", buffered=True).data == b"start;q=aq;g=gx"


def test_teardown_runs_after_streaming_ends(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.route("/stream")
    def stream() -> t.Any:
        def generate() -> Iterator[str]:
            for i in range(3):
                events.append(f"chunk {i}")
                yield str(i)

        return generate()

    @app.teardown_request
    def teardown_request(error: BaseException | None) -> None:
        events.append(f"teardown_request {error}")

    @app.teardown_appcontext
    def teardown_app(error: BaseException | None) -> None:
        events.append("teardown_appcontext")

    rv = client.get("/stream", buffered=True)
    assert rv.data == b"012"
    assert events == [
        "chunk 0",
        "chunk 1",
        "chunk 2",
        "teardown_request None",
        "teardown_appcontext",
    ]
    assert not has_request_context()


def test_teardown_runs_after_async_streaming_ends(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.route("/astream")
    async def astream() -> t.Any:
        async def generate() -> AsyncIterator[str]:
            for i in range(3):
                await asyncio.sleep(0)
                events.append(f"chunk {i}")
                yield str(i)

        return generate()

    @app.teardown_request
    def teardown_request(error: BaseException | None) -> None:
        events.append("teardown")

    rv = client.get("/astream", buffered=True)
    assert rv.data == b"012"
    assert events == ["chunk 0", "chunk 1", "chunk 2", "teardown"]


def test_context_ends_once_streamed_body_is_read(app: Erlen, client: ErlenClient) -> None:
    """Not buffered: reading the whole body ends the request, as a server closes it."""
    events: list[str] = []

    @app.route("/stream")
    def stream() -> t.Any:
        def generate() -> Iterator[str]:
            yield request.args["a"]
            yield request.args["b"]

        return generate()

    @app.teardown_request
    def teardown_request(error: BaseException | None) -> None:
        events.append("teardown")

    rv = client.get("/stream?a=1&b=2")
    assert rv.data == b"12"
    assert events == ["teardown"]
    assert not has_request_context()
    assert not has_app_context()


def test_with_client_and_streamed_body(app: Erlen, client: ErlenClient) -> None:
    @app.route("/stream")
    def stream() -> t.Any:
        g.mark = "m"

        def generate() -> Iterator[str]:
            yield request.path

        return generate()

    with client:
        assert client.get("/stream").data == b"/stream"
        assert request.path == "/stream"
        assert g.mark == "m"
    assert not has_request_context()


# --- isolation ----------------------------------------------------------------------------------


def test_isolation_between_threads_wsgi(app: Erlen) -> None:
    count = 100

    @app.route("/iso")
    def iso() -> t.Any:
        before = g.get("value")
        g.value = request.args["v"]
        time.sleep(0.01)  # let the other threads interleave
        return {"arg": request.args["v"], "g": g.value, "before": before}

    barrier = threading.Barrier(count, timeout=20)
    results: dict[int, t.Any] = {}
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            local_client = app.test_client()
            barrier.wait()
            rv = local_client.get("/iso", query_string={"v": f"value-{index}"})
            results[index] = (rv.status_code, rv.json)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(results) == count
    for index, (status, body) in results.items():
        expected = f"value-{index}"
        assert status == 200
        assert body == {"arg": expected, "g": expected, "before": None}


def test_isolation_between_asyncio_tasks_asgi(app: Erlen) -> None:
    count = 1000

    @app.route("/iso")
    async def iso() -> t.Any:
        before = g.get("value")
        g.value = request.args["v"]
        await asyncio.sleep(0.001)  # let the other tasks interleave
        await asyncio.sleep(0)
        return {"arg": request.args["v"], "g": g.value, "before": before}

    async def main() -> list[t.Any]:
        client = AsyncClient(app)

        async def one(index: int) -> t.Any:
            rv = await client.get("/iso", query_string={"v": f"task-{index}"})
            return index, rv.status_code, rv.json

        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(count))), timeout=30)

    results = asyncio.run(main())
    assert len(results) == count
    for index, status, body in results:
        expected = f"task-{index}"
        assert status == 200
        assert body == {"arg": expected, "g": expected, "before": None}
    assert not has_app_context()


def test_receivers_connected_while_serving_are_sent_on_pop(app: Erlen, client: ErlenClient) -> None:
    """A request context pops without awaiting anything when nothing runs then; receivers
    connected once the app serves (and teardown-time background tasks) are not missed."""
    from erlen.signals import appcontext_popped, appcontext_tearing_down, request_tearing_down

    events: list[str] = []

    @app.get("/")
    def index() -> str:
        return "ok"

    assert client.get("/").text == "ok"  # nothing connected: the quick pop

    def tearing(sender: Erlen, **extra: object) -> None:
        events.append("request_tearing_down")

    def app_tearing(sender: Erlen, **extra: object) -> None:
        events.append("appcontext_tearing_down")

    def popped(sender: Erlen, **extra: object) -> None:
        events.append("appcontext_popped")

    request_tearing_down.connect(tearing, app)
    appcontext_tearing_down.connect(app_tearing, app)
    appcontext_popped.connect(popped, app)
    try:
        assert client.get("/").text == "ok"
    finally:
        request_tearing_down.disconnect(tearing, app)
        appcontext_tearing_down.disconnect(app_tearing, app)
        appcontext_popped.disconnect(popped, app)
    assert events == ["request_tearing_down", "appcontext_tearing_down", "appcontext_popped"]
    assert client.get("/").text == "ok"
    assert len(events) == 3  # disconnected: nothing more
