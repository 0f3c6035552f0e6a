"""Accounts: register, log in, log out, and ``login_required`` for views that need a user."""

from __future__ import annotations

import functools
import sqlite3
import typing as t
from collections.abc import Callable

from werkzeug.security import check_password_hash, generate_password_hash

from erlen import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from erlen.security import safe_redirect
from erlen.typing import ResponseReturnValue

from .db import db

bp = Blueprint("auth", __name__, url_prefix="/auth")

P = t.ParamSpec("P")
R = t.TypeVar("R")

#: The shortest password accepted at registration.
MIN_PASSWORD_LENGTH = 8


@bp.before_app_request
def load_logged_in_user() -> None:
    """Put the logged-in user's row (or ``None``) in ``g.user``, for every request."""
    user_id = session.get("user_id")
    g.user = None
    if user_id is not None:
        g.user = db.connection.execute(
            "SELECT id, username FROM user WHERE id = ?", (user_id,)
        ).fetchone()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Send visitors who are not logged in to the login page, and back here afterwards."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if g.user is None:
            flash("Log in to do that.", "error")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        error = None
        if not username:
            error = "Choose a username."
        elif len(password) < MIN_PASSWORD_LENGTH:
            error = f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
        else:
            try:
                with db.connection:  # a transaction: committed here, rolled back on error
                    db.connection.execute(
                        "INSERT INTO user (username, password_hash) VALUES (?, ?)",
                        (username, hash_password(password)),
                    )
            except sqlite3.IntegrityError:
                error = f"The username {username!r} is taken."
        if error is None:
            flash("Your account is ready: log in.", "success")
            return redirect(url_for("auth.login"))
        flash(error, "error")
    return render_template("auth/register.html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = db.connection.execute(
            "SELECT id, password_hash FROM user WHERE username = ?", (username,)
        ).fetchone()
        # One message for both mistakes: the form does not tell which usernames exist.
        if user is None or not check_password_hash(user["password_hash"], password):
            flash("Wrong username or password.", "error")
        else:
            session.clear()
            session["user_id"] = user["id"]
            flash(f"Welcome back, {username}.", "success")
            # Only a path of this site is followed: never an open redirect.
            return safe_redirect(request.args.get("next"), url_for("blog.index"))
    return render_template("auth/login.html")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """A POST, so that another site cannot log a visitor out with a link or an image."""
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("blog.index"))
