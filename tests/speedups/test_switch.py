"""``ERLEN_SPEEDUPS=0`` makes erlen call werkzeug's and itsdangerous' own code (the run of the
behavioural tests in that mode is ``make upstream``); by default erlen uses the speedups."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json
from werkzeug.local import LocalProxy
import erlen
from erlen import globals as g, wrappers
from erlen._speedups import ENABLED
from erlen._speedups.headers import header_pairs
from erlen.json import provider
from erlen.sessions import SecureCookieSessionInterface

app = erlen.Erlen("probe")
app.secret_key = "a-long-enough-secret-key-for-the-probe-0123456789"
signer = SecureCookieSessionInterface()._signer(app)
print(json.dumps({
    "enabled": ENABLED,
    "proxy": isinstance(g.request, LocalProxy),
    "headers": wrappers._PAIR_HEADERS.__name__,
    "pairs": header_pairs is list,
    "routes": app.url_map.fast_static,
    "signer": type(signer).__name__,
    "http_date": provider._http_date.__module__,
    "template": app.jinja_env.template_class.__name__,
    "json": app.json._compact_encode().__qualname__,
    "cached": type(wrappers.Request.__dict__["form"]).__name__,
}))
"""


def _probe(value: str | None) -> dict[str, object]:
    env = {key: item for key, item in os.environ.items() if key != "ERLEN_SPEEDUPS"}
    if value is not None:
        env["ERLEN_SPEEDUPS"] = value
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_off_means_upstream_everywhere(value: str) -> None:
    assert _probe(value) == {
        "enabled": False,
        "proxy": True,
        "headers": "decoded_headers",
        "pairs": True,
        "routes": False,
        "signer": "URLSafeTimedSerializer",
        "http_date": "werkzeug.http",
        "template": "Template",
        "json": "JSONEncoder.encode",
        "cached": "cached_property",
    }


@pytest.mark.parametrize("value", [None, "1"])
def test_on_by_default(value: str | None) -> None:
    assert _probe(value) == {
        "enabled": True,
        "proxy": False,
        "headers": "RequestHeaders",
        "pairs": False,
        "routes": True,
        "signer": "CookieSigner",
        "http_date": "erlen._speedups.http_date",
        "template": "FastContextTemplate",
        "json": "fast_encoder.<locals>.encode",
        "cached": "cached_attribute",
    }
