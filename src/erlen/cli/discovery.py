"""Finding the app: ``--app`` / ``ERLEN_APP`` import strings, ``wsgi.py`` or ``app.py``, and
app factories."""

from __future__ import annotations

import ast
import inspect
import os
import re
import sys
import traceback
import typing as t
from collections.abc import Callable

import click

if t.TYPE_CHECKING:
    from ..app import Erlen

#: Module names tried, in order, when neither ``--app`` nor ``ERLEN_APP`` names the app.
DEFAULT_MODULES = ("wsgi", "app")
#: Attribute names checked first for an app, then for a factory.
APP_NAMES = ("app", "application")
FACTORY_NAMES = ("create_app", "make_app")


def is_app(value: object) -> t.TypeGuard[Erlen]:
    """Whether ``value`` is an :class:`~erlen.Erlen` application. The CLI imports the app module
    only for typing (the app imports the CLI's groups): an app can exist only once that module
    is loaded, so it is looked up there."""
    app_module = sys.modules.get("erlen.app")
    return app_module is not None and isinstance(value, app_module.Erlen)


class NoAppException(click.ClickException):
    """The app could not be found or loaded; click prints the message as one ``Error:`` line."""


def prepare_import(path: str | os.PathLike[str]) -> str:
    """The module name for ``path`` (a module name, a ``.py`` file or a package folder), with
    the folder it is imported from put first on ``sys.path``."""
    path = os.fspath(path)
    if not path.endswith(".py") and not any(sep and sep in path for sep in (os.sep, os.altsep)):
        _prepend_sys_path(os.getcwd())
        return path
    location = os.path.realpath(path)
    if location.endswith(".py"):
        location = location[:-3]
    if os.path.basename(location) == "__init__":
        location = os.path.dirname(location)
    folder, name = os.path.split(location)
    parts = [name]
    while os.path.isfile(os.path.join(folder, "__init__.py")):  # climb out of packages
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    _prepend_sys_path(folder)
    return ".".join(parts)


def _prepend_sys_path(folder: str) -> None:
    if not sys.path or sys.path[0] != folder:
        sys.path.insert(0, folder)


def _module_is_missing(error: ImportError, module_name: str) -> bool:
    # Missing: the module itself (or a package on its dotted path), not something it imports.
    if not isinstance(error, ModuleNotFoundError) or error.name is None:
        return False
    return module_name == error.name or module_name.startswith(f"{error.name}.")


@t.overload
def locate_app(module_name: str, app_name: str | None) -> Erlen: ...


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool
) -> Erlen | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Erlen | None:
    """Import ``module_name`` and find the app in it: by ``app_name`` (an attribute, or a
    factory call like ``create_app("dev")``) or, without one, by :func:`find_best_app`.
    A missing module gives ``None`` when ``raise_if_not_found`` is false."""
    try:
        __import__(module_name)
    except ImportError as error:
        if _module_is_missing(error, module_name):
            if not raise_if_not_found:
                return None
            raise NoAppException(
                f"Could not import {module_name!r}: no such module in {sys.path[0]!r}"
                " or on sys.path."
            ) from None
        # An import inside the user's module failed: show where, so it can be fixed.
        raise NoAppException(
            f"While importing {module_name!r}, an ImportError was raised:\n\n"
            f"{traceback.format_exc()}"
        ) from None
    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def find_best_app(module: t.Any) -> Erlen:
    """The app in ``module``: an ``app`` or ``application`` attribute, else the only
    :class:`Erlen` instance, else what a ``create_app()`` or ``make_app()`` factory returns."""
    name = module.__name__
    for attribute in APP_NAMES:
        value = getattr(module, attribute, None)
        if is_app(value):
            return value
    found = {id(value): value for value in vars(module).values() if is_app(value)}
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        names = ", ".join(sorted(key for key, value in vars(module).items() if is_app(value)))
        raise NoAppException(
            f"Found several Erlen applications in module {name!r} ({names});"
            f" use '{name}:NAME' to pick one."
        )
    for attribute in FACTORY_NAMES:
        factory = getattr(module, attribute, None)
        if inspect.isfunction(factory):
            return _call_factory(factory, (), {}, f"{name}:{attribute}")
    raise NoAppException(
        f"Found no Erlen application or factory in module {name!r}: looked for"
        f" {', '.join(APP_NAMES + FACTORY_NAMES)} and Erlen instances."
        f" Use '{name}:NAME' to name it."
    )


def _parse_app_expression(expression: str) -> tuple[str, list[t.Any], dict[str, t.Any], bool]:
    # "name" or "factory(literal, key=literal)" -> (name, args, kwargs, is_call)
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        node = None
    if isinstance(node, ast.Name):
        return node.id, [], {}, False
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise NoAppException(
            f"Could not parse {expression!r}: expected an attribute name or a call like"
            " 'create_app()' or 'create_app(\"dev\")'."
        )
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise ValueError("** unpacking")
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
    except ValueError:
        raise NoAppException(
            f"Could not parse the arguments of {expression!r}: only literal values (strings,"
            " numbers, lists, dicts...) can be passed to an app factory."
        ) from None
    return node.func.id, args, kwargs, True


def find_app_by_string(module: t.Any, expression: str) -> Erlen:
    """The app named by ``expression`` in ``module``: an attribute, or a function called with
    the literal arguments given (``create_app``, ``create_app("dev", debug=True)``)."""
    name, args, kwargs, is_call = _parse_app_expression(expression)
    where = f"{module.__name__}:{name}"
    try:
        value = getattr(module, name)
    except AttributeError:
        raise NoAppException(f"Module {module.__name__!r} has no attribute {name!r}.") from None
    if inspect.isfunction(value):
        return _call_factory(value, args, kwargs, where)
    if is_call:
        raise NoAppException(
            f"{where!r} is not a function (its type is {type(value).__name__!r}), so it cannot"
            " be called with arguments."
        )
    if not is_app(value):
        raise NoAppException(
            f"{where!r} is not an Erlen application (its type is {type(value).__name__!r})."
        )
    return value


def _call_factory(
    factory: Callable[..., t.Any], args: t.Sequence[t.Any], kwargs: dict[str, t.Any], where: str
) -> Erlen:
    try:
        inspect.signature(factory).bind(*args, **kwargs)
    except TypeError as error:
        raise NoAppException(f"The app factory {where!r} cannot be called so: {error}.") from None
    app = factory(*args, **kwargs)  # an error inside the factory shows its traceback
    if not is_app(app):
        raise NoAppException(
            f"The app factory {where!r} did not return an Erlen application (it returned an"
            f" object of type {type(app).__name__!r})."
        )
    return app


def load_app_from_import_path(import_path: str) -> Erlen:
    """Load the app named by an ``--app`` value: ``module``, ``module:name``,
    ``module:factory(args)`` or a path to a ``.py`` file or a package."""
    parts = re.split(r":(?![\\/])", import_path, maxsplit=1)
    module_name = prepare_import(parts[0])
    return locate_app(module_name, parts[1] if len(parts) == 2 and parts[1] else None)


def load_default_app() -> Erlen:
    """The app of ``wsgi.py`` or else ``app.py`` (a module or package) in the current folder."""
    for name in DEFAULT_MODULES:
        if os.path.isfile(f"{name}.py") or os.path.isfile(os.path.join(name, "__init__.py")):
            _prepend_sys_path(os.getcwd())
            return locate_app(name, None)
    raise NoAppException(
        "Found no app to load: pass '--app module:name', set ERLEN_APP (or FLASK_APP), or add"
        " a 'wsgi.py' or 'app.py' file to the current folder."
    )
