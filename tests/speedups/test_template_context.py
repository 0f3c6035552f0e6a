"""A template's render context (``erlen._speedups.template_context``) is the one Jinja2's own
``Template.new_context`` makes, for any globals of the environment and the template, any
variables, and the calls that fall back to Jinja2."""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import DictLoader, Environment, Template
from jinja2.runtime import Context

from erlen._speedups.template_context import FastContextTemplate

names = st.sampled_from(["a", "b", "items", "range", "url_for", "config", "x_1"])
values = st.one_of(st.integers(), st.text(max_size=5), st.none())
namespaces = st.dictionaries(names, values, max_size=5)


class Ours(Environment):
    template_class = FastContextTemplate


class CustomContext(Context):
    pass


def _state(context: Context) -> tuple[t.Any, ...]:
    return (
        list(context.parent.items()),  # the order too: templates may iterate it
        context.globals_keys,
        context.vars,
        context.exported_vars,
        context.name,
        # (each template has its own block functions: compared by name)
        {name: [block.__name__ for block in blocks] for name, blocks in context.blocks.items()},
        context.eval_ctx.autoescape,
        type(context),
    )


def _pair(source: str, env_globals: dict[str, t.Any], own: dict[str, t.Any]) -> list[Template]:
    """The same template from an upstream environment and from ours."""
    templates = []
    for environment_class in (Environment, Ours):
        environment = environment_class(loader=DictLoader({"page.html": source}), autoescape=True)
        environment.globals.update(env_globals)
        templates.append(environment.get_template("page.html", globals=own))
    assert type(templates[1]) is FastContextTemplate
    return templates


SOURCE = "{% block body %}{{ a }}|{{ b }}|{{ items }}{% endblock %}"


@settings(max_examples=300, derandomize=True)
@given(env_globals=namespaces, own=namespaces, variables=st.one_of(st.none(), namespaces))
def test_context_as_jinja2_makes_it(
    env_globals: dict[str, t.Any], own: dict[str, t.Any], variables: dict[str, t.Any] | None
) -> None:
    theirs, ours = _pair(SOURCE, env_globals, own)
    copy = None if variables is None else dict(variables)
    assert _state(ours.new_context(copy)) == _state(theirs.new_context(variables))
    rendered = [template.render(variables or {}) for template in (theirs, ours)]
    assert rendered[0] == rendered[1]


def test_later_changes_to_the_globals_are_seen() -> None:
    theirs, ours = _pair(SOURCE, {"a": 1}, {"b": 2})
    for template in (theirs, ours):
        template.environment.globals["a"] = "changed"
        template.globals["items"] = "own"
    assert ours.render() == theirs.render() == "changed|2|own"


@pytest.mark.parametrize("case", ["shared", "locals", "context class", "globals replaced"])
def test_other_calls_are_jinja2s(case: str) -> None:
    theirs, ours = _pair(SOURCE, {"a": 1}, {"b": 2})
    arguments: dict[str, t.Any] = {"vars": {"items": 3}}
    if case == "shared":
        arguments["shared"] = True
    elif case == "locals":
        arguments["locals"] = {"l_0_a": "local"}
    for template in (theirs, ours):
        if case == "context class":
            template.environment.context_class = CustomContext
        elif case == "globals replaced":
            template.globals = {"a": "plain dict"}
    contexts = [template.new_context(**arguments) for template in (theirs, ours)]
    assert _state(contexts[1]) == _state(contexts[0])


def test_a_name_that_is_not_a_string_is_refused_as_jinja2_refuses_it() -> None:
    theirs, ours = _pair(SOURCE, {}, {})
    for template in (theirs, ours):
        with pytest.raises(TypeError):
            template.new_context({1: "one"})  # type: ignore[dict-item]
