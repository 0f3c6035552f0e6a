"""ASGI scopes for tests that call the app directly, without a test client or a server."""

from __future__ import annotations

import typing as t


def http_scope(path: str, *headers: tuple[bytes, bytes], method: str = "POST") -> dict[str, t.Any]:
    """An HTTP scope for ``path`` on ``localhost``, with a Host header and ``headers``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
        "extensions": {},
    }
