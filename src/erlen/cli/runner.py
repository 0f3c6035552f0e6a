"""Invoking the app's commands in tests (:meth:`Erlen.test_cli_runner`)."""

from __future__ import annotations

import typing as t

import click
from click.testing import CliRunner, Result

from .script_info import ScriptInfo

if t.TYPE_CHECKING:
    from ..app import Erlen


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
