"""A typical Flask app: accounts (Flask-Login), forms with CSRF tokens (Flask-WTF), a database
(Flask-SQLAlchemy, migrated by Flask-Migrate), two blueprints and a JSON endpoint.

It is written for Flask and was not changed to run on erlen: see ``wsgi.py`` and README.md.
"""

import os
import secrets

import click
from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from .models import User, db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
migrate = Migrate()
csrf = CSRFProtect()


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{os.path.join(app.instance_path, 'notes.sqlite')}",
    )
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY, FLASK_SQLALCHEMY_DATABASE_URI, ...
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)

    db.init_app(app)
    migrate.init_app(app, db)
    login_manager.init_app(app)
    csrf.init_app(app)

    from . import auth, views

    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)

    @app.cli.command("init-db")
    def init_db():
        """Create the tables (without migrations)."""
        db.create_all()
        click.echo("Initialized the database.")

    return app


def _instance_secret_key(instance_path):
    """A random key kept in the instance folder, so sessions survive a restart."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        with open(path, "w") as file:
            file.write(secrets.token_hex(32))
    with open(path) as file:
        return file.read().strip()
