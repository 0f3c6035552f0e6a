"""The app for servers: ``uvicorn wsgi:app``, ``gunicorn wsgi:app``, ``granian wsgi:app``.

The first import is the whole port: from here on ``import flask``, in this app and in the
extensions it uses, is erlen.
"""

# isort: off
import erlen.flask_alias  # noqa: F401  (must come before anything imports flask)
from notes import create_app

# isort: on

app = create_app()
