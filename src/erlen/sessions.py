"""Sessions: the session interface and the default signed-cookie session."""

from __future__ import annotations

import hashlib
import typing as t
from collections.abc import MutableMapping
from datetime import datetime, timezone

from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request, Response


class SessionMixin(MutableMapping[str, t.Any]):
    """What every session offers besides the mapping interface."""

    #: Whether the cookie outlives the browser session (``PERMANENT_SESSION_LIFETIME``).
    @property
    def permanent(self) -> bool:
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: False for a session that cannot be saved (no secret key).
    new = False
    modified = True
    accessed = True


class SecureCookieSession(CallbackDict[str, t.Any], SessionMixin):
    """The default session: a dict that records whether it was read or changed."""

    modified = False
    accessed = False

    def __init__(self, initial: t.Mapping[str, t.Any] | None = None) -> None:
        def on_update(self: SecureCookieSession) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)

    def __getitem__(self, key: str) -> t.Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().setdefault(key, default)


class NullSession(SecureCookieSession):
    """The session when none can be saved: reading works, writing explains how to fix it."""

    def _fail(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError(
            "The session is unavailable because no secret key was set. Set SECRET_KEY on the"
            " application (app.config['SECRET_KEY'] = ...) to a long random string, for"
            " example from `python -c 'import secrets; print(secrets.token_hex())'`."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class SessionInterface:
    """How sessions are opened from a request and saved to a response. Set
    ``app.session_interface`` to a subclass for server-side sessions."""

    null_session_class = NullSession

    def make_null_session(self, app: Erlen) -> NullSession:
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Erlen) -> str:
        return t.cast(str, app.config["SESSION_COOKIE_NAME"])

    def get_cookie_domain(self, app: Erlen) -> str | None:
        return t.cast("str | None", app.config["SESSION_COOKIE_DOMAIN"])

    def get_cookie_path(self, app: Erlen) -> str:
        return t.cast(str, app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"])

    def get_cookie_httponly(self, app: Erlen) -> bool:
        return bool(app.config["SESSION_COOKIE_HTTPONLY"])

    def get_cookie_secure(self, app: Erlen) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"])

    def get_cookie_samesite(self, app: Erlen) -> str | None:
        return t.cast("str | None", app.config["SESSION_COOKIE_SAMESITE"])

    def get_cookie_partitioned(self, app: Erlen) -> bool:
        return bool(app.config["SESSION_COOKIE_PARTITIONED"])

    def get_expiration_time(self, app: Erlen, session: SessionMixin) -> datetime | None:
        if session.permanent:
            return datetime.now(timezone.utc) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: Erlen, session: SessionMixin) -> bool:
        return session.modified or (
            session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"])
        )

    def open_session(self, app: Erlen, request: Request) -> SessionMixin | None:
        raise NotImplementedError

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        raise NotImplementedError


#: Values copied from examples and tutorials: never a real secret.
PLACEHOLDER_KEYS = frozenset(
    {
        "dev",
        "development",
        "secret",
        "secret-key",
        "secret_key",
        "changeme",
        "change-me",
        "change_me",
        "your-secret-key",
        "your_secret_key",
        "default",
        "test",
        "testing",
        "key",
    }
)


def refuse_weak_secret_key(key: str | bytes) -> None:
    """Raise unless ``key`` could be a real secret: at least 16 characters and not a known
    placeholder. Checked outside debug and testing mode, when a session is signed."""
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    if len(text) < 16 or text.strip().lower() in PLACEHOLDER_KEYS:
        raise RuntimeError(
            "SECRET_KEY is too weak to sign sessions in production: it is shorter than 16"
            " characters or a placeholder. Set it to a long random value, for example from"
            " `python -c 'import secrets; print(secrets.token_hex())'`."
        )


class SecureCookieSessionInterface(SessionInterface):
    """Keeps the session in a cookie signed with ``SECRET_KEY`` (older keys in
    ``SECRET_KEY_FALLBACKS`` still verify). A tampered or expired cookie gives an empty session."""

    salt = "cookie-session"
    digest_method = staticmethod(hashlib.sha1)
    key_derivation = "hmac"
    serializer: t.Any = TaggedJSONSerializer()
    session_class = SecureCookieSession

    def get_signing_serializer(self, app: Erlen) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        if not (app.debug or app.testing):
            refuse_weak_secret_key(app.secret_key)
        keys: list[str | bytes] = []
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        if fallbacks:
            keys.extend(fallbacks)
        keys.append(app.secret_key)  # the last key signs
        return URLSafeTimedSerializer(
            keys,  # type: ignore[arg-type]
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def open_session(self, app: Erlen, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = serializer.loads(value, max_age=max_age)
        except (BadData, ValueError, TypeError):  # BadData: a bad signature or payload
            return self.session_class()
        return self.session_class(data if isinstance(data, dict) else None)

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        name = self.get_cookie_name(app)
        options: dict[str, t.Any] = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "partitioned": self.get_cookie_partitioned(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.modified:
                response.delete_cookie(name, **options)
                response.vary.add("Cookie")
            return
        if not self.should_set_cookie(app, session):
            return
        serializer = self.get_signing_serializer(app)
        assert serializer is not None
        value = serializer.dumps(dict(session))
        expires = self.get_expiration_time(app, session)
        response.set_cookie(name, value, expires=expires, **options)
        response.vary.add("Cookie")
        self._warn_if_too_large(app, name, response)

    def _warn_if_too_large(self, app: Erlen, name: str, response: Response) -> None:
        """Log a warning when the ``Set-Cookie`` value just added is over ``MAX_COOKIE_SIZE``
        (``0`` turns the check off): browsers silently drop such cookies."""
        limit = app.config.get("MAX_COOKIE_SIZE", 4093)
        if not limit:
            return
        cookies = response.headers.getlist("Set-Cookie")
        size = len(cookies[-1]) if cookies else 0
        if size > limit:
            app.logger.warning(
                f"The session cookie {name!r} is {size} bytes, over the {limit} bytes of"
                " MAX_COOKIE_SIZE: browsers may silently ignore it. Keep less in the session."
            )
