"""Posts: the index, writing, editing and deleting posts, and the live feed of new ones."""

from __future__ import annotations

import sqlite3
import typing as t

from erlen import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from erlen.sse import EventStream, ServerSentEvent
from erlen.typing import ResponseReturnValue

from . import live
from .auth import login_required
from .db import db

bp = Blueprint("blog", __name__)

#: The longest title accepted, in characters.
MAX_TITLE_LENGTH = 200
#: How many posts the index shows.
PAGE_SIZE = 50
#: The client's reconnection delay after a lost feed connection, in milliseconds.
FEED_RETRY_MS = 2000
#: Seconds between keep-alive comments on an idle feed.
FEED_PING_INTERVAL = 15.0

POST_QUERY = (
    "SELECT post.id, title, body, created, author_id, username"
    " FROM post JOIN user ON post.author_id = user.id"
)


# --- the posts, for the views here and the API ---------------------------------------------


def validate_post(title: object, body: object) -> dict[str, str]:
    """The problems with a post's fields, by field name (empty when it is fine)."""
    errors = {}
    if not isinstance(title, str) or not title.strip():
        errors["title"] = "A title is required."
    elif len(title) > MAX_TITLE_LENGTH:
        errors["title"] = f"The title is longer than {MAX_TITLE_LENGTH} characters."
    if not isinstance(body, str):
        errors["body"] = "The body must be text."
    return errors


def list_posts(limit: int = PAGE_SIZE) -> list[sqlite3.Row]:
    """The newest posts first."""
    return db.connection.execute(f"{POST_QUERY} ORDER BY post.id DESC LIMIT ?", (limit,)).fetchall()


def get_post(post_id: int, check_author: bool = True) -> sqlite3.Row:
    """The post ``post_id``; 404 if there is none, 403 if ``check_author`` and the logged-in
    user did not write it."""
    post: sqlite3.Row | None = db.connection.execute(
        f"{POST_QUERY} WHERE post.id = ?", (post_id,)
    ).fetchone()
    if post is None:
        abort(404, f"There is no post {post_id}.")
    if check_author and (g.user is None or post["author_id"] != g.user["id"]):
        abort(403, "Only the author of a post may change it.")
    return post


def create_post(title: str, body: str, author_id: int) -> sqlite3.Row:
    """Save a new post and push it to the open pages."""
    with db.connection:
        cursor = db.connection.execute(
            "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
            (title.strip(), body, author_id),
        )
    assert cursor.lastrowid is not None
    post = get_post(cursor.lastrowid, check_author=False)
    live.publish("post", post_as_json(post))
    return post


def update_post(post_id: int, title: str, body: str) -> None:
    with db.connection:
        db.connection.execute(
            "UPDATE post SET title = ?, body = ? WHERE id = ?", (title.strip(), body, post_id)
        )
    live.publish("edit", post_as_json(get_post(post_id, check_author=False)))


def delete_post(post_id: int) -> None:
    with db.connection:
        db.connection.execute("DELETE FROM post WHERE id = ?", (post_id,))
    live.publish("delete", {"id": post_id})


def post_as_json(post: sqlite3.Row) -> dict[str, t.Any]:
    return {
        "id": post["id"],
        "title": post["title"],
        "body": post["body"],
        "created": post["created"],
        "author": {"id": post["author_id"], "username": post["username"]},
        "edit_url": url_for("blog.edit", post_id=post["id"]),
    }


# --- pages -----------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    # The feed's position first: what happens while the posts are read comes by the feed.
    rendered_at = live.rendered_at()
    posts = list_posts()
    return render_template("blog/index.html", posts=posts, rendered_at=rendered_at)


@bp.route("/create", methods=["GET", "POST"])
@login_required
def create() -> ResponseReturnValue:
    if request.method == "POST":
        title = request.form.get("title", "")
        body = request.form.get("body", "")
        errors = validate_post(title, body)
        if not errors:
            create_post(title, body, g.user["id"])
            flash("Your post is published.", "success")
            return redirect(url_for("blog.index"))
        for message in errors.values():
            flash(message, "error")
    return render_template("blog/edit.html", post=None)


@bp.route("/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int) -> ResponseReturnValue:
    post = get_post(post_id)
    if request.method == "POST":
        title = request.form.get("title", "")
        body = request.form.get("body", "")
        errors = validate_post(title, body)
        if not errors:
            update_post(post_id, title, body)
            flash("Your post is updated.", "success")
            return redirect(url_for("blog.index"))
        for message in errors.values():
            flash(message, "error")
    return render_template("blog/edit.html", post=post)


@bp.post("/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> ResponseReturnValue:
    get_post(post_id)  # 404 or 403 unless it exists and is the user's own
    delete_post(post_id)
    flash("Your post is deleted.", "success")
    return redirect(url_for("blog.index"))


@bp.get("/feed")
async def feed() -> EventStream:
    """New, edited and deleted posts as server-sent events, for the index page's script
    (``static/live.js``).

    The page asks for the events after its render (``?after=``); on a reconnection the
    browser sends the last id it received in ``Last-Event-ID``, which wins.
    """
    after = live.parse_last_event_id(
        request.headers.get("Last-Event-ID"), request.args.get("after")
    )
    greeting = ServerSentEvent(data="connected", event="ready", retry=FEED_RETRY_MS)
    events = live.listen(after, greeting=greeting)
    return EventStream(events, ping_interval=FEED_PING_INTERVAL)
