"""Sessions: the session interface and the default signed-cookie session."""

from __future__ import annotations

import enum
import hashlib
import typing as t
from collections.abc import Callable, MutableMapping
from datetime import datetime, timezone

from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict
from werkzeug.http import dump_cookie

from ._speedups import ENABLED as _SPEEDUPS
from ._speedups.cookies import CookieFormat
from ._speedups.signing import CookieSigner
from .globals import _cv_request
from .json.tag import TaggedJSONSerializer
from .response_headers import check_cookie_domain

T = t.TypeVar("T")

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


class CookieAction(enum.Enum):
    """What saving a session does with its cookie (:meth:`SessionInterface.cookie_action`)."""

    KEEP = enum.auto()
    SET = enum.auto()
    DELETE = enum.auto()


class SessionInterface:
    """How sessions are opened from a request and saved to a response. Set
    ``app.session_interface`` to a subclass for server-side sessions."""

    null_session_class = NullSession
    #: Whether :meth:`open_session` and :meth:`save_session` do I/O (a store on the network):
    #: the pipeline then calls them as it calls a view, in a worker thread under ASGI (or
    #: awaits them on the loop, if they are ``async def``), and opens the session before the
    #: hooks, so that no ``session`` access waits for the store on the event loop.
    blocking: bool = False

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
        """``SESSION_COOKIE_SECURE``; when it is ``None`` (the default), whether the active
        request came over https (behind a proxy, as ``TRUSTED_PROXIES`` lets erlen know)."""
        secure = app.config["SESSION_COOKIE_SECURE"]
        if secure is None:
            ctx = _cv_request.get()
            return ctx is not None and ctx.request.scheme in ("https", "wss")
        return bool(secure)

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

    def cookie_action(self, app: Erlen, session: SessionMixin, response: Response) -> CookieAction:
        """What :meth:`save_session` must do with the cookie of ``session``: delete it (the
        session was emptied), set it (:meth:`should_set_cookie`), or leave it. Adds
        ``Vary: Cookie`` to ``response`` when the response depended on the session."""
        if not session:
            if session.modified:
                _vary_cookie(response)
                return CookieAction.DELETE
            if session.accessed:
                _vary_cookie(response)
            return CookieAction.KEEP
        if not self.should_set_cookie(app, session):
            if session.accessed:
                _vary_cookie(response)
            return CookieAction.KEEP
        _vary_cookie(response)
        return CookieAction.SET

    def _layout(self, app: Erlen) -> _CookieLayout:
        """The cookie's name, attributes and ``Set-Cookie`` format for the current settings."""
        settings = (
            self.get_cookie_name(app),
            self.get_cookie_domain(app),
            self.get_cookie_path(app),
            self.get_cookie_secure(app),
            self.get_cookie_httponly(app),
            self.get_cookie_samesite(app),
            self.get_cookie_partitioned(app),
        )
        return self._cached("_layouts", settings, _cookie_layout, settings)

    def _cached(self, name: str, key: tuple[t.Any, ...], make: Callable[..., T], *args: t.Any) -> T:
        """``make(*args)`` kept in this instance's cache ``name`` under ``key`` (the settings it
        depends on, so a change at runtime takes effect); settings that keep changing empty the
        cache rather than grow it."""
        cache: dict[tuple[t.Any, ...], t.Any] | None = self.__dict__.get(name)
        if cache is None:
            cache = self.__dict__[name] = {}
        try:
            return t.cast(T, cache[key])
        except KeyError:
            if len(cache) >= 32:
                cache.clear()
            value = cache[key] = make(*args)
            return value

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
    placeholder (see :func:`check_secret_key_for_serving`)."""
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    if len(text) < 16 or text.strip().lower() in PLACEHOLDER_KEYS:
        raise RuntimeError(
            "SECRET_KEY is too weak to sign sessions in production: it is shorter than 16"
            " characters or a placeholder. Set it to a long random value, for example from"
            " `python -c 'import secrets; print(secrets.token_hex())'`."
        )


def check_secret_key_for_serving(app: Erlen) -> None:
    """Refuse to serve with a weak or placeholder ``SECRET_KEY`` outside debug and testing
    mode. Called when the app starts serving (ASGI lifespan startup, the first request a WSGI
    server hands it, ``erlen run``), so a weak key stops the start instead of failing requests;
    the test client and ``test_request_context`` sign with any key, as in Flask."""
    key = app.secret_key
    if key and not (app.debug or app.testing):
        refuse_weak_secret_key(key)


class _CookieLayout(t.NamedTuple):
    """The session cookie's name and attributes, and its ``Set-Cookie`` header's format."""

    name: str
    options: dict[str, t.Any]
    #: The header for a value and an expiry.
    header: Callable[[str, datetime | str | float | None], str]


def _cookie_layout(settings: tuple[t.Any, ...]) -> _CookieLayout:
    name, domain, path, secure, httponly, samesite, partitioned = settings
    check_cookie_domain(domain)  # SESSION_COOKIE_DOMAIN: refused if attributes could hide in it
    options = {
        "domain": domain,
        "path": path,
        "secure": secure,
        "httponly": httponly,
        "samesite": samesite,
        "partitioned": partitioned,
    }
    if _SPEEDUPS:
        return _CookieLayout(name, options, CookieFormat(name, options).header)

    def header(value: str, expires: datetime | str | float | None) -> str:
        return dump_cookie(name, value, expires=expires, max_size=0, **options)

    return _CookieLayout(name, options, header)


#: The tagged-JSON serializer of session cookies (shared by every cookie session interface).
session_json_serializer = TaggedJSONSerializer()


class SecureCookieSessionInterface(SessionInterface):
    """Keeps the session in a cookie signed with ``SECRET_KEY`` (older keys in
    ``SECRET_KEY_FALLBACKS`` still verify). A tampered or expired cookie gives an empty session.

    The cookie is Flask's: the same secret key opens Flask's cookies and Flask opens these."""

    salt = "cookie-session"
    digest_method = staticmethod(hashlib.sha1)
    key_derivation = "hmac"
    serializer: t.Any = session_json_serializer
    session_class = SecureCookieSession

    # Signers are kept per instance, made on first use (an instance may serve many apps).

    def get_signing_serializer(self, app: Erlen) -> URLSafeTimedSerializer | None:
        """A new itsdangerous serializer for the cookie (the session itself uses a faster signer
        in the same format unless a subclass overrides this)."""
        if not app.secret_key:
            return None
        return self._make_serializer(app.secret_key, app.config["SECRET_KEY_FALLBACKS"])

    def _make_serializer(
        self, secret_key: str | bytes, fallbacks: t.Iterable[str | bytes] | None
    ) -> URLSafeTimedSerializer:
        keys = [*(fallbacks or ()), secret_key]  # the last key signs
        return URLSafeTimedSerializer(
            keys,  # type: ignore[arg-type]
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def _signer(self, app: Erlen) -> CookieSigner | URLSafeTimedSerializer | None:
        """What signs and opens the cookie: the cached signer for the current keys, or the
        serializer of an overridden :meth:`get_signing_serializer`."""
        if (
            type(self).get_signing_serializer
            is not SecureCookieSessionInterface.get_signing_serializer
        ):
            return self.get_signing_serializer(app)
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        key = (
            secret_key,
            tuple(fallbacks) if fallbacks else (),
            self.salt,
            self.digest_method,
            self.key_derivation,
            self.serializer,
        )

        return self._cached("_signers", key, self._new_signer, secret_key, fallbacks)

    def _new_signer(
        self, secret_key: str | bytes, fallbacks: t.Iterable[str | bytes] | None
    ) -> CookieSigner | URLSafeTimedSerializer:
        serializer = self._make_serializer(secret_key, fallbacks)
        return CookieSigner(serializer, self.digest_method) if _SPEEDUPS else serializer

    def open_session(self, app: Erlen, request: Request) -> SecureCookieSession | None:
        signer = self._signer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = signer.loads(value, max_age=max_age)
        except (BadData, ValueError, TypeError):  # BadData: a bad signature or payload
            return self.session_class()
        return self.session_class(data if isinstance(data, dict) else None)

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        action = self.cookie_action(app, session, response)
        if action is CookieAction.DELETE:
            layout = self._layout(app)
            response.delete_cookie(layout.name, **layout.options)
        if action is not CookieAction.SET:
            return
        signer = self._signer(app)
        assert signer is not None
        value = signer.dumps(dict(session))
        expires = self.get_expiration_time(app, session)
        layout = self._layout(app)
        header = layout.header(value, expires)
        limit = app.config.get("MAX_COOKIE_SIZE", 4093)
        if limit and len(header) > limit:
            # werkzeug's path, for its warning; then ours, in the app's log.
            response.set_cookie(layout.name, value, expires=expires, **layout.options)
            app.logger.warning(
                f"The session cookie {layout.name!r} is {len(header)} bytes, over the {limit}"
                " bytes of MAX_COOKIE_SIZE: browsers may silently ignore it. Keep less in the"
                " session."
            )
        else:
            response.headers.add("Set-Cookie", header)


def _vary_cookie(response: Response) -> None:
    """Add ``Cookie`` to ``Vary``: the response depends on the session."""
    if response.headers.getlist("Vary"):  # getlist: no KeyError raised when there is none
        response.vary.add("Cookie")
    else:
        response.headers.add("Vary", "Cookie")
