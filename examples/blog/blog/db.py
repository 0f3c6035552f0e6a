"""A small SQLite extension written with the ``init_app`` pattern.

One ``Database`` object can serve any number of apps: what belongs to one app (the path of
its database file, the schema) lives in ``app.extensions["database"]``, and the connection of
the current app context lives in ``g``. The connection is opened on first use and closed when
the app context ends.
"""

from __future__ import annotations

import os
import sqlite3

import click

from erlen import Erlen, current_app, g


class DatabaseState:
    """What the extension keeps per app, in ``app.extensions["database"]``."""

    def __init__(self, path: str, schema: str) -> None:
        self.path = path  # the database file
        self.schema = schema  # the schema file, relative to the app's package


class Database:
    """Per-request SQLite connections for an app.

    ``DATABASE`` is the path of the file (default: ``blog.sqlite`` in the instance folder). The
    file is created, with the tables from ``schema`` (a file in the app's package), when it does
    not exist yet, so a fresh checkout runs without a set-up step; ``erlen init-db`` empties it.
    """

    def __init__(self, app: Erlen | None = None, *, schema: str = "schema.sql") -> None:
        self.schema = schema
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        app.config.setdefault("DATABASE", os.path.join(app.instance_path, "blog.sqlite"))
        path = app.config["DATABASE"]
        app.extensions["database"] = DatabaseState(path=path, schema=self.schema)
        app.teardown_appcontext(self.close)

        @app.cli.command("init-db")
        def init_db() -> None:
            """Delete all data and create empty tables."""
            self.create_tables()
            click.echo(f"Initialized the database in {path}.")

        if not os.path.exists(path):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with app.app_context():
                self.create_tables()

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection of the current app context, opened on first use."""
        connection: sqlite3.Connection | None = g.get("_database_connection")
        if connection is None:
            state: DatabaseState = current_app.extensions["database"]
            # Under an ASGI server, the hooks and the view of one request may run in different
            # worker threads (one after the other, never at once), so the connection is allowed
            # to move between threads. It is never shared by two requests.
            connection = sqlite3.connect(state.path, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA foreign_keys = ON")
            g._database_connection = connection
        return connection

    def close(self, exc: BaseException | None = None) -> None:
        """Close the current app context's connection, if one was opened (a teardown)."""
        connection: sqlite3.Connection | None = g.pop("_database_connection", None)
        if connection is not None:
            connection.close()

    def create_tables(self) -> None:
        """Drop every table and create them again from the schema file."""
        state: DatabaseState = current_app.extensions["database"]
        with current_app.open_resource(state.schema, "r") as file:
            self.connection.executescript(file.read())


#: The extension object: views import it, ``create_app`` binds it to each app it creates.
db = Database()
