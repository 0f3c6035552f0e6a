"""The one path a request is known by: what the router matches, and what hooks, views and
``request.path`` see, on every protocol.

Servers hand the path on as the client sent it, percent-decoded. werkzeug's router ignores
leading slashes, and browsers resolve ``.`` and ``..`` segments before they send a URL; if
``request.path`` kept ``//admin`` or ``/x/../admin`` while the router matched ``/admin``, a
``before_request`` check on ``request.path`` would guard a different path than the one served.
Both adapters therefore build the request from :func:`canonical_path`. Repeated slashes inside
the path are left alone: the router answers them with a redirect to the merged path, so no view
runs for them.
"""

from __future__ import annotations


def canonical_path(path: str) -> str:
    """``path`` with one leading slash and its dot segments resolved (RFC 3986, 5.2.4):
    ``//admin`` and ``/x/../admin`` become ``/admin``; a ``..`` above the root stays there."""
    if path[:1] != "/":
        path = "/" + path
    if "/." in path:
        path = _without_dot_segments(path)
    if path[1:2] == "/":
        path = "/" + path.lstrip("/")
    return path


def _without_dot_segments(path: str) -> str:
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")  # "/a/b/.." names the folder "/a/"
    return "/" + "/".join(kept)
