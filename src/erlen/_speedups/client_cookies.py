"""The cookie jar of werkzeug's test ``Client``, for erlen's test clients.

Not a speedup: werkzeug has no public API for these (Flask's test client calls the same
methods), so they are fenced here with the other private parts erlen uses. They are used with
the speedups on or off. Upstream: ``Client._add_cookies_to_wsgi``,
``Client._update_cookies_from_response`` and ``Client._cookies``.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable

from werkzeug.test import Client

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


def uses_cookies(client: Client) -> bool:
    """Whether ``client`` keeps cookies (it was made with ``use_cookies=True``)."""
    return client._cookies is not None


def add_cookies(client: Client, environ: WSGIEnvironment) -> None:
    """Put the cookies of ``client`` that match ``environ``'s URL in its ``Cookie`` header."""
    client._add_cookies_to_wsgi(environ)


def keep_cookies(client: Client, host: str, path: str, set_cookies: Iterable[str]) -> None:
    """Store the ``Set-Cookie`` headers a response to ``host`` and ``path`` carried."""
    client._update_cookies_from_response(host, path, list(set_cookies))
