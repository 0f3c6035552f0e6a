"""What every app in the benchmark shares: the scenarios' inputs and expected outputs."""

from __future__ import annotations

import json
import os
import typing as t

import itsdangerous

#: The scenarios, in table order. ``ws`` is ASGI only.
SCENARIOS = (
    "hello",
    "param",
    "routes50",
    "json",
    "form",
    "upload",
    "template",
    "session",
    "404",
    "hooks",
    "stream",
    "ws",
)
#: Their column titles.
SCENARIO_TITLES = {
    "hello": "hello",
    "param": "param JSON",
    "routes50": "50 routes",
    "json": "JSON echo",
    "form": "form",
    "upload": "upload 1 MiB",
    "template": "template",
    "session": "session",
    "404": "404",
    "hooks": "hooks",
    "stream": "stream 1k",
    "ws": "WS echo",
}

HELLO = "Hello, World!"
USER_ID = 42


def user(user_id: int) -> dict[str, t.Any]:
    return {"id": user_id, "name": f"user {user_id}"}


N_ROUTES = 50
ROUTES = [f"/route{i}" for i in range(N_ROUTES)]  # the last one is hit
JSON_DOC: dict[str, t.Any] = {
    "id": 7,
    "name": "bench",
    "active": True,
    "score": 9.5,
    "tags": ["a", "b", "c"],
    "items": [{"n": i, "label": f"item {i}"} for i in range(10)],
}
JSON_BODY = json.dumps(JSON_DOC).encode()
FORM = {f"field{i}": f"value {i}" for i in range(5)}
FORM_ANSWER = ",".join(FORM.values())
UPLOAD_NAME = "data.bin"
UPLOAD_DATA = bytes(range(256)) * 4096  # 1 MiB
UPLOAD_ANSWER = f"{UPLOAD_NAME}:{len(UPLOAD_DATA)}"
TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE_NAME = "items.html"
ITEMS = [{"name": f"item {i}", "price": i * 3} for i in range(20)]
SECRET = "bench-secret-key-not-for-production"
SESSION_COOKIE = "session"
HOOK_USER = "bench"
HOOK_HEADER = "X-Hook"
CHUNK = "0123456789abcdef\n"
N_CHUNKS = 1000
STREAM_BODY = (CHUNK * N_CHUNKS).encode()


class NotSupported(Exception):
    """A framework cannot do a scenario (the message says why)."""


def session_answer(count: int) -> str:
    return f"n={count}"


# --- the itsdangerous-signed cookie "by hand" of the raw callables, Bottle and Falcon ------------

_serializer = itsdangerous.URLSafeSerializer(SECRET, salt="bench-session")


def cookie_value(header: str | None) -> str | None:
    """The session cookie's value out of a ``Cookie`` header (no full parser: one cookie)."""
    if not header:
        return None
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value
    return None


def load_session(value: str | None) -> dict[str, t.Any]:
    if not value:
        return {}
    try:
        data = _serializer.loads(value)
    except itsdangerous.BadSignature:
        return {}
    return data if isinstance(data, dict) else {}


def dump_session(data: dict[str, t.Any]) -> str:
    return t.cast(str, _serializer.dumps(data))


def set_cookie_header(data: dict[str, t.Any]) -> str:
    return f"{SESSION_COOKIE}={dump_session(data)}; HttpOnly; Path=/; SameSite=Lax"


_jinja_env: t.Any = None


def jinja_env() -> t.Any:
    """A plain Jinja2 environment on the templates folder (Bottle, Falcon, the raw callables)."""
    global _jinja_env
    if _jinja_env is None:
        import jinja2

        _jinja_env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True
        )
    return _jinja_env


def render_items() -> str:
    return t.cast(str, jinja_env().get_template(TEMPLATE_NAME).render(items=ITEMS))


def stream_chunks() -> t.Iterator[str]:
    for _ in range(N_CHUNKS):
        yield CHUNK


async def astream_chunks() -> t.AsyncIterator[str]:
    for _ in range(N_CHUNKS):
        yield CHUNK
