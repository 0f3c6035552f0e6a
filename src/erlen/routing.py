"""URL rules and the URL map, on :mod:`werkzeug.routing`.

werkzeug builds every URL and has the last word on matching. Three shortcuts answer first, each
only where werkzeug's answer is certain: a table of the *static* rules (no converters, host or
defaults), since most requests hit one and a dict lookup finds it without binding a
``MapAdapter``; the literal prefixes of the other rules, since a path near no static rule and
starting with no other rule's prefix is a 404; and :mod:`erlen.dynamic_routes` for rules with
converters. Anything else goes to werkzeug.
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map
from werkzeug.routing import Rule as _WerkzeugRule

from .dynamic_routes import DynamicRoutes

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
        self._prefixes: tuple[str, ...] = ()
        self._dynamic: DynamicRoutes | None = None
        self._adapter: MapAdapter | None = None

    def add(self, rulefactory: RuleFactory) -> None:
        known = {id(rule) for rule in self._ordered}
        super().add(rulefactory)
        self._ordered.extend(rule for rule in self._rules if id(rule) not in known)
        self._static = None
        self._dynamic = None
        self._adapter = None

    def match_static(self, path: str, method: str) -> _WerkzeugRule | None:
        """The static rule for ``path`` that allows ``method``, or ``None`` (ask werkzeug)."""
        for rule in (self._static or self._static_rules()).get(path, ()):
            if rule.methods is None or method in rule.methods:
                return rule
        return None

    def match_path(
        self, path: str, method: str, websocket: bool
    ) -> tuple[_WerkzeugRule, t.Mapping[str, t.Any]]:
        """Match with werkzeug, without binding the map to the request. Only valid while
        :attr:`fast_static` (no rule depends on the host); a redirect it raises carries a
        placeholder host, so build redirects from an adapter bound to the request."""
        if not websocket and not self._near_static(path):
            if not path.startswith(self._prefixes):
                raise NotFound()  # no rule can match, redirect or refuse the method
            dynamic = self._dynamic
            if dynamic is None:
                dynamic = self._dynamic = DynamicRoutes(self._ordered)
            found = dynamic.match(path, method) if dynamic.usable else None
            if found is not None:
                return found
        adapter = self._adapter
        if adapter is None:
            adapter = self._adapter = self.bind("localhost")
        return adapter.match(path, method, return_rule=True, websocket=websocket)

    def _near_static(self, path: str) -> bool:
        """Whether a static rule may answer for ``path`` (with a 405 or a redirect to the path
        with or without a trailing slash), or werkzeug would merge its slashes."""
        table = self._static_rules()  # (also computes _prefixes)
        return (
            path in table
            or path + "/" in table
            or (path[-1:] == "/" and path[:-1] in table)
            or "//" in path
        )

    def _static_rules(self) -> dict[str, tuple[_WerkzeugRule, ...]]:
        table = self._static
        if table is None:
            table = self._static = self._static_table()
        return table

    def _static_table(self) -> dict[str, tuple[_WerkzeugRule, ...]]:
        """The static rules by path; the literal prefixes of the others go to ``_prefixes``."""
        table: dict[str, tuple[_WerkzeugRule, ...]] = {}
        if self.host_matching or not self.fast_static:
            self._prefixes = ("",)  # every path may match: always ask werkzeug
            return table
        prefixes = set()
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
                # Up to its first variable part, without a trailing slash (strict_slashes
                # redirects "/a" to "/a/").
                prefixes.add(rule.rule.partition("<")[0].rstrip("/"))
                continue
            table[rule.rule] = (*table.get(rule.rule, ()), rule)
        self._prefixes = tuple(prefixes)
        return table
