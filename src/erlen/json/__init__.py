"""JSON helpers that use the current app's provider (``app.json``) when an app is active."""

from __future__ import annotations

import json as _json
import typing as t

from ..globals import _cv_app
from ..globals import current_app as current_app
from .provider import _default

if t.TYPE_CHECKING:
    from ..wrappers import Response


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """Serialize ``obj`` to JSON with the current app's provider (or the default rules)."""
    ctx = _cv_app.get()
    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """Parse JSON with the current app's provider (or the standard library)."""
    ctx = _cv_app.get()
    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Write ``obj`` as JSON to the text file ``fp``, as :func:`dumps` serializes it."""
    fp.write(dumps(obj, **kwargs))


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    """Parse the JSON in the file ``fp``, as :func:`loads` does."""
    return loads(fp.read(), **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """A JSON response: ``jsonify(obj)``, ``jsonify(a, b)`` (a list) or ``jsonify(key=value)``."""
    ctx = _cv_app.get()
    if ctx is None:
        raise RuntimeError("jsonify() needs an active application context.")
    return ctx.app.json.response(*args, **kwargs)
