"""The ``erlen`` command: finds the app, loads ``.env`` files and runs click commands.

Built in: ``erlen run`` (the development server), ``erlen routes`` and ``erlen shell``. An app
adds its own with ``@app.cli.command()``, a blueprint with ``@bp.cli.command()``, an installed
package through the ``erlen.commands`` entry point group.

This module imports click; ``import erlen`` does not import it (``app.cli`` is created on first
use).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
import os
import re
import sys
import traceback
import typing as t
from collections.abc import Callable
from importlib.metadata import entry_points
from importlib.metadata import version as distribution_version

import click
from click.testing import CliRunner, Result

from .config import environ_setting, get_debug_flag, get_load_dotenv
from .ctx import has_app_context
from .deploy_checks import run_checks
from .flask_compat import is_installed as flask_alias_installed
from .globals import current_app

if t.TYPE_CHECKING:
    from .app import Erlen

F = t.TypeVar("F", bound=Callable[..., t.Any])

#: Module names tried, in order, when neither ``--app`` nor ``ERLEN_APP`` names the app.
DEFAULT_MODULES = ("wsgi", "app")
#: Attribute names checked first for an app, then for a factory.
APP_NAMES = ("app", "application")
FACTORY_NAMES = ("create_app", "make_app")


def _is_app(value: object) -> t.TypeGuard[Erlen]:
    """Whether ``value`` is an :class:`~erlen.Erlen` application. The CLI imports the app module
    only for typing (the app imports the CLI's groups): an app can exist only once that module
    is loaded, so it is looked up there."""
    app_module = sys.modules.get("erlen.app")
    return app_module is not None and isinstance(value, app_module.Erlen)


class NoAppException(click.ClickException):
    """The app could not be found or loaded; click prints the message as one ``Error:`` line."""


# --- finding the app ---------------------------------------------------------------------------


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
        if _is_app(value):
            return value
    found = {id(value): value for value in vars(module).values() if _is_app(value)}
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        names = ", ".join(sorted(key for key, value in vars(module).items() if _is_app(value)))
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
    if not _is_app(value):
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
    if not _is_app(app):
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


class ScriptInfo:
    """What the ``erlen`` command knows about the app to load; commands receive it as click's
    context object (``click.get_current_context().obj``)."""

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[[], Erlen] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        #: The ``--app`` value; ``ERLEN_APP`` is read when this is ``None``.
        self.app_import_path = app_import_path
        #: A function returning the app, used instead of the import path.
        self.create_app = create_app
        #: Free storage for commands and extensions.
        self.data: dict[t.Any, t.Any] = {}
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = load_dotenv_defaults
        self._loaded_app: Erlen | None = None

    def load_app(self) -> Erlen:
        """Find, import and return the app (once; later calls return the same app)."""
        if self._loaded_app is not None:
            return self._loaded_app
        if self.create_app is not None:
            app = self.create_app()
            if not _is_app(app):
                raise NoAppException(
                    "create_app did not return an Erlen application (it returned an object of"
                    f" type {type(app).__name__!r})."
                )
        else:
            import_path = self.app_import_path or environ_setting("APP")
            app = load_app_from_import_path(import_path) if import_path else load_default_app()
        if self.set_debug_flag and environ_setting("DEBUG") is not None:
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run the decorated click callback inside the app's context, loading the app if no app
    context is active. ``app.cli.command()`` applies it by default."""

    @functools.wraps(f)
    def in_app_context(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if not has_app_context():
            ctx = click.get_current_context()
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return f(*args, **kwargs)

    return t.cast(F, in_app_context)


# --- groups ------------------------------------------------------------------------------------


class AppGroup(click.Group):
    """A click group whose commands run in the app context (unless registered with
    ``with_appcontext=False``) and whose subgroups are also ``AppGroup``s."""

    # Typed like click's own overloads, so that a command stays typed under mypy --strict.
    @t.overload
    def command(self, __func: Callable[..., t.Any]) -> click.Command: ...

    @t.overload
    def command(
        self, *args: t.Any, **kwargs: t.Any
    ) -> Callable[[Callable[..., t.Any]], click.Command]: ...

    def command(
        self, *args: t.Any, **kwargs: t.Any
    ) -> Callable[[Callable[..., t.Any]], click.Command] | click.Command:
        """Like :meth:`click.Group.command`; ``with_appcontext=False`` skips the app context."""
        if args and callable(args[0]):  # used bare: @app.cli.command
            register: Callable[[Callable[..., t.Any]], click.Command]
            register = self.command(*args[1:], **kwargs)
            return register(args[0])
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: Callable[..., t.Any]) -> click.Command:
            register = click.Group.command(self, *args, **kwargs)
            return t.cast(click.Command, register(with_appcontext(f) if wrap else f))

        return decorator

    def group(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Like :meth:`click.Group.group`, making an :class:`AppGroup` by default."""
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Load ``.flaskenv``, ``.erlenenv`` then ``.env`` from the current folder, then ``path``,
    into ``os.environ``; later files win, variables already set are kept. Needs python-dotenv
    (without it nothing is loaded and this returns ``False``). Returns whether a file was read.
    """
    try:
        import dotenv
    except ImportError:
        return False
    files: list[str | os.PathLike[str]] = (
        [".flaskenv", ".erlenenv", ".env"] if load_defaults else []
    )
    if path is not None:
        files.append(path)
    values: dict[str, str] = {}
    loaded = False
    for file in files:
        if os.path.isfile(file):
            loaded = True
            values.update((k, v) for k, v in dotenv.dotenv_values(file).items() if v is not None)
    for key, value in values.items():
        os.environ.setdefault(key, value)
    return loaded


def _env_file_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    info = ctx.ensure_object(ScriptInfo)
    defaults = get_load_dotenv(info.load_dotenv_defaults)
    if value is not None:
        try:
            import dotenv  # noqa: F401
        except ImportError:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file.", ctx=ctx, param=param
            ) from None
    if value is not None or defaults:
        load_dotenv(value, load_defaults=defaults)


def _app_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(ScriptInfo).app_import_path = value


def _debug_callback(ctx: click.Context, param: click.Parameter, value: bool | None) -> None:
    if value is not None:  # the app reads it when loaded, and so does an app factory
        os.environ["ERLEN_DEBUG"] = "1" if value else "0"


def get_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """The ``--version`` option's callback: print the Python, erlen and Werkzeug versions."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(
        f"Python {sys.version.split()[0]}\n"
        f"erlen {distribution_version('erlen')}\n"
        f"Werkzeug {distribution_version('werkzeug')}"
    )
    ctx.exit()


#: The ``--version`` option of the ``erlen`` command.
version_option = click.Option(
    ["--version"],
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=get_version,
    help="Show the Python, erlen and Werkzeug versions.",
)


def _group_params() -> list[click.Parameter]:
    return [
        click.Option(
            ["-e", "--env-file"],
            type=click.Path(exists=True, dir_okay=False),
            is_eager=True,
            expose_value=False,
            callback=_env_file_callback,
            help="Load environment variables from this file (after .erlenenv and .env)."
            " Needs python-dotenv.",
        ),
        click.Option(
            ["-A", "--app"],
            metavar="IMPORT",
            is_eager=True,
            expose_value=False,
            allow_from_autoenv=False,  # ScriptInfo reads ERLEN_APP when it loads the app
            callback=_app_callback,
            help="The app to load: 'module', 'module:name' or 'module:create_app(\"arg\")'."
            " Default: ERLEN_APP, else wsgi.py or app.py in the current folder.",
        ),
        click.Option(
            ["--debug/--no-debug"],
            default=None,
            expose_value=False,
            allow_from_autoenv=False,  # ScriptInfo reads ERLEN_DEBUG when it loads the app
            callback=_debug_callback,
            help="Set debug mode (ERLEN_DEBUG).",
        ),
        version_option,
    ]


class ErlenGroup(AppGroup):
    """The ``erlen`` command group: adds the app's own commands (``app.cli``), the built-in
    ``run``, ``shell`` and ``routes`` and the ``erlen.commands`` plugins, and the ``--app``,
    ``--env-file`` and ``--debug`` options. Every option can be set as ``ERLEN_<COMMAND>_<OPTION>``
    (``ERLEN_RUN_PORT``)."""

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[[], Erlen] | None = None,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        extra["params"] = [*(extra.get("params") or ()), *_group_params()]
        settings = extra.setdefault("context_settings", {})
        settings.setdefault("auto_envvar_prefix", "ERLEN")
        super().__init__(**extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        self._plugins_loaded = False
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)
            self.add_command(deploy_check_command)

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        groups = ["erlen.commands"]
        if flask_alias_installed():  # Flask extensions' commands import flask
            groups.append("flask.commands")
        for group in groups:
            for entry_point in entry_points(group=group):
                self.add_command(entry_point.load(), entry_point.name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugin_commands()
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException as error:
            # Say why the app's commands are missing; click then reports the unknown command.
            click.echo(f"Error: {error.format_message()}\n", err=True)
            return None
        if not has_app_context() or current_app._get_current_object() is not app:  # type: ignore[attr-defined]
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        try:
            names.update(ctx.ensure_object(ScriptInfo).load_app().cli.list_commands(ctx))
        except NoAppException as error:
            # Help still lists the built-in commands; say why the app's are missing.
            click.echo(f"Error: {error.format_message()}\n", err=True)
        except Exception:
            click.echo(f"{traceback.format_exc()}\n", err=True)
        return sorted(names)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)


def register_blueprint_commands(app: Erlen, group: AppGroup, cli_group: str | None) -> None:
    """Add a blueprint's command group to ``app.cli``: as the subgroup ``cli_group``, or merged
    into the app's group when ``cli_group`` is ``None``. Does nothing for an empty group."""
    if not group.commands:
        return
    if cli_group is None:
        app.cli.commands.update(group.commands)
        return
    group.name = cli_group
    app.cli.add_command(group)


# --- built-in commands -------------------------------------------------------------------------


class CertParamType(click.ParamType):  # type: ignore[type-arg]
    """``--cert``: a certificate file, ``adhoc`` (a throwaway certificate; needs the
    cryptography package) or the import string of an :class:`ssl.SSLContext`."""

    name = "path"

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        try:
            import ssl
        except ImportError:
            self.fail("'--cert' needs a Python built with SSL support.", param, ctx)
        if isinstance(value, ssl.SSLContext) or os.path.isfile(value):
            return value
        if value == "adhoc":
            try:
                importlib.import_module("cryptography")
            except ImportError:
                self.fail(
                    "Using ad-hoc certificates requires the cryptography library.", param, ctx
                )
            return value
        from werkzeug.utils import import_string

        try:
            context = import_string(value, silent=True)
        except Exception:
            context = None
        if isinstance(context, ssl.SSLContext):
            return context
        self.fail(
            f"{value!r} is not a certificate file, 'adhoc' or an SSLContext import string.",
            param,
            ctx,
        )


def _cert_and_key(ctx: click.Context, param: click.Parameter, key: str | None) -> str | None:
    """The ``--key`` callback: check it against ``--cert`` (parsed first, being eager) and
    put ``run_simple``'s ``ssl_context`` argument in the ``cert`` parameter."""
    import ssl

    cert = ctx.params.get("cert")
    single = cert == "adhoc" or isinstance(cert, ssl.SSLContext)
    if key is None:
        if cert is not None and not single:
            raise click.BadParameter('"--cert" needs "--key" too.', ctx, param)
        return None
    if cert is None:
        raise click.BadParameter('"--key" needs "--cert" too.', ctx, param)
    if single:
        raise click.BadParameter(
            '"--key" is only for a certificate file, not "adhoc" or an SSLContext.', ctx, param
        )
    ctx.params["cert"] = (cert, key)
    return key


class SeparatedPathType(click.Path):
    """A list of paths separated like ``PATH`` (``:``; ``;`` on Windows)."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        items = self.split_envvar_value(value) if isinstance(value, str) else value
        return [super(SeparatedPathType, self).convert(item, param, ctx) for item in items]


@click.command("run", short_help="Run the development server.")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="The interface.")
@click.option("--port", "-p", default=5000, show_default=True, help="The port.")
@click.option(
    "--cert",
    type=CertParamType(),
    is_eager=True,
    help="A certificate file, or 'adhoc', for HTTPS.",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_cert_and_key,
    expose_value=False,
    help="The key file of --cert.",
)
@click.option(
    "--debug/--no-debug", default=None, help="Debug mode (default: ERLEN_DEBUG or --debug)."
)
@click.option(
    "--reload/--no-reload", default=None, help="Restart on code changes (default: debug mode)."
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help="Show the interactive debugger on errors (default: debug mode).",
)
@click.option("--with-threads/--without-threads", default=True, help="One thread per request.")
@click.option(
    "--extra-files",
    default=None,
    type=SeparatedPathType(),
    help=f"More files the reloader watches, separated by {os.path.pathsep!r}.",
)
@click.option(
    "--exclude-patterns",
    default=None,
    type=SeparatedPathType(),
    help=f"fnmatch patterns of files the reloader ignores, separated by {os.path.pathsep!r}.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    cert: t.Any,
    debug: bool | None,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    """Serve the app on a development server (not for production: use a WSGI or ASGI server
    there): werkzeug's, or uvicorn's for an app with WebSocket routes or with ERLEN_RUN_ASGI=1
    (pip install 'erlen[server]'). Debug mode turns on the reloader, and the debugger under
    werkzeug."""
    from .devserver import is_running_from_reloader, run_server

    # werkzeug's server, or uvicorn for an app with WebSocket routes (see erlen.devserver).
    if debug is not None:
        os.environ["ERLEN_DEBUG"] = "1" if debug else "0"
    app = info.load_app()
    if debug is not None:
        app.debug = debug
    debug = app.debug
    if not is_running_from_reloader():  # once, not again in each reloaded process
        show_server_banner(debug, app.name)
    run_server(
        app,
        host,
        port,
        use_reloader=debug if reload is None else reload,
        use_debugger=debug if debugger is None else debugger,
        threaded=with_threads,
        ssl_context=cert,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
    )


def show_server_banner(debug: bool, app_import_path: str | None) -> None:
    """Print which app the development server serves and whether debug mode is on."""
    if app_import_path is not None:
        click.echo(f" * Serving erlen app {app_import_path!r}")
    click.echo(f" * Debug mode: {'on' if debug else 'off'}")


@click.command("shell", short_help="Run a Python shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Start an interactive Python shell with ``app``, ``g`` and the app's shell context
    processors' names preloaded, in an app context."""
    import code

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    namespace: dict[str, t.Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup) as file:
            exec(compile(file.read(), startup, "exec"), namespace)
    namespace.update(app.make_shell_context())
    hook = getattr(sys, "__interactivehook__", None)
    if hook is not None and sys.stdin.isatty():  # history and tab completion, like `python`
        hook()
        try:
            import readline
            from rlcompleter import Completer

            readline.set_completer(Completer(namespace).complete)
        except ImportError:
            pass
    banner = (
        f"Python {sys.version.split()[0]} on {sys.platform}\n"
        f"App: {app.name} (import name {app.import_name!r})\n"
        f"Instance: {app.instance_path}"
    )
    code.interact(banner=banner, local=namespace, exitmsg="")


_SORT_KEYS: dict[str, Callable[[t.Any], t.Any]] = {
    "endpoint": lambda rule: rule.endpoint,
    "methods": lambda rule: sorted(rule.methods or ()),
    "rule": lambda rule: rule.rule,
}


@click.command("routes", short_help="Show the app's routes.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "rule", "match")),
    default="endpoint",
    show_default=True,
    help="Sort by this column; 'match' keeps the order the rules were added in.",
)
@click.option("--all-methods", is_flag=True, help="Also show HEAD and OPTIONS.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show the URL rules: endpoint, methods and rule (and host or subdomain, when used)."""
    rules = list(current_app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    if sort != "match":
        rules.sort(key=_SORT_KEYS[sort])
    hidden = set() if all_methods else {"HEAD", "OPTIONS"}
    headers = ["Endpoint", "Methods"]
    if current_app.url_map.host_matching:
        headers.append("Host")
    elif any(rule.subdomain for rule in rules):
        headers.append("Subdomain")
    headers.append("Rule")
    rows = []
    for rule in rules:
        row = [rule.endpoint, ", ".join(sorted(set(rule.methods or ()) - hidden))]
        if len(headers) == 4:
            row.append((rule.host if current_app.url_map.host_matching else rule.subdomain) or "")
        rows.append([*row, rule.rule])
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * width for width in widths], *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@click.command("deploy-check", short_help="List unsafe or missing production settings.")
@click.option(
    "--fail-on-warning", is_flag=True, help="Exit with status 1 on warnings too, not only errors."
)
@with_appcontext
def deploy_check_command(fail_on_warning: bool) -> None:
    """List the production settings the app lacks or sets unsafely (secret key, debug mode,
    trusted hosts, proxies, cookie flags, HSTS, CSP, limits). Run it with production's
    configuration; exits with status 1 when a finding is an error."""
    findings = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    for finding in findings:
        click.echo(str(finding))
    levels = {finding.level for finding in findings}
    if not findings:
        click.echo("No issues found.")
    if "error" in levels or (fail_on_warning and "warning" in levels):
        raise SystemExit(1)


# --- the console script and the test runner ----------------------------------------------------

cli = ErlenGroup(
    name="erlen",
    help="""\
Run commands of an erlen application.

The app is found with '--app', the ERLEN_APP variable, or a 'wsgi.py' or 'app.py' file in the
current folder. .erlenenv and .env files there are loaded if python-dotenv is installed.
""",
)


def main() -> None:
    """The ``erlen`` console script. With ``ERLEN_FLASK_ALIAS=1``, ``import flask`` resolves
    to erlen first (see :mod:`erlen.flask_alias`), so a Flask app and its extensions' commands
    (``erlen db upgrade`` of Flask-Migrate) run on erlen."""
    alias = os.environ.get("ERLEN_FLASK_ALIAS", "")
    if alias and alias.lower() not in ("0", "false", "no"):
        import erlen.flask_alias  # noqa: F401 (importing it turns the alias on)
    cli.main()


class ErlenCliRunner(CliRunner):
    """A click :class:`~click.testing.CliRunner` for an app (from :meth:`Erlen.test_cli_runner`):
    ``invoke`` runs ``app.cli`` by default, with a :class:`ScriptInfo` that loads this app."""

    def __init__(self, app: Erlen, **kwargs: t.Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: click.Command | None = None, args: t.Any = None, **kwargs: t.Any
    ) -> Result:
        """Invoke ``cli`` (default: ``app.cli``) with ``args``; other arguments are click's."""
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, **kwargs)
