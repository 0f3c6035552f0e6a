"""Matching rules with converters (``/users/<int:id>``) without werkzeug's state machine.

Upstream: ``werkzeug.routing.MapAdapter.match(path, method, return_rule=True)``. werkzeug's
matcher walks a tree of states and backtracks, a measurable cost per request for a rule with a
converter (bench/RESULTS.md, "Speedups"). Here each rule is a list of tests, one per path
segment (a literal, or the converter's regular expression, which werkzeug compiled), and a path
is tested only against the rules with its number of segments and its first segment.

werkzeug's answer depends on the order it tries rules in when several could match. So a match
is returned only when it cannot depend on that order: exactly one rule shape fits the path, no
rule would redirect it to the path with a trailing slash, and no rule of the map uses a feature
that changes matching (defaults, redirects, aliases, non-strict slashes, host or subdomain).
Anything else returns ``None``, and werkzeug decides, so every answer is werkzeug's own.
"""

from __future__ import annotations

import re
import typing as t

from werkzeug.routing import Rule, ValidationError

# A segment test: the literal the segment must equal, or the pattern it must match and the
# names of the converter groups in it (werkzeug names them __werkzeug_<n>, in rule order).
_Test = tuple[str, None, tuple[str, ...]] | tuple[None, re.Pattern[str], tuple[str, ...]]
_FINAL = -1  # the bucket length of rules whose last converter takes the rest of the path


class _Pattern:
    """One rule as segment tests: the literal segments by index (checked first: cheap), then
    the converter segments by index with their pattern and group names."""

    __slots__ = ("converters", "count", "final", "literals", "named", "rule", "tests")

    def __init__(self, rule: Rule, tests: list[_Test], final: bool) -> None:
        self.rule = rule
        self.tests = tests
        self.final = final
        self.count = len(tests)
        # Not the first two: the path starts with "/", and its first segment picked the bucket.
        self.literals = [
            (index, test[0]) for index, test in enumerate(tests) if test[1] is None and index > 1
        ]
        self.converters = [
            (index, test[1], test[2]) for index, test in enumerate(tests) if test[1] is not None
        ]
        #: The rule's converters by argument name, in the order of the values.
        self.named = list(rule._converters.items())

    def values(self, segments: list[str]) -> list[str] | None:
        """The converters' text for ``segments``, or ``None`` when the rule does not fit."""
        if len(segments) < self.count if self.final else len(segments) != self.count:
            return None
        for index, literal in self.literals:
            if segments[index] != literal:
                return None
        values: list[str] = []
        last = self.count - 1
        for index, pattern, names in self.converters:
            target = "/".join(segments[index:]) if self.final and index == last else segments[index]
            found = pattern.match(target)
            if found is None:
                return None
            if len(names) == 1:
                values.append(found.group(names[0]))
            else:
                values.extend(found.group(*names))
        return values

    def convert(self, values: list[str]) -> dict[str, t.Any]:
        """The view arguments: each text through its converter (``ValidationError`` if one
        refuses it). There is a value for every converter (see :func:`_compile`)."""
        named = self.named
        if len(named) == 1:
            name, converter = named[0]
            return {name: converter.to_python(values[0])}
        return {
            name: converter.to_python(value)
            for (name, converter), value in zip(named, values, strict=True)
        }


class DynamicRoutes:
    """The map's rules with converters, by number of segments (``_FINAL`` for rules whose last
    converter takes the rest of the path), then by first segment (``None`` when that is a
    converter)."""

    def __init__(self, rules: t.Iterable[Rule]) -> None:
        self._buckets: dict[int, dict[str | None, list[_Pattern]]] = {}
        # The segment counts of rules that end in a slash (a path one shorter may redirect).
        self._slashed_counts: set[int] = set()
        #: False when a rule of the map makes matching depend on more than the path's segments
        #: (then :meth:`match` always leaves it to werkzeug).
        self.usable = all(map(self._add, rules))
        #: What _fitting tries, per bucket and first segment: the rules starting with that
        #: literal, then those starting with a converter (alone under None, for any other first
        #: segment), in the order of the map.
        self._candidates = {
            count: _candidates(by_first) for count, by_first in self._buckets.items()
        }
        self._final = _FINAL in self._buckets

    def _add(self, rule: Rule) -> bool:
        if rule.build_only:  # werkzeug never matches these
            return True
        if _changes_matching(rule):
            return False
        try:
            pattern = _compile(rule)
        except AttributeError:  # a werkzeug whose rules are built otherwise
            return False
        if pattern is None:
            return False
        if rule.arguments and pattern.count > 1:  # static rules are matched by path
            count = _FINAL if pattern.final else pattern.count
            by_first = self._buckets.setdefault(count, {})
            by_first.setdefault(pattern.tests[1][0], []).append(pattern)
            if not pattern.final and pattern.tests[-1] == ("", None, ()):
                self._slashed_counts.add(pattern.count)
        return True

    def _fitting(self, segments: list[str], count: int) -> list[tuple[_Pattern, list[str]]]:
        """The rules of bucket ``count`` that fit ``segments``, with their converters' text."""
        found = []
        table = self._candidates.get(count)
        if table is not None:
            candidates = table.get(segments[1])
            for pattern in table[None] if candidates is None else candidates:
                values = pattern.values(segments)
                if values is not None:
                    found.append((pattern, values))
        return found

    def match(self, path: str, method: str) -> tuple[Rule, dict[str, t.Any]] | None:
        """The rule and converted values werkzeug would return for an HTTP request, or ``None``
        when werkzeug must answer (no match, several possible, a redirect, 405, a converter
        refusing the value)."""
        segments = path.split("/")
        count = len(segments)
        if count < 2:
            return None
        found = self._fitting(segments, count)
        if self._final:
            found += self._fitting(segments, _FINAL)
        if not found:
            return None
        slashed = count + 1 in self._slashed_counts and not path.endswith("/")
        if slashed and self._fitting([*segments, ""], count + 1):
            return None  # werkzeug may redirect to the path with a slash
        if len(found) > 1:
            shape = found[0][0].rule._parts
            if any(other.rule._parts != shape for other, _values in found[1:]):
                return None  # different rules fit: which one wins is werkzeug's order
        for pattern, values in found:  # same shape: werkzeug takes the first that allows method
            rule = pattern.rule
            if not rule.websocket and (rule.methods is None or method in rule.methods):
                try:
                    return rule, pattern.convert(values)
                except ValidationError:  # werkzeug's answer to that is a 404
                    return None
        return None


def _candidates(
    by_first: dict[str | None, list[_Pattern]],
) -> dict[str | None, tuple[_Pattern, ...]]:
    starting_with_converter = tuple(by_first.get(None, ()))
    table: dict[str | None, tuple[_Pattern, ...]] = {
        first: (*patterns, *starting_with_converter)
        for first, patterns in by_first.items()
        if first is not None
    }
    table[None] = starting_with_converter
    return table


def _changes_matching(rule: Rule) -> bool:
    return bool(
        rule.defaults
        or rule.redirect_to is not None
        or rule.alias
        or not rule.strict_slashes
        or not rule.merge_slashes
        or rule.subdomain
        or rule.host
    )


def _compile(rule: Rule) -> _Pattern | None:
    tests: list[_Test] = []
    final = False
    for part in rule._parts[1:]:  # the first part is the host's
        if part.suffixed:
            return None
        if part.static:
            tests.append((part.content, None, ()))
            continue
        pattern = re.compile(part.content)
        names = sorted(
            (name for name in pattern.groupindex if name.startswith("__werkzeug_")),
            key=lambda name: int(name[11:]),
        )
        tests.append((None, pattern, tuple(names)))
        final = part.final
    if sum(len(names) for _literal, _pattern, names in tests) != len(rule._converters):
        return None
    return _Pattern(rule, tests, final)
