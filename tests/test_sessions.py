"""Sessions: the signed cookie, its settings and failure modes, key rotation, Flask's cookie format
both ways, custom session interfaces, the size warning, and the tagged JSON serializer."""

from __future__ import annotations

import hashlib
import logging
import random
import time
import typing as t
import uuid
import warnings
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from itsdangerous import BadSignature, Signer, TimestampSigner, URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.http import dump_cookie, parse_date

from erlen import Erlen, session
from erlen.json.tag import JSONTag, TaggedJSONSerializer
from erlen.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from erlen.testing import ErlenClient
from erlen.wrappers import Request, Response


def set_cookie_headers(response: t.Any) -> list[str]:
    return list(response.headers.getlist("Set-Cookie"))


def session_cookie(response: t.Any, name: str = "session") -> str:
    """The one ``Set-Cookie`` header of the session cookie."""
    headers = [h for h in set_cookie_headers(response) if h.startswith(f"{name}=")]
    assert len(headers) == 1, set_cookie_headers(response)
    return headers[0]


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def attributes(header: str) -> dict[str, str]:
    """The attributes of a ``Set-Cookie`` header, lower-case names."""
    attrs = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attrs[key.lower()] = value
    return attrs


def signing_serializer(app: Erlen) -> URLSafeTimedSerializer:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return serializer


def noise(size: int) -> str:
    """Text that does not compress well (the cookie is compressed when that helps)."""
    return random.Random(size).randbytes(size // 2).hex()


@pytest.fixture
def session_app(app: Erlen) -> Erlen:
    """Views that set, read, change and clear the session."""

    @app.route("/noise/<key>/<int:size>")
    def set_noise(key: str, size: int) -> str:
        session[key] = noise(size)
        return "set"

    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "set"

    @app.route("/get/<key>")
    def get_value(key: str) -> str:
        return repr(session.get(key))

    @app.route("/items")
    def items() -> dict[str, t.Any]:
        return dict(session)

    @app.route("/untouched")
    def untouched() -> str:
        return "no session"

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/permanent")
    def permanent() -> str:
        session.permanent = True
        session["kept"] = "yes"
        return "permanent"

    return app


# --- round trips ------------------------------------------------------------------------------


def test_round_trip(session_app: Erlen, client: ErlenClient) -> None:
    assert client.get("/get/name").data == b"None"
    client.get("/set/name/ann")
    client.get("/set/city/oslo")
    assert client.get("/get/name").data == b"'ann'"
    assert client.get("/items").json == {"name": "ann", "city": "oslo"}


def test_round_trip_async_view(app: Erlen, client: ErlenClient) -> None:
    @app.route("/count")
    async def count() -> str:
        session["count"] = session.get("count", 0) + 1
        return str(session["count"])

    assert [client.get("/count").data for _ in range(3)] == [b"1", b"2", b"3"]


def test_tagged_types_survive(app: Erlen, client: ErlenClient) -> None:
    stamp = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    values: dict[str, t.Any] = {
        "bytes": b"\x00\xffbin",
        "tuple": (1, "two", (3.0, None)),
        "datetime": stamp,
        "uuid": ident,
        "markup": Markup("<b>bold</b>"),
        "tag_like": {" t": [1, 2]},
        "nested": {"list": [b"x", (1,)], "dict": {" di": "value"}},
        "plain": {"a": [1, 2, {"b": True}]},
    }
    loaded: dict[str, t.Any] = {}

    @app.route("/store")
    def store() -> str:
        session.update(values)
        return "stored"

    @app.route("/load")
    def load() -> str:
        loaded.update(session)
        return "loaded"

    client.get("/store")
    client.get("/load")
    assert loaded == values
    assert type(loaded["tuple"]) is tuple and type(loaded["tuple"][2]) is tuple
    assert type(loaded["bytes"]) is bytes
    assert type(loaded["markup"]) is Markup
    assert type(loaded["uuid"]) is uuid.UUID
    assert loaded["datetime"].tzinfo is not None
    assert type(loaded["tag_like"]) is dict and type(loaded["tag_like"][" t"]) is list


# --- when the cookie is written ---------------------------------------------------------------


def test_cookie_written_only_when_modified(session_app: Erlen, client: ErlenClient) -> None:
    response = client.get("/set/name/ann")
    assert session_cookie(response)
    response = client.get("/get/name")
    assert response.data == b"'ann'"
    assert set_cookie_headers(response) == []
    assert set_cookie_headers(client.get("/untouched")) == []


def test_empty_new_session_sets_no_cookie(session_app: Erlen, client: ErlenClient) -> None:
    assert set_cookie_headers(client.get("/get/name")) == []


def test_mutating_a_nested_value_needs_modified(app: Erlen, client: ErlenClient) -> None:
    @app.route("/init")
    def init() -> str:
        session["items"] = []
        return "ok"

    @app.route("/append/<flag>")
    def append(flag: str) -> str:
        session["items"].append(flag)
        if flag == "marked":
            session.modified = True
        return "ok"

    @app.route("/items")
    def items() -> t.Any:
        return session["items"]

    client.get("/init")
    response = client.get("/append/unmarked")  # an in-place change is not seen
    assert set_cookie_headers(response) == []
    assert client.get("/items").json == []
    client.get("/append/marked")
    assert client.get("/items").json == ["marked"]


def test_vary_cookie_when_read(session_app: Erlen, client: ErlenClient) -> None:
    response = client.get("/get/name")
    assert "Cookie" in response.vary
    response = client.get("/set/name/ann")
    assert "Cookie" in response.vary
    response = client.get("/untouched")
    assert "Vary" not in response.headers


def test_vary_cookie_when_only_membership_is_tested(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return str(session.get("user") is not None)

    assert "Cookie" in client.get("/").vary


# --- bad cookies ------------------------------------------------------------------------------


def test_tampered_cookie_gives_empty_session(session_app: Erlen, client: ErlenClient) -> None:
    value = cookie_value(session_cookie(client.get("/set/role/user")))
    _payload, _, rest = value.partition(".")
    # The same signature over different data, and the same data under a changed signature.
    other = signing_serializer(session_app).dumps({"role": "admin"})
    forged = other.partition(".")[0] + "." + rest
    changed_signature = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    for bad in (forged, changed_signature):
        client.set_cookie("session", bad)
        response = client.get("/get/role")
        assert response.status_code == 200
        assert response.data == b"None"
    client.set_cookie("session", value)
    assert client.get("/get/role").data == b"'user'"


def test_cookie_signed_with_another_key(session_app: Erlen, client: ErlenClient) -> None:
    other = Erlen("other")
    other.secret_key = "another-secret-key-entirely-different"
    client.set_cookie("session", signing_serializer(other).dumps({"role": "admin"}))
    assert client.get("/get/role").data == b"None"


@pytest.fixture
def raw_client(session_app: Erlen, protocol: str) -> ErlenClient:
    """A client without a cookie jar: the ``Cookie`` header of a request is sent as given."""
    return session_app.test_client(use_cookies=False, asgi=protocol == "asgi")


def get_name(raw_client: ErlenClient, cookie: str) -> bytes:
    response = raw_client.get("/get/name", headers={"Cookie": f"session={cookie}"})
    assert response.status_code == 200
    return response.get_data()


@pytest.mark.parametrize(
    "value",
    ["garbage", "a.b.c", ".", "eyJ4IjoxfQ", "x" * 20_000, "é€", '"quoted"', "\x7f"],
)
def test_garbage_cookie_gives_empty_session(
    session_app: Erlen, raw_client: ErlenClient, value: str
) -> None:
    assert get_name(raw_client, signing_serializer(session_app).dumps({"name": "ann"})) == b"'ann'"
    assert get_name(raw_client, value.encode("utf-8").decode("latin-1")) == b"None"


def test_signed_cookie_that_is_not_a_dict(session_app: Erlen, client: ErlenClient) -> None:
    serializer = signing_serializer(session_app)
    client.set_cookie("session", serializer.dumps(["a", "list"]))
    assert client.get("/items").json == {}
    # Valid signature over bytes that are not JSON at all.
    signer = serializer.make_signer(serializer.salt)
    client.set_cookie("session", signer.sign(b"not json").decode())
    response = client.get("/items")
    assert response.status_code == 200
    assert response.json == {}


class PastTimestampSigner(TimestampSigner):
    """Signs with a timestamp one hour old."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 3600


def test_expired_cookie_gives_empty_session(session_app: Erlen, client: ErlenClient) -> None:
    session_app.permanent_session_lifetime = 60
    serializer = signing_serializer(session_app)
    client.set_cookie("session", serializer.dumps({"name": "fresh"}))
    assert client.get("/get/name").data == b"'fresh'"
    serializer.signer = PastTimestampSigner
    client.set_cookie("session", serializer.dumps({"name": "stale"}))
    response = client.get("/get/name")
    assert response.status_code == 200
    assert response.data == b"None"
    session_app.permanent_session_lifetime = timedelta(hours=2)
    assert client.get("/get/name").data == b"'stale'"  # within the longer lifetime


# --- key rotation -----------------------------------------------------------------------------


def test_secret_key_fallbacks(session_app: Erlen, client: ErlenClient) -> None:
    session_app.secret_key = "the-old-key-that-is-being-rotated-out"
    client.get("/set/name/ann")
    session_app.secret_key = "the-new-key-that-signs-from-now-on-000"
    assert client.get("/get/name").data == b"None"  # without the fallback, the old cookie fails
    session_app.config["SECRET_KEY_FALLBACKS"] = ["the-old-key-that-is-being-rotated-out"]
    response = client.get("/get/name")
    assert response.data == b"'ann'"
    assert set_cookie_headers(response) == []  # only read: not re-signed
    response = client.get("/set/city/oslo")
    new_value = cookie_value(session_cookie(response))
    new_only = Erlen("new_only")
    new_only.secret_key = "the-new-key-that-signs-from-now-on-000"
    assert signing_serializer(new_only).loads(new_value) == {"name": "ann", "city": "oslo"}
    old_only = Erlen("old_only")
    old_only.secret_key = "the-old-key-that-is-being-rotated-out"
    with pytest.raises(Exception, match="Signature"):
        signing_serializer(old_only).loads(new_value)
    session_app.config["SECRET_KEY_FALLBACKS"] = None
    assert client.get("/items").json == {"name": "ann", "city": "oslo"}


# --- permanence and refreshing ----------------------------------------------------------------


def test_permanent_session_sets_expires(session_app: Erlen, client: ErlenClient) -> None:
    session_app.permanent_session_lifetime = timedelta(days=3)
    header = session_cookie(client.get("/set/name/ann"))
    assert "expires" not in attributes(header)  # a browser-session cookie
    header = session_cookie(client.get("/permanent"))
    expires = parse_date(attributes(header)["expires"])
    assert expires is not None
    expected = datetime.now(timezone.utc) + timedelta(days=3)
    assert abs((expires - expected).total_seconds()) < 3600
    assert client.get("/get/kept").data == b"'yes'"


@pytest.mark.parametrize("refresh", [True, False])
def test_session_refresh_each_request(
    session_app: Erlen, client: ErlenClient, refresh: bool
) -> None:
    session_app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
    client.get("/permanent")
    response = client.get("/get/kept")
    assert response.data == b"'yes'"
    assert bool(set_cookie_headers(response)) is refresh
    # a non-permanent session is never refreshed
    client.get("/clear")
    client.get("/set/name/ann")
    assert set_cookie_headers(client.get("/get/name")) == []


# --- cookie settings --------------------------------------------------------------------------


def test_default_cookie_attributes(session_app: Erlen, client: ErlenClient) -> None:
    header = session_cookie(client.get("/set/name/ann"))
    attrs = attributes(header)
    assert attrs["path"] == "/"
    assert "httponly" in attrs
    assert attrs["samesite"] == "Lax"
    assert "secure" not in attrs
    assert "domain" not in attrs
    assert "partitioned" not in attrs


def test_cookie_settings(session_app: Erlen, client: ErlenClient) -> None:
    session_app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    response = client.get("/set/name/ann")
    assert not [h for h in set_cookie_headers(response) if h.startswith("session=")]
    attrs = attributes(session_cookie(response, "sid"))
    assert attrs["domain"] == "example.com"
    assert attrs["path"] == "/app"
    assert "httponly" not in attrs
    assert "secure" in attrs
    assert attrs["samesite"] == "Strict"
    assert "partitioned" in attrs


def test_cookie_path_defaults_to_application_root(session_app: Erlen, client: ErlenClient) -> None:
    session_app.config["APPLICATION_ROOT"] = "/root"
    assert attributes(session_cookie(client.get("/set/name/ann")))["path"] == "/root"


def test_samesite_none(session_app: Erlen, client: ErlenClient) -> None:
    session_app.config["SESSION_COOKIE_SAMESITE"] = None
    assert "samesite" not in attributes(session_cookie(client.get("/set/name/ann")))


def test_cookie_name_is_read(session_app: Erlen, client: ErlenClient) -> None:
    session_app.config["SESSION_COOKIE_NAME"] = "custom"
    client.get("/set/name/ann")
    assert client.get("/get/name").data == b"'ann'"
    value = client.get_cookie("custom")
    assert value is not None
    client.delete_cookie("custom")
    client.set_cookie("session", value.value)  # under another name it is not the session
    assert client.get("/get/name").data == b"None"


def test_clearing_deletes_the_cookie(session_app: Erlen, client: ErlenClient) -> None:
    client.get("/set/name/ann")
    response = client.get("/clear")
    header = session_cookie(response)
    assert cookie_value(header) == ""
    attrs = attributes(header)
    assert attrs["max-age"] == "0"
    expires = parse_date(attrs["expires"])
    assert expires is not None and expires.year == 1970
    assert "Cookie" in response.vary
    assert client.get_cookie("session") is None
    assert client.get("/get/name").data == b"None"


# --- no secret key ----------------------------------------------------------------------------


def test_without_secret_key_reading_works(session_app: Erlen, client: ErlenClient) -> None:
    session_app.secret_key = None
    response = client.get("/get/name")
    assert response.status_code == 200
    assert response.data == b"None"
    assert set_cookie_headers(response) == []


def test_without_secret_key_writing_raises(session_app: Erlen, client: ErlenClient) -> None:
    session_app.secret_key = None
    with pytest.raises(RuntimeError, match="SECRET_KEY") as info:
        client.get("/set/name/ann")
    assert "secret key" in str(info.value).lower()
    assert "secrets" in str(info.value)  # says how to make one


def test_without_secret_key_writing_is_a_500_in_production(
    session_app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    session_app.secret_key = None
    session_app.testing = False
    with caplog.at_level(logging.ERROR, logger=session_app.logger.name):
        response = client.get("/set/name/ann")
    assert response.status_code == 500
    errors = [record.exc_info for record in caplog.records if record.exc_info]
    assert len(errors) == 1
    assert isinstance(errors[0][1], RuntimeError)
    assert "SECRET_KEY" in str(errors[0][1])


# --- a custom session interface ---------------------------------------------------------------


class ServerSideSession(dict[str, t.Any], SessionMixin):
    def __init__(self, sid: str, data: dict[str, t.Any] | None = None) -> None:
        super().__init__(data or {})
        self.sid = sid
        self.modified = False

    def __setitem__(self, key: str, value: t.Any) -> None:
        self.modified = True
        super().__setitem__(key, value)


class MemorySessionInterface(SessionInterface):
    """Keeps sessions in a dict; the cookie holds only an id."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, t.Any]] = {}

    def open_session(self, app: Erlen, request: Request) -> ServerSideSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid is not None and sid in self.store:
            return ServerSideSession(sid, dict(self.store[sid]))
        return ServerSideSession(uuid.uuid4().hex)

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSideSession)
        if not session.modified:
            return
        self.store[session.sid] = dict(session)
        response.set_cookie(self.get_cookie_name(app), session.sid, httponly=True)


def test_custom_session_interface(session_app: Erlen, client: ErlenClient) -> None:
    interface = MemorySessionInterface()
    session_app.session_interface = interface
    response = client.get("/set/name/ann")
    sid = cookie_value(session_cookie(response))
    assert interface.store == {sid: {"name": "ann"}}
    assert client.get("/get/name").data == b"'ann'"
    assert set_cookie_headers(client.get("/get/name")) == []
    interface.store[sid]["name"] = "changed on the server"
    assert client.get("/get/name").data == b"'changed on the server'"


def test_session_interface_that_returns_none_gives_null_session(
    session_app: Erlen, client: ErlenClient
) -> None:
    class Refusing(SecureCookieSessionInterface):
        def open_session(self, app: Erlen, request: Request) -> None:
            return None

    session_app.session_interface = Refusing()
    assert client.get("/get/name").data == b"None"
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        client.get("/set/name/ann")


# --- cookie size --------------------------------------------------------------------------------


def test_large_cookie_logs_a_warning(
    session_app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger=session_app.logger.name),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # werkzeug warns too, through the warnings module
        response = client.get("/noise/big/8000")
    header = session_cookie(response)
    assert len(cookie_value(header)) > 4093  # still set
    records = [r for r in caplog.records if r.name == session_app.logger.name]
    assert len(records) == 1
    message = records[0].getMessage()
    assert records[0].levelno == logging.WARNING
    assert "'session'" in message
    assert str(len(header)) in message
    assert "4093" in message
    assert client.get("/get/big").data == repr(noise(8000)).encode()


def test_cookie_size_limit_from_config(
    session_app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    session_app.config.update(MAX_COOKIE_SIZE=300, SESSION_COOKIE_NAME="sid")
    with caplog.at_level(logging.WARNING, logger=session_app.logger.name):
        client.get("/set/small/abc")
        assert caplog.records == []
        # werkzeug warns too, at the same configured limit (as in Flask).
        with pytest.warns(UserWarning, match="'sid' cookie is too large"):
            header = session_cookie(client.get("/noise/medium/300"), "sid")
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "'sid'" in message and str(len(header)) in message and "300" in message
    caplog.clear()
    session_app.config["MAX_COOKIE_SIZE"] = 0  # turns the check off
    with caplog.at_level(logging.WARNING, logger=session_app.logger.name):
        client.get("/noise/more/300")
    assert caplog.records == []


# --- Flask's cookie, both ways ----------------------------------------------------------------

FLASK_VALUES: dict[str, t.Any] = {
    "n": 3,
    "text": "snow ☃ é",
    "tuple": (1, "two", (3.5, None)),
    "bytes": b"\x00\xffbin",
    "when": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "markup": Markup("<b>bold</b>"),
    "tag_like": {" t": [1, 2]},
    "z_nested": {"b": [1, {" di": "x"}], "a": [True, 1.5]},
}
OLD_KEY = "the-old-key-that-is-being-rotated-out"
NEW_KEY = "the-new-key-that-signs-from-now-on-000"


def flask_twin(secret_key: str, fallbacks: list[str] | None = None, **config: t.Any) -> t.Any:
    """A Flask app that stores ``FLASK_VALUES`` in its session (/store) and shows it (/load)."""
    flask = pytest.importorskip("flask")
    app: t.Any = flask.Flask("flask_twin")
    app.config.update(SECRET_KEY=secret_key, SECRET_KEY_FALLBACKS=fallbacks or [], **config)
    app.loaded = {}

    @app.route("/store")  # type: ignore[untyped-decorator]  # (Flask's app, untyped here)
    def store() -> str:
        flask.session.update(FLASK_VALUES)
        return "stored"

    @app.route("/load")  # type: ignore[untyped-decorator]
    def load() -> str:
        app.loaded = dict(flask.session)
        return "loaded"

    return app


def erlen_twin(app: Erlen) -> dict[str, t.Any]:
    """The same views on an erlen app; returns the dict /load fills."""
    loaded: dict[str, t.Any] = {}

    @app.route("/store")
    def store() -> str:
        session.update(FLASK_VALUES)
        return "stored"

    @app.route("/load")
    def load() -> str:
        loaded.clear()
        loaded.update(session)
        return "loaded"

    return loaded


def assert_flask_values(loaded: dict[str, t.Any]) -> None:
    assert loaded == FLASK_VALUES
    assert type(loaded["tuple"]) is tuple and type(loaded["tuple"][2]) is tuple
    assert type(loaded["bytes"]) is bytes and type(loaded["markup"]) is Markup
    assert type(loaded["uuid"]) is uuid.UUID and loaded["when"].tzinfo is not None


def flask_cookie(flask_app: t.Any, path: str = "/store") -> tuple[str, str]:
    """The ``Set-Cookie`` header and the cookie value Flask writes for ``path``."""
    response = flask_app.test_client().get(path)
    header = session_cookie(response)
    return header, cookie_value(header)


def test_flask_cookie_opens_in_erlen(app: Erlen, client: ErlenClient) -> None:
    loaded = erlen_twin(app)
    _, value = flask_cookie(flask_twin(str(app.secret_key)))
    client.set_cookie("session", value)
    client.get("/load")
    assert_flask_values(loaded)


def test_erlen_cookie_opens_in_flask(app: Erlen, client: ErlenClient) -> None:
    erlen_twin(app)
    value = cookie_value(session_cookie(client.get("/store")))
    flask_app = flask_twin(str(app.secret_key))
    flask_client = flask_app.test_client()
    flask_client.set_cookie("session", value)
    flask_client.get("/load")
    assert_flask_values(flask_app.loaded)


@pytest.mark.parametrize("permanent", [False, True])
def test_cookie_bytes_are_flasks(app: Erlen, client: ErlenClient, permanent: bool) -> None:
    settings: dict[str, t.Any] = {
        "SESSION_COOKIE_NAME": "sid",
        "SESSION_COOKIE_DOMAIN": ".Example.com:8080",
        "SESSION_COOKIE_PATH": "/a b",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "strict",
        "SESSION_COOKIE_PARTITIONED": True,
    }
    app.config.update(settings)
    erlen_twin(app)

    @app.before_request
    def make_permanent() -> None:
        session.permanent = permanent

    flask_app = flask_twin(str(app.secret_key), **settings)

    @flask_app.before_request  # type: ignore[untyped-decorator]
    def flask_permanent() -> None:
        from flask import session as flask_session

        flask_session.permanent = permanent

    ours = session_cookie(client.get("/store"), "sid")
    theirs = session_cookie(flask_app.test_client().get("/store"), "sid")
    our_value, their_value = cookie_value(ours), cookie_value(theirs)
    # The same payload (compact, sorted, tagged, compressed); timestamps may be a second apart.
    assert our_value.rsplit(".", 2)[0] == their_value.rsplit(".", 2)[0]
    assert our_value.startswith(".")  # compressed, as Flask does when that is shorter
    ours, theirs = ours.replace(our_value, "VALUE"), theirs.replace(their_value, "VALUE")
    if permanent:
        our_expires = parse_date(attributes(ours)["expires"])
        their_expires = parse_date(attributes(theirs)["expires"])
        assert our_expires is not None and their_expires is not None
        assert abs((our_expires - their_expires).total_seconds()) <= 2
        ours = ours.replace(attributes(ours)["expires"], "WHEN")
        theirs = theirs.replace(attributes(theirs)["expires"], "WHEN")
    assert ours == theirs


def test_secret_key_fallbacks_across_flask_and_erlen(app: Erlen, client: ErlenClient) -> None:
    loaded = erlen_twin(app)
    # Flask signed with the old key; erlen has rotated to the new one.
    _, old_value = flask_cookie(flask_twin(OLD_KEY))
    app.config.update(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY])
    client.set_cookie("session", old_value)
    client.get("/load")
    assert_flask_values(loaded)
    # erlen signs with the new key: Flask with the new key opens it, with only the old one not.
    new_value = cookie_value(session_cookie(client.get("/store")))
    for flask_app, opens in ((flask_twin(NEW_KEY), True), (flask_twin(OLD_KEY), False)):
        flask_client = flask_app.test_client()
        flask_client.set_cookie("session", new_value)
        flask_client.get("/load")
        assert (flask_app.loaded == FLASK_VALUES) is opens
    # erlen signed with the old key; Flask has rotated.
    app.config.update(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[])
    client.delete_cookie("session")
    old_value = cookie_value(session_cookie(client.get("/store")))
    flask_app = flask_twin(NEW_KEY, [OLD_KEY])
    flask_client = flask_app.test_client()
    flask_client.set_cookie("session", old_value)
    flask_client.get("/load")
    assert_flask_values(flask_app.loaded)


# --- the signer follows the settings ----------------------------------------------------------


def serializer_for(secret_key: str, fallbacks: list[str] | None = None) -> URLSafeTimedSerializer:
    other = Erlen("keys")
    other.config.update(SECRET_KEY=secret_key, SECRET_KEY_FALLBACKS=fallbacks)
    return signing_serializer(other)


def test_secret_key_changed_at_runtime(session_app: Erlen, client: ErlenClient) -> None:
    session_app.secret_key = OLD_KEY
    old_value = cookie_value(session_cookie(client.get("/set/name/ann")))
    assert client.get("/get/name").data == b"'ann'"
    session_app.secret_key = NEW_KEY
    assert client.get("/get/name").data == b"None"
    new_value = cookie_value(session_cookie(client.get("/set/name/bob")))
    assert serializer_for(NEW_KEY).loads(new_value) == {"name": "bob"}
    with pytest.raises(BadSignature):
        serializer_for(OLD_KEY).loads(new_value)
    # A fallback added to the list in place counts too.
    session_app.config["SECRET_KEY_FALLBACKS"] = []
    client.set_cookie("session", old_value)
    assert client.get("/get/name").data == b"None"
    session_app.config["SECRET_KEY_FALLBACKS"].append(OLD_KEY)
    assert client.get("/get/name").data == b"'ann'"
    session_app.config["SECRET_KEY_FALLBACKS"].clear()
    assert client.get("/get/name").data == b"None"
    session_app.secret_key = OLD_KEY.encode()  # bytes sign like the same str
    assert client.get("/get/name").data == b"'ann'"


class OtherFormatInterface(SecureCookieSessionInterface):
    """Another salt, digest and key derivation, as a subclass may set them."""

    salt = "another-salt"


@pytest.mark.parametrize(
    ("digest", "derivation", "secret_key"),
    [
        (hashlib.sha1, "hmac", "k" * 40),
        (hashlib.sha256, "concat", "k" * 40),
        (hashlib.sha512, "django-concat", "k" * 40),
        (hashlib.sha1, "none", "a key longer than the 64 bytes of a sha1 block, " * 3),
    ],
)
def test_signer_settings_match_itsdangerous(
    session_app: Erlen, client: ErlenClient, digest: t.Any, derivation: str, secret_key: str
) -> None:
    interface = OtherFormatInterface()
    interface.digest_method = digest
    interface.key_derivation = derivation
    session_app.session_interface = interface
    session_app.secret_key = secret_key
    serializer = interface.get_signing_serializer(session_app)
    assert serializer is not None
    for size in (10, 3000):  # a short cookie and a compressed one
        value = cookie_value(session_cookie(client.get(f"/noise/big/{size}")))
        assert serializer.loads(value) == {"big": noise(size)}
    client.set_cookie("session", serializer.dumps({"name": "from itsdangerous"}))
    assert client.get("/get/name").data == b"'from itsdangerous'"
    client.set_cookie("session", signing_serializer(session_app).dumps({"name": "other salt"}))
    assert client.get("/get/name").data == b"None"


class SaltedSerializerInterface(SecureCookieSessionInterface):
    """Overrides get_signing_serializer: the session must use what it returns."""

    def get_signing_serializer(self, app: Erlen) -> URLSafeTimedSerializer | None:
        return URLSafeTimedSerializer(
            str(app.secret_key), salt="custom", serializer=self.serializer
        )


def test_overridden_signing_serializer_is_used(session_app: Erlen, client: ErlenClient) -> None:
    session_app.session_interface = SaltedSerializerInterface()
    value = cookie_value(session_cookie(client.get("/set/name/ann")))
    custom = URLSafeTimedSerializer(
        str(session_app.secret_key), salt="custom", serializer=TaggedJSONSerializer()
    )
    assert custom.loads(value) == {"name": "ann"}
    assert client.get("/get/name").data == b"'ann'"
    client.set_cookie("session", signing_serializer(session_app).dumps({"name": "default salt"}))
    assert client.get("/get/name").data == b"None"


class FutureTimestampSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) + 3600


def test_signed_but_broken_cookies_give_empty_session(
    session_app: Erlen, raw_client: ErlenClient
) -> None:
    session_app.permanent_session_lifetime = timedelta(days=365 * 100)  # any age but negative
    serializer = signing_serializer(session_app)
    signer = serializer.make_signer(serializer.salt)
    good = serializer.dumps({"name": "ann"})
    assert get_name(raw_client, good) == b"'ann'"
    stamp = good.split(".")[1]
    serializer.signer = FutureTimestampSigner
    broken = [
        signer.sign(b"!!!").decode(),  # no base64 data
        signer.sign(b".eyJuYW1lIjoiYW5uIn0").decode(),  # "compressed", but not zlib
        signer.sign(b"eyJuYW1lIjoiYW5u").decode(),  # truncated JSON
        Signer.sign(signer, b"eyJuYW1lIjoiYW5uIn0").decode(),  # no timestamp
        Signer.sign(signer, b"eyJuYW1lIjoiYW5uIn0.AAAAAAAAAAAA").decode(),  # 9-byte stamp
        serializer.dumps({"name": "from the future"}),
        good[:-1],
        good[: len(good) // 2],
        good.replace(f".{stamp}.", "."),
        good + "A" * 20_000,
        "." + good,
    ]
    for value in broken:
        assert get_name(raw_client, value) == b"None", value


# --- the Set-Cookie header --------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"SESSION_COOKIE_DOMAIN": ".Example.COM:8080", "SESSION_COOKIE_PATH": "/a b/ü"},
        {"SESSION_COOKIE_DOMAIN": "bücher.example", "SESSION_COOKIE_HTTPONLY": False},
        {"SESSION_COOKIE_SAMESITE": "none", "SESSION_COOKIE_SECURE": True},
        {"SESSION_COOKIE_SAMESITE": None, "SESSION_COOKIE_PARTITIONED": True},
        {"SESSION_COOKIE_NAME": "__Host-sid", "APPLICATION_ROOT": "/root"},
    ],
)
@pytest.mark.parametrize("permanent", [False, True])
def test_set_cookie_header_is_werkzeugs(
    session_app: Erlen, client: ErlenClient, settings: dict[str, t.Any], permanent: bool
) -> None:
    session_app.config.update(settings)
    name = session_app.config["SESSION_COOKIE_NAME"]
    interface = SecureCookieSessionInterface()
    header = session_cookie(client.get("/permanent" if permanent else "/set/name/ann"), name)
    options: dict[str, t.Any] = {
        "domain": interface.get_cookie_domain(session_app),
        "path": interface.get_cookie_path(session_app),
        "secure": interface.get_cookie_secure(session_app),
        "httponly": interface.get_cookie_httponly(session_app),
        "samesite": interface.get_cookie_samesite(session_app),
        "partitioned": interface.get_cookie_partitioned(session_app),
    }
    expires = attributes(header).get("expires")
    assert (expires is not None) is permanent
    assert header == dump_cookie(name, cookie_value(header), expires=expires, **options)


def test_invalid_samesite_is_an_error(session_app: Erlen, client: ErlenClient) -> None:
    session_app.config["SESSION_COOKIE_SAMESITE"] = "sometimes"
    with pytest.raises(ValueError, match="SameSite"):
        client.get("/set/name/ann")


def test_vary_cookie_joins_an_existing_vary(app: Erlen, client: ErlenClient) -> None:
    @app.route("/write")
    def write() -> Response:
        session["name"] = "ann"
        return Response("ok", headers={"Vary": "Accept-Encoding"})

    @app.route("/read")
    def read() -> Response:
        return Response(repr(session.get("name")), headers={"Vary": "Accept-Encoding, cookie"})

    response = client.get("/write")
    assert response.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    response = client.get("/read")
    assert response.data == b"'ann'"
    assert response.headers.getlist("Vary") == ["Accept-Encoding, cookie"]


# --- the tagged JSON serializer -------------------------------------------------------------------


def test_tagged_json_round_trip() -> None:
    serializer = TaggedJSONSerializer()
    value = {
        "tuple": (1, (2, 3)),
        "bytes": b"\x00\x01",
        "markup": Markup("<em>x</em>"),
        "uuid": uuid.UUID(int=7),
        "when": datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        "tag_like": {" t": "not a tuple"},
        "escaped_twice": {" di": {" b": "AA=="}},
        "list": [b"a", {"b": (None,)}],
        "plain": {"x": 1, "y": [True, None, 1.5, "s"]},
    }
    text = serializer.dumps(value)
    assert isinstance(text, str)
    assert serializer.loads(text) == value
    assert serializer.loads(text.encode()) == value
    assert serializer.dumps({"plain": [1, "a"]}) == '{"plain":[1,"a"]}'
    assert serializer.dumps((1, 2)) == '{" t":[1,2]}'
    assert serializer.loads('{" u":"00000000000000000000000000000007"}') == uuid.UUID(int=7)


class _Point(t.NamedTuple):
    x: int
    y: int


class _TagPoint(JSONTag):
    key = " p"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, _Point)

    def to_json(self, value: t.Any) -> t.Any:
        return [value.x, value.y]

    def to_python(self, value: t.Any) -> t.Any:
        return _Point(*value)


def _tag_class(tag_key: str, matches: t.Any = None) -> type[JSONTag]:
    class Custom(JSONTag):
        key = tag_key

        def check(self, value: t.Any) -> bool:
            return matches is not None and value == matches

        def to_json(self, value: t.Any) -> t.Any:
            return 1

        def to_python(self, value: t.Any) -> t.Any:
            return matches

    return Custom


def test_tagged_json_register_custom_tag() -> None:
    serializer = TaggedJSONSerializer()
    serializer.register(_TagPoint, index=0)  # before the tuple tag, since a point is a tuple
    text = serializer.dumps({"at": _Point(1, 2), "plain": (1, 2)})
    assert '" p"' in text
    loaded = serializer.loads(text)
    assert loaded == {"at": _Point(1, 2), "plain": (1, 2)}
    assert type(loaded["at"]) is _Point and type(loaded["plain"]) is tuple
    # a dict that looks like the new tag is escaped, not turned into a point
    assert serializer.loads(serializer.dumps({" p": [3, 4]})) == {" p": [3, 4]}


def test_tagged_json_custom_tag_order_matters() -> None:
    serializer = TaggedJSONSerializer()
    serializer.register(_TagPoint)
    # appended last: the tuple tag matches first, so a point comes back as a plain tuple
    assert type(serializer.loads(serializer.dumps(_Point(1, 2)))) is tuple


def test_tagged_json_duplicate_tag() -> None:
    serializer = TaggedJSONSerializer()
    with pytest.raises(KeyError, match="' t'"):
        serializer.register(_tag_class(" t"))
    serializer.register(_tag_class(" new"))
    with pytest.raises(KeyError):
        serializer.register(_tag_class(" new"))
    serializer.register(_tag_class(" new", "x"), force=True)
    assert serializer.loads(serializer.dumps(["x"])) == ["x"]


def test_tagged_json_serializers_are_independent() -> None:
    first = TaggedJSONSerializer()
    first.register(_tag_class(" x", "special"))
    second = TaggedJSONSerializer()
    second.register(_tag_class(" x"))  # no KeyError: tags are per instance
    assert first.loads(first.dumps("special")) == "special"
    assert second.loads(first.dumps("special")) is None


@pytest.mark.parametrize(
    "value",
    [
        {"n": 1, "a": "x", "m": None, "f": 1.5, "t": True},
        {"outer": {"z": [1, {"y": "é☃"}], "a": []}},
        {"a": {" t": [1]}},  # plain, but a dict that looks like a tag
        [{" di": {" b": "AA=="}}],
        {"list": [Markup("<i>x</i>"), (1, 2), b"\x01"]},
        {"when": datetime(2020, 1, 2, 3, 4, 5), "day": date(2020, 1, 2)},
        {"price": Decimal("1.10"), "id": uuid.UUID(int=7)},
        ("a", ["b", ("c",)]),
        "text",
        7,
    ],
)
def test_tagged_json_is_flasks(value: t.Any) -> None:
    flask = pytest.importorskip("flask")
    from flask.json.tag import TaggedJSONSerializer as FlaskTaggedJSONSerializer

    with flask.Flask("flask_json").app_context():  # Flask's session JSON: its app's provider
        expected = FlaskTaggedJSONSerializer().dumps(value)
        assert TaggedJSONSerializer().dumps(value) == expected
        assert TaggedJSONSerializer().loads(expected) == FlaskTaggedJSONSerializer().loads(expected)


def test_tagged_json_custom_tag_sees_plain_values() -> None:
    class TagNone(JSONTag):
        key = " n"

        def check(self, value: t.Any) -> bool:
            return value is None

        def to_json(self, value: t.Any) -> t.Any:
            return 0

        def to_python(self, value: t.Any) -> t.Any:
            return None

    serializer = TaggedJSONSerializer()
    serializer.register(TagNone)
    assert serializer.dumps({"a": [1, None]}) == '{"a":[1,{" n":0}]}'
    assert serializer.loads('{"a":[1,{" n":0}]}') == {"a": [1, None]}

    class Upper(TaggedJSONSerializer):
        def tag(self, value: t.Any) -> t.Any:
            return value.upper() if isinstance(value, str) else super().tag(value)

    assert Upper().dumps({"a": ["b"]}) == '{"a":["B"]}'


def test_tagged_json_loads_bytes_like_json() -> None:
    serializer = TaggedJSONSerializer()
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert serializer.loads('{"a":{" t":["é"]}}'.encode(encoding)) == {"a": ("é",)}
    with pytest.raises(ValueError):
        serializer.loads("{not json")


def test_payload_is_itsdangerous_around_the_compression_threshold(
    app: Erlen, client: ErlenClient
) -> None:
    @app.route("/fill/<int:size>")
    def fill(size: int) -> str:
        session.clear()
        session["a"] = "x" * size
        return "filled"

    serializer = signing_serializer(app)
    compressed = []
    for size in range(16):  # payloads of 8 to 23 bytes
        value = cookie_value(session_cookie(client.get(f"/fill/{size}")))
        expected = serializer.dumps({"a": "x" * size})
        assert value.rsplit(".", 2)[0] == expected.rsplit(".", 2)[0], size
        assert serializer.loads(value) == {"a": "x" * size}
        compressed.append(value.startswith("."))
    assert not compressed[0] and compressed[-1]  # both sides of the threshold
