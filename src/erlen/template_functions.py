"""Registering the functions of the app's templates: filters, tests and globals, by decorator
(``@app.template_filter``, bare or called, with or without a name) or by a call
(``app.add_template_filter(f)``). Blueprints register theirs for the whole app through these.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable

from .scaffold import setupmethod

if t.TYPE_CHECKING:
    from .templating import Environment

T_template_function = t.TypeVar("T_template_function", bound=Callable[..., t.Any])


class TemplateFunctions:
    """The template-function registration of :class:`~erlen.Erlen`."""

    if t.TYPE_CHECKING:

        @property
        def jinja_env(self) -> Environment: ...

    def _template_registrar(
        self, kind: str, name: str | Callable[..., t.Any] | None
    ) -> Callable[..., t.Any]:
        # The decorator forms of add_template_filter/test/global; usable as @app.template_x,
        # @app.template_x() and @app.template_x("name").
        def register(f: T_template_function) -> T_template_function:
            getattr(self.jinja_env, kind)[f.__name__ if not isinstance(name, str) else name] = f
            return f

        return register(name) if callable(name) else register

    @t.overload
    def template_filter(self, name: T_template_function) -> T_template_function: ...

    @t.overload
    def template_filter(
        self, name: str | None = None
    ) -> Callable[[T_template_function], T_template_function]: ...

    @setupmethod
    def template_filter(
        self, name: str | T_template_function | None = None
    ) -> T_template_function | Callable[[T_template_function], T_template_function]:
        """Register a Jinja filter: ``@app.template_filter``, ``()`` or ``("name")``."""
        return self._template_registrar("filters", name)

    @setupmethod
    def add_template_filter(self, f: Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja filter under ``name`` (default: the function's name)."""
        self._template_registrar("filters", name)(f)

    @t.overload
    def template_test(self, name: T_template_function) -> T_template_function: ...

    @t.overload
    def template_test(
        self, name: str | None = None
    ) -> Callable[[T_template_function], T_template_function]: ...

    @setupmethod
    def template_test(
        self, name: str | T_template_function | None = None
    ) -> T_template_function | Callable[[T_template_function], T_template_function]:
        """Register a Jinja test: ``@app.template_test``, ``()`` or ``("name")``."""
        return self._template_registrar("tests", name)

    @setupmethod
    def add_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """Register a Jinja test under ``name`` (default: the function's name)."""
        self._template_registrar("tests", name)(f)

    @t.overload
    def template_global(self, name: T_template_function) -> T_template_function: ...

    @t.overload
    def template_global(
        self, name: str | None = None
    ) -> Callable[[T_template_function], T_template_function]: ...

    @setupmethod
    def template_global(
        self, name: str | T_template_function | None = None
    ) -> T_template_function | Callable[[T_template_function], T_template_function]:
        """Make a function available in every template: ``@app.template_global()``."""
        return self._template_registrar("globals", name)

    @setupmethod
    def add_template_global(self, f: Callable[..., t.Any], name: str | None = None) -> None:
        """Make ``f`` available in every template under ``name``."""
        self._template_registrar("globals", name)(f)
