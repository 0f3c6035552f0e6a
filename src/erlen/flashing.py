"""Flashed messages: kept in the session by one request, shown (and removed) by the next."""

from __future__ import annotations

import typing as t

from .globals import _cv_request, current_app, session
from .signals import message_flashed, run_receiver_sync


def flash(message: str, category: str = "message") -> None:
    """Keep ``message`` in the session for the next request to show (after a redirect).
    ``category`` is free text; ``"error"``, ``"info"`` and ``"warning"`` are common."""
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    if message_flashed.receivers:
        message_flashed.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            _async_wrapper=run_receiver_sync,
            message=message,
            category=category,
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """The flashed messages, taken out of the session (the same list for the rest of the
    request); ``(category, message)`` pairs with ``with_categories``."""
    ctx = _cv_request.get()
    if ctx is None:
        return []
    flashes = ctx.flashes
    if flashes is None:
        flashes = ctx.flashes = session.pop("_flashes") if "_flashes" in session else []
    wanted = set(category_filter)
    if wanted:
        flashes = [pair for pair in flashes if pair[0] in wanted]
    if with_categories:
        return [(category, message) for category, message in flashes]
    return [message for _category, message in flashes]
