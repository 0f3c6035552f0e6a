"""Signals (blinker): subscribe with ``signal.connect(receiver, sender=app)``.

erlen sends a signal only when it has receivers, so an app that connects none pays nothing.
"""

from __future__ import annotations

import typing as t
import weakref
from collections.abc import Callable, Coroutine

from blinker import Namespace, Signal

from .concurrency import run_on_thread_loop

if t.TYPE_CHECKING:
    from .app import Erlen
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


def has_receivers(signal: Signal, app: Erlen) -> bool:
    """Whether ``signal`` has a receiver for ``app`` (or for any sender): a lookup in the app's
    set of signals with receivers (see :func:`track_receivers`), so receivers connected for
    another app cost this one nothing. The per-request paths do the lookup inline, saving the
    call. (A weakly referenced receiver that dies is not seen: the answer stays "yes", and
    sending finds no one, which is only slower.)"""
    return signal in app._signals_with_receivers


_SIGNALS = (
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
)
# The apps whose _signals_with_receivers is kept current.
_apps: weakref.WeakSet[Erlen] = weakref.WeakSet()


def track_receivers(app: Erlen) -> None:
    """Keep ``app._signals_with_receivers`` current: the erlen signals with a receiver for the
    app or for any sender, as receivers connect and disconnect."""
    app._signals_with_receivers = _with_receivers_for(app)
    _apps.add(app)


def _with_receivers_for(app: Erlen) -> frozenset[Signal]:
    return frozenset(
        signal for signal in _SIGNALS if signal.receivers and signal.has_receivers_for(app)
    )


def _connections_changed(signal: Signal, **kwargs: t.Any) -> None:
    for app in list(_apps):
        app._signals_with_receivers = _with_receivers_for(app)


for _signal in _SIGNALS:
    _signal.receiver_connected.connect(_connections_changed, weak=False)
    _signal.receiver_disconnected.connect(_connections_changed, weak=False)


async def send_signal(signal: Signal, sender: t.Any, invoke: Invoker, **kwargs: t.Any) -> None:
    """Call ``signal``'s receivers for ``sender`` through the invoker, so sync and async
    receivers both work on both protocols. Check :func:`has_receivers` first."""
    for receiver in signal.receivers_for(sender):
        await invoke(receiver, sender, **kwargs)
