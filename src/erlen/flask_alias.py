"""Let code written for Flask import erlen: ``import flask`` resolves to erlen once this is on.

Use it to run a Flask app, its unmodified extensions (Flask-Login, Flask-WTF, Flask-SQLAlchemy,
...) and its test suite on erlen. Turn it on before anything imports ``flask``, with one line:

- in the app's entry module, as its first import: ``import erlen.flask_alias``;
- under pytest: ``pytest -p erlen.flask_alias`` (or ``addopts = "-p erlen.flask_alias"``);
- for the ``erlen`` command: ``ERLEN_FLASK_ALIAS=1 erlen run``.

The real Flask may stay installed (extensions declare it as a dependency); it is never loaded.
Without this import nothing changes: ``import flask`` loads Flask. See
:mod:`erlen.flask_compat` for how names map.
"""

from __future__ import annotations

from .flask_compat import install

install()
