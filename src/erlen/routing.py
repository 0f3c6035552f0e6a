"""URL rules and the URL map, on :mod:`werkzeug.routing`.

werkzeug builds every URL and has the last word on matching; the shortcuts of
:mod:`erlen._speedups.route_shortcuts` answer first where werkzeug's answer is certain.
"""

from __future__ import annotations

import typing as t

from werkzeug.routing import Map
from werkzeug.routing import Rule as _WerkzeugRule

from ._speedups import ENABLED as _SPEEDUPS
from ._speedups.route_shortcuts import RouteShortcuts

if t.TYPE_CHECKING:
    from werkzeug.routing import MapAdapter, RuleFactory


class Rule(_WerkzeugRule):
    """A URL rule. ``provide_automatic_options`` says the pipeline answers OPTIONS for it."""

    provide_automatic_options: bool = False


class UrlMap(Map):
    """werkzeug's :class:`~werkzeug.routing.Map`, with the shortcuts of
    :mod:`erlen._speedups.route_shortcuts` while no rule depends on the host."""

    #: Whether the shortcuts and :meth:`match_path` may be used: off when rules may depend on
    #: the host (host or subdomain matching), or the speedups are.
    fast_static: bool = _SPEEDUPS

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._ordered: list[_WerkzeugRule] = []
        #: The shortcuts for the current rules, once :meth:`route_shortcuts` made them (read it
        #: first on the hot path: no call when it is there).
        self.shortcuts: RouteShortcuts | None = None
        self._adapter: MapAdapter | None = None

    def add(self, rulefactory: RuleFactory) -> None:
        known = {id(rule) for rule in self._ordered}
        super().add(rulefactory)
        self._ordered.extend(rule for rule in self.iter_rules() if id(rule) not in known)
        self.shortcuts = None
        self._adapter = None

    def match_path(
        self, path: str, method: str, websocket: bool
    ) -> tuple[_WerkzeugRule, t.Mapping[str, t.Any]]:
        """Match with werkzeug, without binding the map to the request. Only valid while
        :attr:`fast_static` (no rule depends on the host); a redirect it raises carries a
        placeholder host, so build redirects from an adapter bound to the request."""
        if not websocket:
            found = (self.shortcuts or self.route_shortcuts()).match(path, method)
            if found is not None:
                return found
        adapter = self._adapter
        if adapter is None:
            adapter = self._adapter = self.bind("localhost")
        return adapter.match(path, method, return_rule=True, websocket=websocket)

    def route_shortcuts(self) -> RouteShortcuts:
        """The shortcuts for the current rules (made on first use after a change). Only valid
        while :attr:`fast_static`."""
        shortcuts = self.shortcuts
        if shortcuts is None:
            shortcuts = self.shortcuts = RouteShortcuts(self._ordered)
        return shortcuts
