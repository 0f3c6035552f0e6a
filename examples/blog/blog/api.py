"""The JSON API under ``/api``. It uses the same session cookie as the pages: a script on the
blog's own pages can call it, and the cross-site protection refuses another site's."""

from __future__ import annotations

import functools
import typing as t
from collections.abc import Callable

from werkzeug.exceptions import HTTPException

from erlen import Blueprint, Response, g, jsonify, request, url_for

from .blog import create_post, get_post, list_posts, post_as_json, validate_post

bp = Blueprint("api", __name__, url_prefix="/api")

P = t.ParamSpec("P")
R = t.TypeVar("R")


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> tuple[Response, int]:
    """Errors of the API's URLs as JSON, not as HTML pages."""
    return jsonify(error={"code": error.code, "message": error.description}), error.code or 500


def api_login_required(view: Callable[P, R]) -> Callable[P, R | tuple[Response, int]]:
    """Like ``auth.login_required``, but answers 401 instead of redirecting to a form."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | tuple[Response, int]:
        if g.user is None:
            return jsonify(error={"code": 401, "message": "Log in first."}), 401
        return view(*args, **kwargs)

    return wrapped


@bp.get("/posts")
def posts() -> dict[str, t.Any]:
    return {"posts": [post_as_json(post) for post in list_posts()]}


@bp.get("/posts/<int:post_id>")
def post(post_id: int) -> dict[str, t.Any]:
    return post_as_json(get_post(post_id, check_author=False))


@bp.post("/posts")
@api_login_required
def new_post() -> tuple[Response, int] | tuple[dict[str, t.Any], int, dict[str, str]]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(errors={"json": "Send a JSON object with a title and a body."}), 400
    title, body = data.get("title"), data.get("body", "")
    errors = validate_post(title, body)
    if errors:
        return jsonify(errors=errors), 400
    created = create_post(t.cast(str, title), t.cast(str, body), g.user["id"])
    location = url_for("api.post", post_id=created["id"])
    return post_as_json(created), 201, {"Location": location}
