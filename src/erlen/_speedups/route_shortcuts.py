"""Answers to URL matching that are certain without werkzeug's matcher.

Upstream: ``werkzeug.routing.MapAdapter.match(path, method, return_rule=True)`` of a map bound
to a host (used only when no rule depends on the host). Three shortcuts answer first, each only
where werkzeug's answer is certain: a table of the *static* rules (no converters, host or
defaults), since most requests hit one and a dict lookup finds it without binding a
``MapAdapter``; the literal prefixes of the other rules, since a path near no static rule and
starting with no other rule's prefix is a 404; and :mod:`.dynamic_routes` for rules with
converters. Anything else returns ``None``, and werkzeug decides.
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule

from .dynamic_routes import DynamicRoutes


class RouteShortcuts:
    """The shortcuts for ``rules`` (in the order they were added to the map); make a new one
    when the rules change."""

    def __init__(self, rules: t.Sequence[Rule]) -> None:
        self._rules = rules
        self._static: dict[str, tuple[Rule, ...]] = {}
        prefixes = set()
        for rule in rules:
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
            self._static[rule.rule] = (*self._static.get(rule.rule, ()), rule)
        self._prefixes = tuple(prefixes)
        self._dynamic: DynamicRoutes | None = None

    def match_static(self, path: str, method: str) -> Rule | None:
        """The static rule for ``path`` that allows ``method``, or ``None`` (ask werkzeug)."""
        for rule in self._static.get(path, ()):
            if rule.methods is None or method in rule.methods:
                return rule
        return None

    def match(self, path: str, method: str) -> tuple[Rule, dict[str, t.Any]] | None:
        """The rule and values for ``path``, or ``None`` when werkzeug must decide; raises
        :exc:`~werkzeug.exceptions.NotFound` when no rule can match, redirect or refuse it."""
        if self._near_static(path):
            return None
        if not path.startswith(self._prefixes):
            raise NotFound()
        dynamic = self._dynamic
        if dynamic is None:
            dynamic = self._dynamic = DynamicRoutes(self._rules)
        return dynamic.match(path, method) if dynamic.usable else None

    def _near_static(self, path: str) -> bool:
        """Whether a static rule may answer for ``path`` (with a 405 or a redirect to the path
        with or without a trailing slash), or werkzeug would merge its slashes."""
        table = self._static
        return (
            path in table
            or path + "/" in table
            or (path[-1:] == "/" and path[:-1] in table)
            or "//" in path
        )
