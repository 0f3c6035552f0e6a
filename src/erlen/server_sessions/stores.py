"""Where server-side sessions live: in this process's memory, or in Redis.

A store keeps each session's data (bytes) under its id for a time, and, for sessions of a
signed-in user, the ids of that user's sessions, so that all of them can be revoked at once.
"""

from __future__ import annotations

import threading
import time
import typing as t

if t.TYPE_CHECKING:
    import redis


class SessionStore(t.Protocol):
    """What :class:`~erlen.server_sessions.ServerSessionInterface` needs of a store. Methods
    may block (they run in a worker thread under ASGI)."""

    def load(self, sid: str) -> bytes | None:
        """The data of session ``sid``, or ``None`` when it expired or was revoked."""

    def save(self, sid: str, data: bytes, ttl: int, user: str | None) -> None:
        """Keep ``data`` under ``sid`` for ``ttl`` seconds; note ``sid`` as ``user``'s."""

    def delete(self, sid: str) -> None:
        """Forget session ``sid`` (revoked, or replaced by a new id)."""

    def delete_user(self, user: str) -> int:
        """Forget every session noted as ``user``'s; how many there were."""


class MemoryStore:
    """Sessions in this process's memory: the default, for one process (a development server,
    or tests). Expired sessions are dropped when read, and swept once in a while."""

    def __init__(self, sweep_every: int = 1000) -> None:
        self._sessions: dict[str, tuple[float, bytes, str | None]] = {}
        self._users: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._sweep_every = sweep_every
        self._writes = 0

    def load(self, sid: str) -> bytes | None:
        with self._lock:
            found = self._sessions.get(sid)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                self._forget(sid)
                return None
            return found[1]

    def save(self, sid: str, data: bytes, ttl: int, user: str | None) -> None:
        with self._lock:
            self._sessions[sid] = (time.monotonic() + ttl, data, user)
            if user is not None:
                self._users.setdefault(user, set()).add(sid)
            self._writes += 1
            if self._writes % self._sweep_every == 0:
                now = time.monotonic()
                for old in [key for key, (end, _, _) in self._sessions.items() if end <= now]:
                    self._forget(old)

    def delete(self, sid: str) -> None:
        with self._lock:
            self._forget(sid)

    def delete_user(self, user: str) -> int:
        with self._lock:
            sids = self._users.pop(user, set())
            for sid in sids:
                self._sessions.pop(sid, None)
            return len(sids)

    def _forget(self, sid: str) -> None:
        found = self._sessions.pop(sid, None)
        if found is not None and found[2] is not None:
            sids = self._users.get(found[2])
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._users[found[2]]


class RedisStore:
    """Sessions in Redis, shared by every worker and machine: ``SET`` with an expiry per
    session, and a set of ids per signed-in user (expiring with the newest of its sessions).
    Needs the ``redis`` extra."""

    def __init__(self, client: redis.Redis, prefix: str = "erlen:session:") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "erlen:session:") -> RedisStore:
        """A store on the Redis server at ``url`` (``redis://host:port/db``)."""
        import redis

        return cls(redis.Redis.from_url(url), prefix)

    def load(self, sid: str) -> bytes | None:
        data = self.client.get(self.prefix + sid)
        return data.encode() if isinstance(data, str) else data

    def save(self, sid: str, data: bytes, ttl: int, user: str | None) -> None:
        pipe = self.client.pipeline()
        pipe.set(self.prefix + sid, data, ex=max(ttl, 1))
        if user is not None:
            key = f"{self.prefix}user:{user}"
            pipe.sadd(key, sid)
            pipe.expire(key, max(ttl, 1), gt=True)
            pipe.expire(key, max(ttl, 1), nx=True)
        pipe.execute()

    def delete(self, sid: str) -> None:
        self.client.delete(self.prefix + sid)

    def delete_user(self, user: str) -> int:
        key = f"{self.prefix}user:{user}"
        sids = [value.decode() for value in self.client.smembers(key)]  # type: ignore[union-attr]
        pipe = self.client.pipeline()
        for sid in sids:
            pipe.delete(self.prefix + sid)
        pipe.delete(key)
        pipe.execute()
        return len(sids)


def store_from_url(url: str | None) -> SessionStore:
    """The store ``SESSION_STORE_URL`` names: ``memory://`` (or nothing), or ``redis://...``."""
    if not url or url.startswith("memory:"):
        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore.from_url(url)
    raise ValueError(f"SESSION_STORE_URL {url!r}: use memory:// or redis://host:port/db.")
