"""A small blog built with erlen: accounts, posts, a JSON API and a live feed.

Run it from ``examples/blog`` with ``erlen --app blog run`` (``make run`` at the top of the
repository does that on uvicorn; see ``live.py`` for why).
"""

from __future__ import annotations

import os
import secrets
import typing as t

from erlen import Erlen

from . import live
from .db import db

#: Where the generated development secret key is written, in the instance folder.
INSTANCE_CONFIG = "config.py"
#: Only pages, styles and scripts of this site; no inline scripts, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self';"
    " frame-ancestors 'none'"
)


def create_app(
    test_config: t.Mapping[str, t.Any] | None = None, instance_path: str | None = None
) -> Erlen:
    """Build a blog app. ``test_config`` overrides every other setting; ``instance_path`` (an
    absolute path) moves the instance folder, which holds the database and the secret key."""
    app = Erlen(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping(
        CONTENT_SECURITY_POLICY=CONTENT_SECURITY_POLICY,
        # werkzeug's default: slow on purpose. Tests use a cheaper one to run fast.
        PASSWORD_HASH_METHOD="scrypt",
    )
    app.config.from_pyfile(INSTANCE_CONFIG, silent=True)  # instance/config.py
    app.config.from_prefixed_env()  # ERLEN_SECRET_KEY=... and friends
    if test_config is not None:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _generate_secret_key(app.instance_path)

    db.init_app(app)
    live.init_app(app)

    from . import api, auth, blog

    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    app.register_blueprint(api.bp)
    return app


def _generate_secret_key(instance_path: str) -> str:
    """Make a random key and keep it in the instance config, so that sessions survive a
    restart. For development: a deployment sets ``ERLEN_SECRET_KEY`` or writes its own
    ``instance/config.py``."""
    key = secrets.token_hex(32)
    path = os.path.join(instance_path, INSTANCE_CONFIG)
    # Readable by its owner only; appended, so settings already in the file are kept.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as file:
        file.write(f"# Generated on first run, for development.\nSECRET_KEY = {key!r}\n")
    return key
