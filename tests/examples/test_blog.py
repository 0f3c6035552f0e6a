"""The blog of examples/blog, through the test client on the WSGI and the ASGI path."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import typing as t
from pathlib import Path

import pytest
from blog import create_app, live
from blog.db import db
from werkzeug.security import check_password_hash
from werkzeug.test import TestResponse

from erlen import Erlen, g, session
from erlen.testing import ErlenClient

from .conftest import PASSWORD

XSS_TITLE = '<script>alert("title")</script>'
XSS_BODY = "<img src=x onerror=alert(1)>"


# --- helpers ---------------------------------------------------------------------------------


def register(client: ErlenClient, username: str, password: str = PASSWORD) -> TestResponse:
    return client.post("/auth/register", data={"username": username, "password": password})


def login(client: ErlenClient, username: str, password: str = PASSWORD) -> TestResponse:
    return client.post("/auth/login", data={"username": username, "password": password})


def sign_up(client: ErlenClient, username: str) -> None:
    """Register ``username`` and log in as them."""
    assert register(client, username).status_code == 302
    assert login(client, username).status_code == 302


def query(app: Erlen, sql: str, *args: t.Any) -> list[sqlite3.Row]:
    with app.app_context():
        return db.connection.execute(sql, args).fetchall()


def create(client: ErlenClient, title: str = "Hello", body: str = "First words.") -> TestResponse:
    return client.post("/create", data={"title": title, "body": body})


def post_ids(app: Erlen) -> list[int]:
    return [row["id"] for row in query(app, "SELECT id FROM post ORDER BY id")]


def new_client(app: Erlen, protocol: str) -> ErlenClient:
    return app.test_client(asgi=protocol == "asgi")


# --- the factory, the instance folder, the database extension -------------------------------


def test_first_run_creates_database_and_secret_key(tmp_path: Path) -> None:
    instance = tmp_path / "fresh"
    app = create_app(instance_path=str(instance))
    assert (instance / "blog.sqlite").is_file()
    assert query(app, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    tables = {row["name"] for row in query(app, "SELECT name FROM sqlite_master")}
    assert {"user", "post"} <= tables
    key = app.config["SECRET_KEY"]
    assert isinstance(key, str) and len(key) == 64
    config = instance / "config.py"
    assert f"SECRET_KEY = {key!r}" in config.read_text()
    assert config.stat().st_mode & 0o077 == 0  # readable by its owner only
    # The next run reads the same key and keeps the data.
    with app.app_context(), db.connection:
        db.connection.execute("INSERT INTO user (username, password_hash) VALUES ('x', 'y')")
    again = create_app(instance_path=str(instance))
    assert again.config["SECRET_KEY"] == key
    assert [row["username"] for row in query(again, "SELECT username FROM user")] == ["x"]


def test_secret_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_SECRET_KEY", "a-key-from-the-environment-0123456789")
    app = create_app(instance_path=str(tmp_path / "env"))
    assert app.config["SECRET_KEY"] == "a-key-from-the-environment-0123456789"
    assert not (tmp_path / "env" / "config.py").exists()


def test_production_app_serves_pages_with_its_generated_key(tmp_path: Path) -> None:
    # Not TESTING, not debug: a weak key would be refused when signing the session.
    app = create_app(instance_path=str(tmp_path / "prod"))
    client = app.test_client()
    assert register(client, "prod").status_code == 302
    response = login(client, "prod")
    assert response.status_code == 302
    (user,) = query(app, "SELECT password_hash FROM user")
    assert user["password_hash"].startswith("scrypt:")  # the default, slow on purpose
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_extension_state_and_lazy_connection(app: Erlen) -> None:
    state = app.extensions["database"]
    assert state.path == str(Path(app.instance_path) / "blog.sqlite")
    with app.app_context():
        assert "_database_connection" not in g  # nothing opened until used
        first = db.connection
        assert db.connection is first  # one connection per app context
        assert first.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_teardown_closes_the_connection_of_an_app_context(app: Erlen) -> None:
    with app.app_context():
        connection = db.connection
        assert connection.execute("SELECT 1").fetchone()[0] == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connection.execute("SELECT 1")


def test_teardown_closes_the_connection_of_each_request(app: Erlen, client: ErlenClient) -> None:
    seen: list[sqlite3.Connection] = []

    @app.after_request
    def remember(response: t.Any) -> t.Any:
        seen.append(db.connection)
        return response

    assert client.get("/").status_code == 200
    assert client.get("/api/posts").status_code == 200
    assert len(seen) == 2 and seen[0] is not seen[1]
    for connection in seen:
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")


def test_init_db_command_empties_the_database(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    create(client)
    assert len(post_ids(app)) == 1
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database" in result.output
    assert app.extensions["database"].path in result.output
    assert query(app, "SELECT * FROM post") == []
    assert query(app, "SELECT * FROM user") == []


# --- accounts --------------------------------------------------------------------------------


def test_register_stores_a_password_hash(app: Erlen, client: ErlenClient) -> None:
    response = register(client, "ada")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    (user,) = query(app, "SELECT * FROM user")
    assert user["username"] == "ada"
    assert user["password_hash"].startswith("pbkdf2:sha256:1000$")  # the tests' setting
    assert check_password_hash(user["password_hash"], PASSWORD)
    page = client.get("/auth/login")
    assert "Your account is ready: log in." in page.text


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", PASSWORD, "Choose a username."),
        ("   ", PASSWORD, "Choose a username."),
        ("bob", "short", "Choose a password of at least 8 characters."),
    ],
)
def test_register_refuses_bad_input(
    app: Erlen, client: ErlenClient, username: str, password: str, message: str
) -> None:
    response = register(client, username, password)
    assert response.status_code == 200
    assert message in response.text
    assert query(app, "SELECT * FROM user") == []


def test_register_refuses_a_taken_username(app: Erlen, client: ErlenClient) -> None:
    register(client, "ada")
    response = register(client, "ada", "another password")
    assert response.status_code == 200
    assert "The username &#39;ada&#39; is taken." in response.text
    assert len(query(app, "SELECT * FROM user")) == 1


def test_login_logs_in(client: ErlenClient) -> None:
    register(client, "ada")
    with client:
        response = login(client, "ada")
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert isinstance(session["user_id"], int)
    page = client.get("/")
    assert "Welcome back, ada." in page.text
    assert '<span class="who">ada</span>' in page.text
    assert "Log out" in page.text


@pytest.mark.parametrize(
    ("username", "password"), [("ada", "wrong password"), ("nobody", PASSWORD)]
)
def test_login_refuses_a_wrong_password_or_unknown_user(
    client: ErlenClient, username: str, password: str
) -> None:
    register(client, "ada")
    with client:
        response = login(client, username, password)
        assert response.status_code == 200
        assert "user_id" not in session
    # The same words for both mistakes.
    assert "Wrong username or password." in response.text
    assert "Log out" not in client.get("/").text


def test_logout(client: ErlenClient) -> None:
    sign_up(client, "ada")
    assert client.get("/auth/logout").status_code == 405  # a link cannot log anyone out
    with client:
        response = client.post("/auth/logout")
        assert response.status_code == 302
        assert "user_id" not in session
    page = client.get("/")
    assert "You are logged out." in page.text
    assert "Log out" not in page.text
    assert client.get("/create").status_code == 302


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/create"), ("POST", "/create"), ("GET", "/1/edit"), ("POST", "/1/delete")],
)
def test_login_required_redirects_to_the_login_page(
    client: ErlenClient, method: str, path: str
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next={path}"
    assert "Log in to do that." in client.get("/auth/login").text


def test_login_goes_back_to_the_page_that_asked(client: ErlenClient) -> None:
    register(client, "ada")
    response = client.post(
        "/auth/login?next=/create", data={"username": "ada", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/create"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_does_not_redirect_to_another_site(client: ErlenClient, target: str) -> None:
    register(client, "ada")
    response = client.post(
        "/auth/login", query_string={"next": target}, data={"username": "ada", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- posts -----------------------------------------------------------------------------------


def test_index_without_posts(client: ErlenClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "No posts yet." in page.text
    assert 'data-feed-url="/feed?after=0"' in page.text
    assert "New post" not in page.text


def test_create_a_post(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    assert "<form" in client.get("/create").text
    response = create(client, "Hello", "First words.")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    (post,) = query(app, "SELECT * FROM post")
    assert (post["title"], post["body"]) == ("Hello", "First words.")
    page = client.get("/")
    assert "Your post is published." in page.text
    assert f'id="post-{post["id"]}"' in page.text
    assert "<h2>Hello</h2>" in page.text
    assert "by ada on" in page.text
    assert f'href="/{post["id"]}/edit"' in page.text  # the author sees the edit link
    assert f'data-feed-url="/feed?after={post["id"]}"' in page.text


def test_create_refuses_an_empty_title(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    response = create(client, "  ", "kept body")
    assert response.status_code == 200
    assert "A title is required." in response.text
    assert ">kept body</textarea>" in response.text  # the form keeps what was typed
    assert post_ids(app) == []


def test_edit_own_post(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    create(client, "Before", "old")
    (post_id,) = post_ids(app)
    form = client.get(f"/{post_id}/edit")
    assert form.status_code == 200
    assert 'value="Before"' in form.text
    response = client.post(f"/{post_id}/edit", data={"title": "After", "body": "new"})
    assert response.status_code == 302
    (post,) = query(app, "SELECT title, body FROM post")
    assert (post["title"], post["body"]) == ("After", "new")
    assert "Your post is updated." in client.get("/").text


def test_edit_refuses_an_empty_title(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    create(client, "Keep me")
    (post_id,) = post_ids(app)
    response = client.post(f"/{post_id}/edit", data={"title": "", "body": "x"})
    assert response.status_code == 200
    assert "A title is required." in response.text
    assert query(app, "SELECT title FROM post")[0]["title"] == "Keep me"


def test_delete_own_post(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    create(client)
    (post_id,) = post_ids(app)
    assert client.get(f"/{post_id}/delete").status_code == 405
    response = client.post(f"/{post_id}/delete")
    assert response.status_code == 302
    assert post_ids(app) == []
    assert "Your post is deleted." in client.get("/").text


def test_only_the_author_may_edit_or_delete(app: Erlen, protocol: str) -> None:
    author, other = new_client(app, protocol), new_client(app, protocol)
    sign_up(author, "ada")
    sign_up(other, "bob")
    create(author, "Ada's post", "mine")
    (post_id,) = post_ids(app)
    assert f'href="/{post_id}/edit"' not in other.get("/").text
    assert other.get(f"/{post_id}/edit").status_code == 403
    assert (
        other.post(f"/{post_id}/edit", data={"title": "Bob's now", "body": ""}).status_code == 403
    )
    assert other.post(f"/{post_id}/delete").status_code == 403
    (post,) = query(app, "SELECT title, body FROM post")
    assert (post["title"], post["body"]) == ("Ada's post", "mine")


@pytest.mark.parametrize(("method", "path"), [("GET", "/99/edit"), ("POST", "/99/delete")])
def test_missing_post_is_404(client: ErlenClient, method: str, path: str) -> None:
    sign_up(client, "ada")
    assert client.open(path, method=method).status_code == 404


def test_html_in_posts_is_escaped(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    create(client, XSS_TITLE, XSS_BODY)
    (post_id,) = post_ids(app)
    for page in (client.get("/").text, client.get(f"/{post_id}/edit").text):
        assert XSS_TITLE not in page
        assert XSS_BODY not in page
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # The API returns the text as it was written; the page's script shows it as text.
    assert client.get("/api/posts").get_json()["posts"][0]["title"] == XSS_TITLE


def test_html_in_a_username_is_escaped(client: ErlenClient) -> None:
    sign_up(client, "<b>bold</b>")
    create(client)
    page = client.get("/").text
    assert "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


# --- security defaults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port or subdomain: still another origin
        {"Origin": "https://evil.example"},
    ],
)
def test_cross_site_form_posts_are_refused(
    app: Erlen, client: ErlenClient, headers: dict[str, str]
) -> None:
    sign_up(client, "ada")
    response = client.post("/create", data={"title": "forged", "body": "x"}, headers=headers)
    assert response.status_code == 403
    assert post_ids(app) == []
    response = client.post("/auth/logout", headers=headers)
    assert response.status_code == 403
    assert "Log out" in client.get("/").text  # still logged in


def test_same_origin_form_posts_pass(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}
    response = client.post("/create", data={"title": "mine", "body": "x"}, headers=headers)
    assert response.status_code == 302
    assert len(post_ids(app)) == 1


def test_security_headers(client: ErlenClient) -> None:
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in response.text  # no inline script: the CSP would refuse it


def test_static_files(client: ErlenClient) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    script = client.get("/static/live.js")
    assert script.status_code == 200 and "EventSource" in script.text
    assert 'src="/static/live.js"' in client.get("/").text


# --- the JSON API ----------------------------------------------------------------------------


def test_api_lists_posts_newest_first(client: ErlenClient) -> None:
    assert client.get("/api/posts").get_json() == {"posts": []}
    sign_up(client, "ada")
    create(client, "one", "1")
    create(client, "two", "2")
    response = client.get("/api/posts")
    assert response.status_code == 200
    posts = response.get_json()["posts"]
    assert [post["title"] for post in posts] == ["two", "one"]
    first = posts[1]
    assert first["body"] == "1"
    assert first["author"]["username"] == "ada"
    assert first["edit_url"] == f"/{first['id']}/edit"
    assert client.get(f"/api/posts/{first['id']}").get_json() == first


def test_api_creates_a_post(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    response = client.post("/api/posts", json={"title": "From the API", "body": "text"})
    assert response.status_code == 201
    created = response.get_json()
    assert created["title"] == "From the API"
    assert created["author"]["username"] == "ada"
    assert response.headers["Location"] == f"/api/posts/{created['id']}"
    assert post_ids(app) == [created["id"]]
    assert "From the API" in client.get("/").text


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"body": "no title"}, {"title": "A title is required."}),
        ({"title": "", "body": "x"}, {"title": "A title is required."}),
        (
            {"title": 5, "body": ["x"]},
            {"title": "A title is required.", "body": "The body must be text."},
        ),
        ({"title": "x" * 201}, {"title": "The title is longer than 200 characters."}),
        (["not", "an", "object"], {"json": "Send a JSON object with a title and a body."}),
    ],
)
def test_api_validation_errors(
    app: Erlen, client: ErlenClient, payload: object, errors: dict[str, str]
) -> None:
    sign_up(client, "ada")
    response = client.post("/api/posts", json=payload)
    assert response.status_code == 400
    assert response.get_json() == {"errors": errors}
    assert post_ids(app) == []


def test_api_refuses_a_body_that_is_not_json(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    response = client.post("/api/posts", data="title=x", content_type="text/plain")
    assert response.status_code == 400
    assert "json" in response.get_json()["errors"]
    assert post_ids(app) == []


def test_api_create_needs_a_login(app: Erlen, client: ErlenClient) -> None:
    response = client.post("/api/posts", json={"title": "anonymous"})
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": 401, "message": "Log in first."}}
    assert post_ids(app) == []


def test_api_refuses_another_sites_request_with_json_403(app: Erlen, client: ErlenClient) -> None:
    sign_up(client, "ada")
    response = client.post(
        "/api/posts", json={"title": "forged"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == 403
    assert post_ids(app) == []


def test_api_errors_are_json(client: ErlenClient) -> None:
    response = client.get("/api/posts/42")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": 404, "message": "There is no post 42."}}
    assert client.delete("/api/posts").status_code == 405
    assert client.get("/no/such/page").mimetype == "text/html"  # outside the API: HTML


# --- the live feed ---------------------------------------------------------------------------


def parse_events(body: str) -> list[dict[str, str]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = value
        events.append(fields)
    return events


def rendered_at(app: Erlen) -> str:
    with app.app_context():
        return live.rendered_at()


def read_feed(
    app: Erlen, client: ErlenClient, path: str, headers: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """End the streams (a ``close`` event on the channel), then read the feed at ``path``: it
    ends at that event, so its whole body comes back."""
    with app.app_context():
        live.close_streams()
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = parse_events(response.text)
    assert events[-1]["event"] == "close"
    return events[:-1]


def test_feed_pushes_new_edited_and_deleted_posts(app: Erlen, protocol: str) -> None:
    author = new_client(app, protocol)
    sign_up(author, "ada")
    reader = new_client(app, protocol)
    page = reader.get("/").text
    after = rendered_at(app)
    assert f"/feed?after={after}" in page  # the page asks for what follows its render
    assert create(author, "Live!", "<b>as text</b>").status_code == 302
    assert author.post("/api/posts", json={"title": "Via the API"}).status_code == 201
    first, second = post_ids(app)
    assert author.post(f"/{first}/edit", data={"title": "Edited", "body": ""}).status_code == 302
    assert author.post(f"/{second}/delete").status_code == 302
    ready, *events = read_feed(app, reader, f"/feed?after={after}")
    assert ready == {"event": "ready", "retry": "2000", "data": "connected"}
    assert [event["event"] for event in events] == ["post", "post", "edit", "delete"]
    one, two, edited, deleted = (json.loads(event["data"]) for event in events)
    assert (one["title"], one["body"], one["author"]["username"]) == (
        "Live!",
        "<b>as text</b>",
        "ada",
    )
    assert two["title"] == "Via the API"
    assert (edited["id"], edited["title"]) == (first, "Edited")
    assert deleted == {"id": second}
    ids = [event["id"] for event in events]
    assert len(set(ids)) == 4 and all(ids)


def test_feed_delivers_to_a_page_already_listening(app: Erlen, protocol: str) -> None:
    author = new_client(app, protocol)
    sign_up(author, "ada")
    after = rendered_at(app)
    result: list[TestResponse] = []
    reader = new_client(app, protocol)
    thread = threading.Thread(
        target=lambda: result.append(reader.get(f"/feed?after={after}")), daemon=True
    )
    thread.start()
    time.sleep(0.2)  # (listening by now, or it catches up: the events arrive either way)
    create(author, "while listening")
    with app.app_context():
        live.close_streams()
    thread.join(10)
    assert not thread.is_alive(), "the feed did not end on the close event"
    events = parse_events(result[0].text)
    assert [event["event"] for event in events] == ["ready", "post", "close"]
    assert json.loads(events[1]["data"])["title"] == "while listening"


def test_feed_sends_what_a_reconnecting_page_missed(app: Erlen, protocol: str) -> None:
    author = new_client(app, protocol)
    sign_up(author, "ada")
    after = rendered_at(app)
    for title in ("one", "two", "three"):
        create(author, title)
    reader = new_client(app, protocol)
    events = read_feed(app, reader, f"/feed?after={after}")[1:]
    first_id = events[0]["id"]
    again = read_feed(
        app, reader, f"/feed?after={after}", headers={"Last-Event-ID": first_id}
    )  # the header wins over the page's position
    assert [json.loads(event["data"])["title"] for event in again[1:]] == ["two", "three"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("3", "7"), "3"),
        ((None, "5"), "5"),
        (("1733300000000-0", None), "1733300000000-0"),
        (("x", "2"), "2"),
        (("-1", "", "1-2-3", "9" * 30), None),
        ((None,), None),
    ],
)
def test_parse_last_event_id(values: tuple[str | None, ...], expected: str | None) -> None:
    assert live.parse_last_event_id(*values) == expected


@pytest.mark.parametrize("after", ["garbage", "-5", "1-2-3", "%00", "9" * 40])
def test_feed_with_a_bad_position_starts_from_the_history(
    app: Erlen, client: ErlenClient, after: str
) -> None:
    events = read_feed(app, client, f"/feed?after={after}")
    assert events[0]["event"] == "ready"


def test_channels_are_per_app(app: Erlen, tmp_path: Path) -> None:
    other = create_app({"TESTING": True}, instance_path=str(tmp_path / "other"))
    assert app.extensions["channels"] is not other.extensions["channels"]
