"""Flash messages: flash and get_flashed_messages across requests, categories, filtering,
consumption and the message_flashed signal."""

from __future__ import annotations

import typing as t

import pytest
from support.responses import json_body

from erlen import Erlen, flash, get_flashed_messages, redirect, render_template_string
from erlen.signals import message_flashed
from erlen.testing import ErlenClient


@pytest.fixture
def flash_app(app: Erlen) -> Erlen:
    @app.route("/post")
    def post() -> t.Any:
        flash("saved")
        flash("disk almost full", "warning")
        flash("could not send mail", "error")
        flash("second error", "error")
        return redirect("/show")

    @app.route("/show")
    def show() -> dict[str, t.Any]:
        return {
            "plain": get_flashed_messages(),
            "categories": get_flashed_messages(with_categories=True),
            "errors": get_flashed_messages(category_filter=["error"]),
            "errors_and_warnings": get_flashed_messages(
                with_categories=True, category_filter=("error", "warning")
            ),
        }

    return app


def test_flash_across_a_redirect(flash_app: Erlen, client: ErlenClient) -> None:
    response = client.get("/post", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/show"
    assert response.json == {
        "plain": ["saved", "disk almost full", "could not send mail", "second error"],
        "categories": [
            ["message", "saved"],
            ["warning", "disk almost full"],
            ["error", "could not send mail"],
            ["error", "second error"],
        ],
        "errors": ["could not send mail", "second error"],
        "errors_and_warnings": [
            ["warning", "disk almost full"],
            ["error", "could not send mail"],
            ["error", "second error"],
        ],
    }


def test_messages_consumed_once(flash_app: Erlen, client: ErlenClient) -> None:
    client.get("/post")
    assert json_body(client.get("/show"))["plain"] == [
        "saved",
        "disk almost full",
        "could not send mail",
        "second error",
    ]
    assert client.get("/show").json == {
        "plain": [],
        "categories": [],
        "errors": [],
        "errors_and_warnings": [],
    }


def test_filtered_read_consumes_all(flash_app: Erlen, client: ErlenClient) -> None:
    @flash_app.route("/errors")
    def errors() -> t.Any:
        return get_flashed_messages(category_filter=["error"])

    client.get("/post")
    assert client.get("/errors").json == ["could not send mail", "second error"]
    assert json_body(client.get("/show"))["plain"] == []


def test_messages_accumulate_until_read(app: Erlen, client: ErlenClient) -> None:
    @app.route("/add/<text>")
    async def add(text: str) -> str:
        flash(text, "info")
        return "ok"

    @app.route("/read")
    def read() -> t.Any:
        return get_flashed_messages(with_categories=True)

    client.get("/add/one")
    client.get("/add/two")
    assert client.get("/read").json == [["info", "one"], ["info", "two"]]
    assert client.get("/read").json == []


def test_flash_and_read_in_the_same_request(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        flash("immediate")
        return get_flashed_messages()

    assert client.get("/").json == ["immediate"]
    assert client.get("/").json == ["immediate"]  # consumed, then flashed again


def test_flashed_messages_in_a_template(app: Erlen, client: ErlenClient) -> None:
    @app.route("/post")
    def post() -> t.Any:
        flash("<b>escaped</b>", "error")
        return redirect("/page")

    @app.route("/page")
    def page() -> str:
        return render_template_string(
            "{% for category, message in get_flashed_messages(with_categories=true) %}"
            "[{{ category }}:{{ message }}]{% endfor %}"
        )

    response = client.get("/post", follow_redirects=True)
    assert response.data == b"[error:&lt;b&gt;escaped&lt;/b&gt;]"


def test_markup_messages(app: Erlen, client: ErlenClient) -> None:
    from markupsafe import Markup

    @app.route("/post")
    def post() -> t.Any:
        flash(Markup("<b>bold</b>"))
        return redirect("/page")

    @app.route("/page")
    def page() -> str:
        return render_template_string("{{ get_flashed_messages()[0] }}")

    assert client.get("/post", follow_redirects=True).data == b"<b>bold</b>"


def test_get_flashed_messages_outside_a_request(app: Erlen) -> None:
    with app.app_context():
        assert get_flashed_messages() == []


def test_message_flashed_signal(flash_app: Erlen, client: ErlenClient) -> None:
    received: list[tuple[Erlen, str, str]] = []

    def receiver(sender: Erlen, message: str, category: str) -> None:
        received.append((sender, message, category))

    with message_flashed.connected_to(receiver, sender=flash_app):
        client.get("/post")
    assert received == [
        (flash_app, "saved", "message"),
        (flash_app, "disk almost full", "warning"),
        (flash_app, "could not send mail", "error"),
        (flash_app, "second error", "error"),
    ]
    received.clear()
    client.get("/post")  # disconnected
    assert received == []


def test_flash_without_secret_key_raises(app: Erlen, client: ErlenClient) -> None:
    app.secret_key = None

    @app.route("/")
    def index() -> str:
        flash("lost")
        return "ok"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        client.get("/")
