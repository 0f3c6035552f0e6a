"""A template's render context, made without walking Jinja2's chain of globals twice.

Upstream: ``jinja2.Template.new_context(vars, shared, locals)``. Jinja2 chains a template's own
globals onto the environment's in a ``collections.ChainMap``; each render copies the chain into
a dict with the variables (``dict(globals, **vars)``) and then into a set of its names (in
``Context.__init__``), and a ``ChainMap`` is walked by Python-level ``__iter__`` and
``__getitem__`` calls, one per name: with the globals of an app (Jinja2's six, erlen's five and
the app's own) that costs more than rendering a small template. Here the chain's two dicts are
merged by the dict type itself, into the same dict and the same set.

Used for the chain Jinja2 makes (two dicts), jinja2's own ``Context`` class and a render's
context (not shared, no locals: what ``render``, ``generate`` and ``stream`` ask for); anything
else is upstream's. Variables must be named by strings, as upstream requires.
"""

from __future__ import annotations

import typing as t
from collections import ChainMap
from collections.abc import Mapping

from jinja2 import Template
from jinja2.runtime import Context


class FastContextTemplate(Template):
    """A Jinja2 template whose :meth:`new_context` merges the globals with the dict type."""

    def new_context(
        self,
        vars: dict[str, t.Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, t.Any] | None = None,
    ) -> Context:
        environment = self.environment
        chain = self.globals
        if (
            shared
            or locals
            or type(chain) is not ChainMap
            or len(chain.maps) != 2
            or environment.context_class is not Context
        ):
            return super().new_context(vars, shared, locals)
        own, inherited = chain.maps
        if type(own) is not dict or type(inherited) is not dict:
            return super().new_context(vars, shared, locals)
        parent = {**inherited, **own}
        if vars:
            parent.update(**vars)  # (keywords: a name that is not a string is a TypeError)
        context = Context(environment, parent, self.name, self.blocks)
        context.globals_keys = inherited.keys() | own.keys()
        return context
