"""Module-level app objects for real servers: ``apps.targets:erlen_wsgi`` and so on, each the
hello app (built on first access, so a server imports only the framework it serves)."""

from __future__ import annotations

import typing as t

from . import bottle_app, falcon_app, flasklike, litestar_app, quart_app, raw, starlette_app

BUILDERS: dict[str, t.Callable[[], t.Any]] = {
    "raw_wsgi": lambda: raw.build("hello", "wsgi"),
    "raw_asgi": lambda: raw.build("hello", "asgi"),
    "erlen_wsgi": lambda: flasklike.build("erlen", "hello"),
    "erlen_asgi": lambda: flasklike.build("erlen", "hello", async_views=True),
    "erlen_def_asgi": lambda: flasklike.build("erlen", "hello"),
    "erlen_bare_asgi": lambda: _without_security_headers(
        flasklike.build("erlen", "hello", async_views=True)
    ),
    "erlen_bare_wsgi": lambda: _without_security_headers(flasklike.build("erlen", "hello")),
    "flask_wsgi": lambda: flasklike.build("flask", "hello"),
    "bottle_wsgi": lambda: bottle_app.build("hello"),
    "falcon_wsgi": lambda: falcon_app.build_wsgi("hello"),
    "falcon_asgi": lambda: falcon_app.build_asgi("hello"),
    "starlette_asgi": lambda: starlette_app.build("hello"),
    "starlette_def_asgi": lambda: starlette_app.build_sync("hello"),
    "quart_asgi": lambda: quart_app.build("hello"),
    "litestar_asgi": lambda: litestar_app.build("hello"),
}


def _without_security_headers(app: t.Any) -> t.Any:
    """erlen with no default security headers: what they cost where a server handles each
    response header in Python (uvicorn), or converts each for its own (granian)."""
    app.config["SECURITY_HEADERS"] = {}
    return app


def __getattr__(name: str) -> t.Any:
    builder = BUILDERS.get(name)
    if builder is None:
        raise AttributeError(name)
    app = builder()
    globals()[name] = app
    return app
