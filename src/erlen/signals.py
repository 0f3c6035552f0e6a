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


async def send_signal(signal: Signal, sender: t.Any, invoke: Invoker, **kwargs: t.Any) -> None:
    """Call ``signal``'s receivers for ``sender`` through the invoker, so sync and async
    receivers both work on both protocols. Check ``signal.receivers`` first on hot paths."""
    for receiver in signal.receivers_for(sender):
        await invoke(receiver, sender, **kwargs)
