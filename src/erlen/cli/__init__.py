"""The ``erlen`` command: finds the app, loads ``.env`` files and runs click commands.

Built in: ``erlen run`` (the development server), ``erlen routes`` and ``erlen shell``. An app
adds its own with ``@app.cli.command()``, a blueprint with ``@bp.cli.command()``, an installed
package through the ``erlen.commands`` entry point group.

This module imports click; ``import erlen`` does not import it (``app.cli`` is created on first
use).
"""

from __future__ import annotations

import os

from .commands import (
    SeparatedPathType,
    deploy_check_command,
    routes_command,
    run_command,
    shell_command,
    show_server_banner,
)
from .discovery import (
    APP_NAMES,
    DEFAULT_MODULES,
    FACTORY_NAMES,
    NoAppException,
    find_app_by_string,
    find_best_app,
    load_app_from_import_path,
    load_default_app,
    locate_app,
    prepare_import,
)
from .env_files import load_dotenv
from .groups import AppGroup, ErlenGroup, get_version, register_blueprint_commands, version_option
from .runner import ErlenCliRunner
from .script_info import ScriptInfo, pass_script_info, with_appcontext
from .tls import CertParamType

__all__ = [
    "APP_NAMES",
    "DEFAULT_MODULES",
    "FACTORY_NAMES",
    "AppGroup",
    "CertParamType",
    "ErlenCliRunner",
    "ErlenGroup",
    "NoAppException",
    "ScriptInfo",
    "SeparatedPathType",
    "cli",
    "deploy_check_command",
    "find_app_by_string",
    "find_best_app",
    "get_version",
    "load_app_from_import_path",
    "load_default_app",
    "load_dotenv",
    "locate_app",
    "main",
    "pass_script_info",
    "prepare_import",
    "register_blueprint_commands",
    "routes_command",
    "run_command",
    "shell_command",
    "show_server_banner",
    "version_option",
    "with_appcontext",
]

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
