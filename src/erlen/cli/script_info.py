"""What the ``erlen`` command knows about the app (:class:`ScriptInfo`), and running a command
in the app's context (:func:`with_appcontext`)."""

from __future__ import annotations

import functools
import typing as t
from collections.abc import Callable

import click

from ..config import environ_setting, get_debug_flag
from ..ctx import has_app_context
from .discovery import NoAppException, is_app, load_app_from_import_path, load_default_app

if t.TYPE_CHECKING:
    from ..app import Erlen

F = t.TypeVar("F", bound=Callable[..., t.Any])


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
            if not is_app(app):
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
