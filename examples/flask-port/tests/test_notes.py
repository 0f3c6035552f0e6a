import flask
from flask import session
from flask_login import current_user
from notes.models import Note, User, db

import erlen


def test_flask_is_erlen():
    assert flask.Flask is erlen.Erlen


def test_register_login_and_add_notes(client, auth):
    assert auth.register().headers["Location"] == "/auth/login"
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    response = client.post("/", data={"text": "ported <by> its imports"}, follow_redirects=True)
    assert "<li>ported &lt;by&gt; its imports</li>" in response.text
    assert client.get("/api/notes").get_json() == {
        "user": "ada",
        "notes": ["ported <by> its imports"],
    }


def test_login_required_redirects_with_next(client):
    response = client.get("/api/notes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_wrong_password_is_refused(client, auth):
    auth.register()
    response = auth.login(password="not the password")
    assert response.status_code == 200
    assert "Wrong username or password." in response.text


def test_taken_username_and_form_errors(client, auth):
    auth.register()
    assert "That username is taken." in auth.register().text
    response = client.post("/auth/register", data={"username": "bo", "password": "short"})
    assert "Field must be at least 8 characters long." in response.text


def test_the_session_and_current_user_in_the_test_client(client, auth, app):
    auth.register()
    with client:
        auth.login()
        assert current_user.username == "ada"
        assert session["_user_id"] == "1"
    with client.session_transaction() as sess:  # Flask's test tool: log out by editing it
        sess.clear()
    assert client.get("/api/notes").status_code == 302


def test_logout_needs_a_post(client, auth):
    auth.register()
    auth.login()
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/api/notes").status_code == 302


def test_notes_are_per_user(client, auth, app):
    auth.register("ada")
    auth.register("bo")
    with app.app_context():
        ada, bo = db.session.execute(db.select(User).order_by(User.id)).scalars()
        db.session.add_all([Note(text="ada's", author=ada), Note(text="bo's", author=bo)])
        db.session.commit()
    auth.login("bo")
    assert client.get("/api/notes").get_json()["notes"] == ["bo's"]


def test_csrf_protection_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/auth/register", data={"username": "eve", "password": "12345678"})
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.text
