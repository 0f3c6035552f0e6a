import pytest
from flask import Flask
from notes import create_app
from notes.models import db


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite'}",
            "WTF_CSRF_ENABLED": False,
        }
    )
    assert isinstance(app, Flask)
    with app.app_context():
        db.create_all()
    return app


# Each test runs on erlen's WSGI path and on its ASGI path.
@pytest.fixture(params=["wsgi", "asgi"])
def client(app, request):
    return app.test_client(asgi=request.param == "asgi")


class Auth:
    def __init__(self, client):
        self.client = client

    def register(self, username="ada", password="correct horse"):
        return self.client.post("/auth/register", data={"username": username, "password": password})

    def login(self, username="ada", password="correct horse"):
        return self.client.post("/auth/login", data={"username": username, "password": password})


@pytest.fixture
def auth(client):
    return Auth(client)
