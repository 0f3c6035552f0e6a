"""Sessions kept on the server: the cookie carries only a random id, signed; the data stays in a
store (this process's memory, or Redis for several workers and machines).

Use them when a session must be revocable ("log out everywhere", an account disabled by an
admin), must hold more than a cookie can, or must not be readable by the browser. The cookie
session (the default) needs no store and suits the rest::

    from erlen import Erlen, session
    from erlen.server_sessions import ServerSessions, revoke_user_sessions

    app = Erlen(__name__)
    ServerSessions(app)  # SESSION_STORE_URL: memory:// (the default) or redis://host:port/db

    @app.post("/login")
    def login() -> str:
        ...  # check the password
        session["_user_id"] = str(user.id)  # a new user: the session gets a new id
        return "welcome"

    @app.post("/logout-everywhere")
    def logout_everywhere() -> str:
        revoke_user_sessions(session["_user_id"])  # every browser of this user is signed out
        return "bye"

The cookie has the flags of the cookie session (``SESSION_COOKIE_*``), its id is signed with
``SECRET_KEY`` (ids signed with a key of ``SECRET_KEY_FALLBACKS`` still open, so keys rotate as
for the cookie session), and the store keeps a session for ``PERMANENT_SESSION_LIFETIME``.
When ``SESSION_USER_KEY`` changes value (a login, whoever writes it: Flask-Login does), the
session gets a new id and the old one is deleted, so an id planted before is worthless after;
:func:`regenerate_session` does the same for other changes of privilege. The
ids of the sessions holding ``SESSION_USER_KEY`` (``_user_id``, the key Flask-Login uses) are
noted per user, for :func:`revoke_user_sessions`. The store is never called on the event loop:
under ASGI the session is opened and saved in a worker thread.
"""

from __future__ import annotations

import secrets
import typing as t

from itsdangerous import BadSignature, Signer

from ..globals import _cv_request, current_app
from ..sessions import (
    CookieAction,
    SecureCookieSession,
    SessionInterface,
    session_json_serializer,
)
from .stores import MemoryStore, RedisStore, SessionStore, store_from_url

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..sessions import SessionMixin
    from ..wrappers import Request, Response

__all__ = [
    "MemoryStore",
    "RedisStore",
    "ServerSession",
    "ServerSessionInterface",
    "ServerSessions",
    "SessionStore",
    "regenerate_session",
    "revoke_session",
    "revoke_user_sessions",
]


class ServerSession(SecureCookieSession):
    """A session whose data lives in the store under :attr:`sid`."""

    def __init__(self, initial: t.Mapping[str, t.Any] | None = None, sid: str | None = None):
        super().__init__(initial)
        #: The id in the store (``None`` for a session not saved yet).
        self.sid = sid
        self.renew = False
        #: Who the session belonged to when it was opened (``SESSION_USER_KEY``'s value).
        self.user_at_open: t.Any = None

    def regenerate(self) -> None:
        """Give the session a new id when it is saved (the old one is deleted from the store),
        keeping its data, so that an id known before is worthless after."""
        self.renew = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    """The session interface on a :class:`~erlen.server_sessions.stores.SessionStore`."""

    blocking = True
    session_class = ServerSession
    salt = "erlen.server-session-id"
    serializer: t.Any = session_json_serializer

    def __init__(self, store: SessionStore | None = None, user_key: str | None = None) -> None:
        self.store: SessionStore = store if store is not None else MemoryStore()
        self._user_key = user_key

    def _signer(self, app: Erlen) -> Signer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # the last signs
        return self._cached("_signers", (keys, self.salt), Signer, list(keys), self.salt)

    def user_key(self, app: Erlen) -> str:
        """The session key whose value names the signed-in user (``SESSION_USER_KEY``)."""
        return self._user_key or str(app.config.get("SESSION_USER_KEY") or "_user_id")

    def open_session(self, app: Erlen, request: Request) -> ServerSession | None:
        signer = self._signer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            sid = signer.unsign(value).decode()
        except BadSignature:
            return self.session_class()  # forged or from another key: a new session
        data = self.store.load(sid)
        if data is None:
            return self.session_class()  # expired or revoked: signed out
        try:
            loaded = self.serializer.loads(data.decode())
        except Exception:
            return self.session_class()
        session = self.session_class(loaded if isinstance(loaded, dict) else None, sid)
        session.user_at_open = dict.get(session, self.user_key(app))
        return session

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        action = self.cookie_action(app, session, response)
        if action is CookieAction.DELETE:  # emptied (logged out): gone from store and browser
            if session.sid is not None:
                self.store.delete(session.sid)
            layout = self._layout(app)
            response.delete_cookie(layout.name, **layout.options)
        if action is not CookieAction.SET:
            return
        signer = self._signer(app)
        assert signer is not None
        user = dict.get(session, self.user_key(app))
        if session.renew or session.sid is None or user != session.user_at_open:
            # A new session, or a change of user (a login, by any code, Flask-Login's too):
            # a new id, so that an id known before the change is worthless after it.
            if session.sid is not None:
                self.store.delete(session.sid)
            session.sid = secrets.token_urlsafe(32)
            session.renew = False
        data = self.serializer.dumps(dict(session)).encode()
        ttl = int(app.permanent_session_lifetime.total_seconds())
        session.user_at_open = user
        self.store.save(session.sid, data, ttl, None if user is None else str(user))
        value = signer.sign(session.sid).decode()
        expires = self.get_expiration_time(app, session)
        response.headers.add("Set-Cookie", self._layout(app).header(value, expires))


def _interface() -> ServerSessionInterface:
    interface = current_app.session_interface
    if not isinstance(interface, ServerSessionInterface):
        raise RuntimeError("The app keeps its sessions in cookies: call ServerSessions(app).")
    return interface


def regenerate_session() -> None:
    """Give the current session a new id (see :meth:`ServerSession.regenerate`): for a change
    of privilege other than a change of user (which renews the id by itself)."""
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError("regenerate_session() needs a request context.")
    session = ctx.session
    if not isinstance(session, ServerSession):
        raise RuntimeError("The app keeps its sessions in cookies: call ServerSessions(app).")
    session.regenerate()


def revoke_session(sid: str) -> None:
    """Delete the session ``sid`` from the store: its cookie opens an empty session after."""
    _interface().store.delete(sid)


def revoke_user_sessions(user: str) -> int:
    """Delete every session of ``user`` (the value of ``SESSION_USER_KEY`` in them), on every
    worker and machine that shares the store; returns how many there were. Blocks on the
    store: from an ``async def`` view, ``await asyncio.to_thread(revoke_user_sessions, user)``."""
    return _interface().store.delete_user(str(user))


class ServerSessions:
    """Keep the app's sessions on the server, in the store ``SESSION_STORE_URL`` names
    (``memory://``, the default, or ``redis://host:port/db``): ``ServerSessions(app)``, or
    ``sessions = ServerSessions()`` then ``sessions.init_app(app)`` in a factory."""

    def __init__(self, app: Erlen | None = None, store: SessionStore | None = None) -> None:
        self.store = store
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Set ``app.session_interface`` to a :class:`ServerSessionInterface` on the store."""
        app.config.setdefault("SESSION_STORE_URL", None)
        app.config.setdefault("SESSION_USER_KEY", "_user_id")
        store = self.store or store_from_url(app.config["SESSION_STORE_URL"])
        app.session_interface = ServerSessionInterface(store)
        app.extensions["erlen.server_sessions"] = self
