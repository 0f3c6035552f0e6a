"""URL rules and the URL map, on :mod:`werkzeug.routing`.

werkzeug matches and builds every URL. The one addition is a table of the *static* rules (no
converters, host or defaults): most requests hit one, and a dict lookup finds it without binding a
``MapAdapter`` first. Anything the table cannot answer exactly goes to werkzeug.
"""

from __future__ import annotations

import typing as t

from werkzeug.routing import Map
from werkzeug.routing import Rule as _WerkzeugRule

if t.TYPE_CHECKING:
    from werkzeug.routing import MapAdapter, RuleFactory


class Rule(_WerkzeugRule):
    """A URL rule. ``provide_automatic_options`` says the pipeline answers OPTIONS for it."""

    provide_automatic_options: bool = False


class UrlMap(Map):
    """werkzeug's :class:`~werkzeug.routing.Map` with a fast path for static rules."""

    #: Off when rules may depend on the host (host or subdomain matching).
    fast_static: bool = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._ordered: list[_WerkzeugRule] = []
        self._static: dict[str, tuple[_WerkzeugRule, ...]] | None = None
        self._adapter: MapAdapter | None = None

    def add(self, rulefactory: RuleFactory) -> None:
        known = {id(rule) for rule in self._ordered}
        super().add(rulefactory)
        self._ordered.extend(rule for rule in self._rules if id(rule) not in known)
        self._static = None
        self._adapter = None

    def match_static(self, path: str, method: str) -> _WerkzeugRule | None:
        """The static rule for ``path`` that allows ``method``, or ``None`` (ask werkzeug)."""
        table = self._static
        if table is None:
            table = self._static = self._static_table()
        for rule in table.get(path, ()):
            if rule.methods is None or method in rule.methods:
                return rule
        return None

    def match_path(
        self, path: str, method: str, websocket: bool
    ) -> tuple[_WerkzeugRule, t.Mapping[str, t.Any]]:
        """Match with werkzeug, without binding the map to the request. Only valid while
        :attr:`fast_static` (no rule depends on the host); a redirect it raises carries a
        placeholder host, so build redirects from an adapter bound to the request."""
        adapter = self._adapter
        if adapter is None:
            adapter = self._adapter = self.bind("localhost")
        return adapter.match(path, method, return_rule=True, websocket=websocket)

    def _static_table(self) -> dict[str, tuple[_WerkzeugRule, ...]]:
        table: dict[str, tuple[_WerkzeugRule, ...]] = {}
        if self.host_matching or not self.fast_static:
            return table
        for rule in self._ordered:
            if (
                rule.arguments
                or rule.build_only
                or rule.websocket
                or rule.defaults
                or rule.redirect_to is not None
                or rule.subdomain
                or rule.host
            ):
                continue
            table[rule.rule] = (*table.get(rule.rule, ()), rule)
        return table
