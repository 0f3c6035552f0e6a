"""Server-side sessions (``erlen.server_sessions``), on both protocols: the cookie carries a signed
random id and nothing of the data, the id is renewed on login, sessions are revoked on the
server, keys rotate, and the store is never called on the event loop. The same on a real Redis,
with two apps sharing it as two workers would."""

from __future__ import annotations

import asyncio
import threading
import time
import typing as t

import pytest
from support.redis_server import RedisServer

from erlen import Erlen, request, session
from erlen.server_sessions import (
    MemoryStore,
    RedisStore,
    ServerSessionInterface,
    ServerSessions,
    SessionStore,
    regenerate_session,
    revoke_user_sessions,
)
from erlen.testing import ErlenClient

KEY = "a-long-enough-secret-key-for-the-tests-0123456789"


def build(app: Erlen, store: SessionStore | None = None) -> Erlen:
    app.config["SECRET_KEY"] = KEY
    ServerSessions(app, store=store)

    @app.post("/login/<user>")
    def login(user: str) -> str:
        regenerate_session()
        session["_user_id"] = user
        return "in"

    @app.get("/whoami")
    def whoami() -> str:
        return str(session.get("_user_id", "nobody"))

    @app.post("/note")
    async def note() -> str:
        session["note"] = request.get_data(as_text=True)
        return "noted"

    @app.get("/note")
    async def read_note() -> str:
        return str(session.get("note", "-"))

    @app.post("/revoke/<user>")
    def revoke(user: str) -> str:
        return str(revoke_user_sessions(user))

    @app.post("/logout")
    def logout() -> str:
        session.clear()
        return "out"

    return app


def _cookie(client: ErlenClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_the_cookie_holds_a_signed_random_id_not_the_data(app: Erlen, client: ErlenClient) -> None:
    store = MemoryStore()
    build(app, store)
    client.post("/note", data="my secret note")
    value = _cookie(client)
    sid, _, signature = value.rpartition(".")
    assert len(sid) >= 40 and signature
    assert "secret" not in value
    assert store.load(sid) is not None and b"my secret note" in t.cast(bytes, store.load(sid))
    assert client.get("/note").text == "my secret note"


def test_login_renews_the_id_so_a_planted_one_is_worthless(app: Erlen, client: ErlenClient) -> None:
    build(app)
    client.post("/note", data="before login")
    planted = _cookie(client)
    client.post("/login/ann")
    assert client.get("/whoami").text == "ann"
    assert _cookie(client) != planted
    client.set_cookie("session", planted)  # the attacker's browser, with the id it planted
    assert client.get("/whoami").text == "nobody"
    assert client.get("/note").text == "-"  # the old id is gone from the store


def test_a_change_of_user_renews_the_id_without_being_asked(
    app: Erlen, client: ErlenClient
) -> None:
    store = MemoryStore()
    build(app, store)

    @app.post("/plain-login/<user>")
    def plain_login(user: str) -> str:  # as Flask-Login's login_user: the key, nothing else
        session["_user_id"] = user
        return "in"

    client.post("/note", data="planted")
    planted = _cookie(client)
    client.post("/plain-login/ann")
    after_login = _cookie(client)
    assert after_login != planted
    assert store.load(planted.rpartition(".")[0]) is None  # the planted id is gone
    assert client.get("/whoami").text == "ann"
    client.post("/note", data="same user")  # no change of user: the id stays
    assert _cookie(client) == after_login
    client.post("/plain-login/bob")  # another user: another id
    assert _cookie(client) != after_login


def test_revoking_a_user_signs_out_every_browser(app: Erlen, protocol: str) -> None:
    build(app)
    browsers = [app.test_client(asgi=protocol == "asgi") for _ in range(3)]
    for browser in browsers[:2]:
        browser.post("/login/ann")
    browsers[2].post("/login/bob")
    assert [browser.get("/whoami").text for browser in browsers] == ["ann", "ann", "bob"]
    assert browsers[2].post("/revoke/ann").text == "2"
    assert [browser.get("/whoami").text for browser in browsers] == ["nobody", "nobody", "bob"]


def test_logout_removes_the_session_from_the_store(app: Erlen, client: ErlenClient) -> None:
    store = MemoryStore()
    build(app, store)
    client.post("/login/ann")
    sid = _cookie(client).rpartition(".")[0]
    assert store.load(sid) is not None
    client.post("/logout")
    assert store.load(sid) is None
    assert client.get_cookie("session") is None


@pytest.mark.parametrize(
    "value", ["", "garbage", "x" * 43 + ".forged", "a.b.c", "\u00e9\u00e9.sig"], ids=repr
)
def test_a_forged_or_unknown_id_opens_an_empty_session(
    app: Erlen, client: ErlenClient, value: str
) -> None:
    build(app)
    client.set_cookie("session", value)
    response = client.get("/whoami")
    assert (response.status_code, response.text) == (200, "nobody")


def test_keys_rotate_as_for_the_cookie_session(app: Erlen, client: ErlenClient) -> None:
    build(app)
    client.post("/login/ann")
    app.config.update(
        SECRET_KEY="a-new-key-after-rotation-0123456789abcdef", SECRET_KEY_FALLBACKS=[KEY]
    )
    assert client.get("/whoami").text == "ann"  # signed with the old key: still opens
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/whoami").text == "nobody"  # the old key retired


def test_sessions_expire_with_the_permanent_lifetime(app: Erlen, client: ErlenClient) -> None:
    build(app)
    app.config["PERMANENT_SESSION_LIFETIME"] = 1
    client.post("/login/ann")
    assert client.get("/whoami").text == "ann"
    deadline = time.monotonic() + 5
    while client.get("/whoami").text == "ann" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.get("/whoami").text == "nobody"


class RecordingStore(MemoryStore):
    """Notes the thread and whether an event loop runs there, at each call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bool]] = []

    def _note(self, name: str) -> None:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        self.calls.append((name, on_loop))

    def load(self, sid: str) -> bytes | None:
        self._note("load")
        return super().load(sid)

    def save(self, sid: str, data: bytes, ttl: int, user: str | None) -> None:
        self._note("save")
        super().save(sid, data, ttl, user)


def test_the_store_is_never_called_on_the_event_loop(app: Erlen, protocol: str) -> None:
    store = RecordingStore()
    build(app, store)
    client = app.test_client(asgi=protocol == "asgi")
    assert client.post("/note", data="async view").text == "noted"  # an async view
    assert client.get("/note").text == "async view"
    assert client.post("/login/ann").text == "in"  # a def view
    assert {name for name, _ in store.calls} == {"load", "save"}
    assert not any(on_loop for _, on_loop in store.calls), store.calls


def test_without_a_secret_key_there_is_no_session(app: Erlen, client: ErlenClient) -> None:
    build(app)
    app.config["SECRET_KEY"] = None
    with pytest.raises(RuntimeError, match="no secret key"):  # the null session says so
        client.post("/note", data="x")


# --- on a real Redis ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


def test_two_workers_share_sessions_and_revocations_on_redis(redis_url: str, protocol: str) -> None:
    workers = []
    for index in range(2):
        worker = Erlen(f"worker{index}")
        worker.config["SESSION_STORE_URL"] = redis_url
        workers.append(build(worker))
    asgi = protocol == "asgi"
    browser = workers[0].test_client(asgi=asgi)
    browser.post("/login/ann")
    cookie = _cookie(browser)
    other = workers[1].test_client(asgi=asgi)
    other.set_cookie("session", cookie)
    assert other.get("/whoami").text == "ann"  # opened by the other worker
    admin = workers[1].test_client(asgi=asgi)
    assert admin.post("/revoke/ann").text == "1"  # revoked on worker 1...
    assert browser.get("/whoami").text == "nobody"  # ...refused on worker 0


def test_redis_store_keeps_data_with_its_expiry_and_user_index(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"test:{threading.get_ident()}:")
    store.save("s1", b"one", 60, "ann")
    store.save("s2", b"two", 1, "ann")
    store.save("s3", b"three", 60, None)
    assert (store.load("s1"), store.load("s3"), store.load("nope")) == (b"one", b"three", None)
    assert 0 < store.client.ttl(store.prefix + "s2") <= 1
    assert store.delete_user("ann") == 2
    assert (store.load("s1"), store.load("s2"), store.load("s3")) == (None, None, b"three")
    store.delete("s3")
    assert store.load("s3") is None


def test_an_unreachable_store_fails_the_request_not_the_worker(protocol: str) -> None:
    app = Erlen("unreachable_store")
    app.config["SESSION_STORE_URL"] = "redis://127.0.0.1:9/0"  # the discard port: nothing there
    build(app)
    client = app.test_client(asgi=protocol == "asgi")
    interface = t.cast(ServerSessionInterface, app.session_interface)
    signer = interface._signer(app)
    assert signer is not None
    client.set_cookie("session", signer.sign("an-id").decode())  # an id to look up
    response = client.get("/whoami")
    assert response.status_code == 500 and b"Traceback" not in response.data
    fresh = app.test_client(asgi=protocol == "asgi")
    assert fresh.get("/static-less-404").status_code == 404  # the app goes on serving
