"""Signals: what each one receives and when it is sent, sync and async receivers, senders."""

from __future__ import annotations

import gc
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from blinker import Signal
from jinja2 import Template

from erlen import Erlen, Response, flash, render_template_string, request
from erlen.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    got_request_exception,
    message_flashed,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
)
from erlen.testing import ErlenClient

ALL_SIGNALS = (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    got_request_exception,
    message_flashed,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
)


@pytest.fixture(autouse=True)
def no_leaked_receivers() -> Iterator[None]:
    """Every test must disconnect what it connects: a receiver left behind would make the app
    take its signal paths in other tests."""
    before = {signal: dict(signal.receivers) for signal in ALL_SIGNALS}
    yield
    gc.collect()  # a receiver held only by a reference cycle is gone once collected
    for signal in ALL_SIGNALS:
        assert signal.receivers.keys() == before[signal].keys()


@contextmanager
def connected(signal: Signal, receiver: t.Callable[..., t.Any], sender: t.Any) -> Iterator[None]:
    signal.connect(receiver, sender)
    try:
        yield
    finally:
        signal.disconnect(receiver, sender)


def test_request_started(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    def started(sender: Erlen, **extra: t.Any) -> None:
        assert sender is app
        assert extra == {}
        # Sent with the request context pushed and the URL matched.
        events.append(f"started {request.path} {request.endpoint}")

    @app.route("/hello")
    def hello() -> str:
        events.append("view")
        return "hello"

    with request_started.connected_to(started, app):
        assert client.get("/hello").data == b"hello"
    assert events == ["started /hello hello", "view"]


def test_request_finished_receives_response_after_after_request(
    app: Erlen, client: ErlenClient
) -> None:
    events: list[str] = []

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        response.headers["X-After"] = "set"
        return response

    def finished(sender: Erlen, response: Response) -> None:
        assert sender is app
        events.append(f"finished {response.status_code} {response.headers.get('X-After')}")

    @app.route("/")
    def index() -> str:
        events.append("view")
        return "ok"

    with request_finished.connected_to(finished, app):
        client.get("/")
        client.get("/missing")
    assert events == [
        "view",
        "after_request",
        "finished 200 set",
        "after_request",
        "finished 404 set",
    ]


def test_request_started_and_finished_order(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.before_request
    def before() -> None:
        events.append("before_request")

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    @app.route("/")
    def index() -> str:
        events.append("view")
        return "ok"

    def started(sender: Erlen) -> None:
        events.append("request_started")

    def finished(sender: Erlen, response: Response) -> None:
        events.append("request_finished")

    def tearing_down(sender: Erlen, exc: BaseException | None) -> None:
        events.append("request_tearing_down")

    with (
        request_started.connected_to(started, app),
        request_finished.connected_to(finished, app),
        request_tearing_down.connected_to(tearing_down, app),
    ):
        client.get("/")
    assert events == [
        "request_started",
        "before_request",
        "view",
        "after_request",
        "request_finished",
        "teardown",
        "request_tearing_down",
    ]


def test_got_request_exception(app: Erlen, client: ErlenClient) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    received: list[BaseException] = []
    finished: list[int] = []

    def on_exception(sender: Erlen, exception: BaseException) -> None:
        assert sender is app
        received.append(exception)

    @app.route("/boom")
    def boom() -> str:
        raise ZeroDivisionError("boom")

    @app.route("/handled")
    def handled() -> str:
        raise KeyError("handled")

    @app.errorhandler(KeyError)
    def handle_key_error(error: Exception) -> tuple[str, int]:
        return "handled", 400

    with (
        got_request_exception.connected_to(on_exception, app),
        request_finished.connected_to(
            lambda sender, response: finished.append(response.status_code), app
        ),
    ):
        response = client.get("/boom")
        assert response.status_code == 500
        assert len(received) == 1
        assert isinstance(received[0], ZeroDivisionError)
        assert str(received[0]) == "boom"
        # A handled exception and an HTTP error are not "got_request_exception".
        assert client.get("/handled").status_code == 400
        assert client.get("/missing").status_code == 404
        assert len(received) == 1
    assert finished == [500, 400, 404]


def test_got_request_exception_sent_before_propagating(app: Erlen, client: ErlenClient) -> None:
    received: list[BaseException] = []

    @app.route("/boom")
    def boom() -> str:
        raise ValueError("propagated")

    with (
        got_request_exception.connected_to(
            lambda sender, exception: received.append(exception), app
        ),
        pytest.raises(ValueError, match="propagated"),
    ):
        client.get("/boom")
    assert [type(error) for error in received] == [ValueError]


def test_request_tearing_down(app: Erlen, client: ErlenClient) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    received: list[BaseException | None] = []

    def tearing_down(sender: Erlen, exc: BaseException | None) -> None:
        assert sender is app
        received.append(exc)

    @app.route("/")
    def index() -> str:
        return "ok"

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("teardown sees me")

    with request_tearing_down.connected_to(tearing_down, app):
        client.get("/")
        client.get("/boom")
    assert received[0] is None
    assert isinstance(received[1], RuntimeError)
    assert len(received) == 2


def test_appcontext_signals_in_a_request(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    def pushed(sender: Erlen) -> None:
        assert sender is app
        events.append("pushed")

    def tearing_down(sender: Erlen, exc: BaseException | None) -> None:
        events.append(f"tearing_down {exc!r}")

    def popped(sender: Erlen) -> None:
        events.append("popped")

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown_appcontext")

    @app.route("/")
    def index() -> str:
        events.append("view")
        return "ok"

    with (
        appcontext_pushed.connected_to(pushed, app),
        appcontext_tearing_down.connected_to(tearing_down, app),
        appcontext_popped.connected_to(popped, app),
    ):
        client.get("/")
    assert events == ["pushed", "view", "teardown_appcontext", "tearing_down None", "popped"]


def test_appcontext_signals_outside_a_request(app: Erlen) -> None:
    events: list[str] = []
    with (
        appcontext_pushed.connected_to(lambda sender: events.append("pushed"), app),
        appcontext_tearing_down.connected_to(
            lambda sender, exc: events.append(f"tearing_down {type(exc).__name__}"), app
        ),
        appcontext_popped.connected_to(lambda sender: events.append("popped"), app),
    ):
        with app.app_context():
            events.append("inside")
        with pytest.raises(LookupError), app.app_context():
            raise LookupError()
    assert events == [
        "pushed",
        "inside",
        "tearing_down NoneType",
        "popped",
        "pushed",
        "tearing_down LookupError",
        "popped",
    ]


def test_template_signals(app: Erlen, client: ErlenClient) -> None:
    events: list[tuple[str, str | None, t.Any]] = []

    def before(sender: Erlen, template: Template, context: dict[str, t.Any]) -> None:
        assert sender is app
        events.append(("before", template.name, context["name"]))
        context["name"] = "changed"

    def rendered(sender: Erlen, template: Template, context: dict[str, t.Any]) -> None:
        assert sender is app
        events.append(("rendered", template.name, (context["name"], context["request"].path)))

    @app.route("/page")
    def page() -> str:
        return render_template_string("Hi {{ name }}", name="original")

    with (
        before_render_template.connected_to(before, app),
        template_rendered.connected_to(rendered, app),
    ):
        assert client.get("/page").data == b"Hi changed"
    assert events == [("before", None, "original"), ("rendered", None, ("changed", "/page"))]


def test_message_flashed(app: Erlen, client: ErlenClient) -> None:
    received: list[tuple[str, str]] = []

    def flashed(sender: Erlen, message: str, category: str) -> None:
        assert sender is app
        received.append((category, message))

    @app.route("/")
    def index() -> str:
        flash("saved")
        flash("careful", "warning")
        return "ok"

    with message_flashed.connected_to(flashed, app):
        client.get("/")
    assert received == [("message", "saved"), ("warning", "careful")]


def test_receiver_for_another_app_is_not_called(app: Erlen, client: ErlenClient) -> None:
    other = Erlen("other_app")
    calls: list[str] = []

    @app.route("/")
    def index() -> str:
        flash("hello")
        return render_template_string("x")

    receivers: list[tuple[Signal, t.Callable[..., None]]] = [
        (request_started, lambda sender, **kw: calls.append("request_started")),
        (request_finished, lambda sender, **kw: calls.append("request_finished")),
        (request_tearing_down, lambda sender, **kw: calls.append("request_tearing_down")),
        (appcontext_pushed, lambda sender, **kw: calls.append("appcontext_pushed")),
        (appcontext_popped, lambda sender, **kw: calls.append("appcontext_popped")),
        (template_rendered, lambda sender, **kw: calls.append("template_rendered")),
        (message_flashed, lambda sender, **kw: calls.append("message_flashed")),
    ]
    for signal, receiver in receivers:
        signal.connect(receiver, other)
    try:
        assert client.get("/").status_code == 200
        assert calls == []
        with other.test_request_context():
            pass
        assert "appcontext_pushed" in calls  # connected for real: only the sender differs
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver, other)


def test_receiver_without_sender_gets_every_app(app: Erlen, client: ErlenClient) -> None:
    senders: list[t.Any] = []

    def started(sender: t.Any) -> None:
        senders.append(sender)

    @app.route("/")
    def index() -> str:
        return "ok"

    with connected(request_started, started, Signal.ANY):
        client.get("/")
    assert senders == [app]


# --- async receivers --------------------------------------------------------------------------


def test_async_receivers_for_request_signals(app: Erlen, client: ErlenClient) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    events: list[str] = []

    async def started(sender: Erlen) -> None:
        events.append(f"started {request.path}")

    async def finished(sender: Erlen, response: Response) -> None:
        events.append(f"finished {response.status_code}")

    async def exception(sender: Erlen, exception: BaseException) -> None:
        events.append(f"exception {type(exception).__name__}")

    async def tearing_down(sender: Erlen, exc: BaseException | None) -> None:
        events.append(f"tearing_down {type(exc).__name__}")

    @app.route("/")
    async def index() -> str:
        return "async view"

    @app.route("/sync")
    def sync_view() -> str:
        return "sync view"

    @app.route("/boom")
    def boom() -> str:
        raise OSError()

    with (
        request_started.connected_to(started, app),
        request_finished.connected_to(finished, app),
        got_request_exception.connected_to(exception, app),
        request_tearing_down.connected_to(tearing_down, app),
    ):
        assert client.get("/").data == b"async view"
        assert client.get("/sync").data == b"sync view"
        assert client.get("/boom").status_code == 500
    assert events == [
        "started /",
        "finished 200",
        "tearing_down NoneType",
        "started /sync",
        "finished 200",
        "tearing_down NoneType",
        "started /boom",
        "exception OSError",
        "finished 500",
        "tearing_down OSError",
    ]


def test_async_receivers_for_appcontext_signals(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    async def pushed(sender: Erlen) -> None:
        events.append("pushed")

    async def tearing_down(sender: Erlen, exc: BaseException | None) -> None:
        events.append("tearing_down")

    async def popped(sender: Erlen) -> None:
        events.append("popped")

    @app.route("/")
    def index() -> str:
        return "ok"

    with (
        appcontext_pushed.connected_to(pushed, app),
        appcontext_tearing_down.connected_to(tearing_down, app),
        appcontext_popped.connected_to(popped, app),
    ):
        client.get("/")
        assert events == ["pushed", "tearing_down", "popped"]
        with app.app_context():
            pass
    assert events == ["pushed", "tearing_down", "popped"] * 2


@pytest.mark.parametrize("view_kind", ["sync", "async"])
def test_async_receivers_for_template_and_flash_signals(
    app: Erlen, client: ErlenClient, view_kind: str
) -> None:
    events: list[str] = []

    async def before(sender: Erlen, template: Template, context: dict[str, t.Any]) -> None:
        events.append(f"before {context['value']}")

    async def rendered(sender: Erlen, template: Template, context: dict[str, t.Any]) -> None:
        events.append("rendered")

    async def flashed(sender: Erlen, message: str, category: str) -> None:
        events.append(f"flashed {message}")

    def page() -> str:
        flash("note")
        return render_template_string("{{ value }}", value=7)

    async def async_page() -> str:
        return page()

    app.add_url_rule("/", "page", page if view_kind == "sync" else async_page)

    with (
        before_render_template.connected_to(before, app),
        template_rendered.connected_to(rendered, app),
        message_flashed.connected_to(flashed, app),
    ):
        assert client.get("/").data == b"7"
    assert events == ["flashed note", "before 7", "rendered"]


def test_receivers_for_another_app_and_connections_after_requests(
    app: Erlen, client: ErlenClient
) -> None:
    """has_receivers answers per app, and sees receivers connected or disconnected later."""
    from erlen.signals import has_receivers

    other = Erlen("other")
    seen: list[str] = []

    @app.get("/")
    def index() -> str:
        return "ok"

    def for_other(sender: Erlen, **extra: t.Any) -> None:
        raise AssertionError("a receiver for another app was called")

    def for_app(sender: Erlen, **extra: t.Any) -> None:
        seen.append(sender.name)

    request_started.connect(for_other, sender=other, weak=False)
    try:
        assert has_receivers(request_started, other)
        assert not has_receivers(request_started, app)
        assert client.get("/").text == "ok"
        request_started.connect(for_app, sender=app, weak=False)
        assert has_receivers(request_started, app)
        assert client.get("/").text == "ok"
        assert seen == [app.name]
        request_started.disconnect(for_app, sender=app)
        assert client.get("/").text == "ok"
        assert seen == [app.name]
    finally:
        request_started.disconnect(for_other)
        request_started.disconnect(for_app)
    assert not has_receivers(request_started, other)


def test_receivers_for_any_sender_reach_apps_made_before_and_after() -> None:
    """Each app's set of signals with receivers follows connections for any sender, whether
    the app existed when they connected or was made after."""
    from erlen.signals import has_receivers

    before = Erlen("before")
    calls: list[str] = []

    def receiver(sender: Erlen, **extra: t.Any) -> None:
        calls.append(sender.name)

    request_started.connect(receiver, weak=False)
    try:
        after = Erlen("after")
        for app in (before, after):
            app.add_url_rule("/", "index", lambda: "ok")
            assert has_receivers(request_started, app)
            assert app.test_client().get("/").text == "ok"
        assert calls == ["before", "after"]
    finally:
        request_started.disconnect(receiver)
    assert not has_receivers(request_started, before)
    assert before.test_client().get("/").text == "ok"
    assert calls == ["before", "after"]


def test_tracking_receivers_keeps_no_app_alive() -> None:
    import weakref

    app = Erlen("short-lived")
    gone = weakref.ref(app)
    del app
    gc.collect()
    assert gone() is None
