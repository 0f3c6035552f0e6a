"""The click groups: :class:`AppGroup` (``app.cli``, ``bp.cli``) and :class:`ErlenGroup`, the
``erlen`` command with its options (``--app``, ``--env-file``, ``--debug``, ``--version``)."""

from __future__ import annotations

import os
import sys
import traceback
import typing as t
from collections.abc import Callable
from importlib.metadata import entry_points
from importlib.metadata import version as distribution_version

import click

from ..config import get_load_dotenv
from ..ctx import has_app_context
from ..flask_compat import is_installed as flask_alias_installed
from ..globals import current_app
from .commands import deploy_check_command, routes_command, run_command, shell_command
from .discovery import NoAppException
from .env_files import load_dotenv
from .script_info import ScriptInfo, with_appcontext

if t.TYPE_CHECKING:
    from ..app import Erlen


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

    @t.overload
    def group(self, __func: Callable[..., t.Any]) -> click.Group: ...

    @t.overload
    def group(
        self, *args: t.Any, **kwargs: t.Any
    ) -> Callable[[Callable[..., t.Any]], click.Group]: ...

    def group(
        self, *args: t.Any, **kwargs: t.Any
    ) -> Callable[[Callable[..., t.Any]], click.Group] | click.Group:
        """Like :meth:`click.Group.group`, making an :class:`AppGroup` by default."""
        kwargs.setdefault("cls", AppGroup)
        made: Callable[[Callable[..., t.Any]], click.Group] | click.Group
        made = super().group(*args, **kwargs)
        return made


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
