"""Signals (blinker): subscribe with ``signal.connect(receiver, sender=app)``.

erlen sends a signal only when it has receivers, so an app that connects none pays nothing.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Coroutine

from blinker import Namespace, Signal

from .concurrency import run_on_thread_loop

if t.TYPE_CHECKING:
    from .concurrency import Invoker

_signals = Namespace()

template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")
request_started = _signals.signal("request-started")
request_finished = _signals.signal("request-finished")
request_tearing_down = _signals.signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
appcontext_pushed = _signals.signal("appcontext-pushed")
appcontext_popped = _signals.signal("appcontext-popped")
message_flashed = _signals.signal("message-flashed")
websocket_started = _signals.signal("websocket-started")
websocket_finished = _signals.signal("websocket-finished")


def run_receiver_sync(func: Callable[..., Coroutine[t.Any, t.Any, t.Any]]) -> Callable[..., t.Any]:
    """blinker's ``_async_wrapper`` for signals sent from sync code (templates, ``flash``): run
    an async receiver to completion, as the WSGI invoker does."""

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        return run_on_thread_loop(func(*args, **kwargs))

    return wrapper


def has_receivers(signal: Signal, sender: t.Any) -> bool:
    """Whether ``signal`` has a receiver for ``sender`` (or for any sender).

    When nothing is connected (the usual case) this is a dict check (the per-request paths
    check ``signal.receivers`` themselves first, saving the call). Otherwise the answer is
    kept per (signal, sender) until a receiver of an erlen signal connects or disconnects, so
    receivers connected for another app cost this one little. (A weakly referenced receiver that
    dies is not seen: the answer stays "yes", and sending finds no one, which is only slower.)
    """
    if not signal.receivers:
        return False
    global _answered_at
    if _answered_at != _connections:
        _answers.clear()
        _answered_at = _connections
    key = (id(signal), id(sender))
    answer = _answers.get(key)
    if answer is None:
        answer = _answers[key] = signal.has_receivers_for(sender)
    return answer


# How many times a receiver of an erlen signal connected or disconnected, and the answers of
# has_receivers since the count was last _answered_at.
_connections = 0
_answered_at = -1
_answers: dict[tuple[int, int], bool] = {}


def _count_connection(signal: Signal, **kwargs: t.Any) -> None:
    global _connections
    _connections += 1


for _signal in (
    template_rendered,
    before_render_template,
    request_started,
    request_finished,
    request_tearing_down,
    got_request_exception,
    appcontext_tearing_down,
    appcontext_pushed,
    appcontext_popped,
    message_flashed,
    websocket_started,
    websocket_finished,
):
    _signal.receiver_connected.connect(_count_connection, weak=False)
    _signal.receiver_disconnected.connect(_count_connection, weak=False)


async def send_signal(signal: Signal, sender: t.Any, invoke: Invoker, **kwargs: t.Any) -> None:
    """Call ``signal``'s receivers for ``sender`` through the invoker, so sync and async
    receivers both work on both protocols. Check :func:`has_receivers` first."""
    for receiver in signal.receivers_for(sender):
        await invoke(receiver, sender, **kwargs)
