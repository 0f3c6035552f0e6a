"""The flask alias, and Flask's public names in erlen's modules.

The alias changes what ``import flask`` means for the whole process, so each test that turns it
on runs its code in a fresh interpreter (this one may have imported the real Flask).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from erlen.flask_compat import ERLEN_MODULES, RENAMED

SRC = str(Path(__file__).resolve().parents[1] / "src")

#: Flask's public names erlen leaves out on purpose, by module, with the reason.
DELIBERATE_GAPS: dict[str, dict[str, str]] = {}


def run_python(code: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, str(cwd or "")]), **env}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=environment,
        check=False,
    )


def test_import_flask_gives_erlen() -> None:
    result = run_python(
        """
        import erlen.flask_alias
        import flask, erlen
        from flask import Flask, request, session, g, Blueprint
        from flask.globals import request_ctx, app_ctx
        from flask.testing import FlaskClient
        from flask.json.tag import TaggedJSONSerializer
        import flask.sessions
        assert Flask is erlen.Erlen and request is erlen.request and Blueprint is erlen.Blueprint
        assert FlaskClient is erlen.testing.ErlenClient
        import erlen.sessions as sessions
        assert flask.sessions.SecureCookieSessionInterface is sessions.SecureCookieSessionInterface
        assert TaggedJSONSerializer is erlen.json.tag.TaggedJSONSerializer
        import sys
        real = [name for name, module in sys.modules.items()
                if name.split(".")[0] == "flask" and getattr(module, "__file__", "") and
                "site-packages" in (module.__file__ or "")]
        assert not real, real
        app = Flask("aliased")
        app.config["SECRET_KEY"] = "a-secret-key-that-is-long-enough-0123456789"

        @app.route("/")
        def index():
            session["n"] = 1
            return f"{type(app).__name__} {request.path}"

        for asgi in (False, True):
            assert app.test_client(asgi=asgi).get("/").data == b"Erlen /"
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_setting_a_name_through_the_alias_sets_it_on_erlen() -> None:
    """What a test's monkeypatch.setattr(flask.cli, ...) relies on."""
    result = run_python(
        """
        import erlen.flask_alias
        import flask.cli, erlen.cli
        original = erlen.cli.load_dotenv
        flask.cli.load_dotenv = "patched"
        assert erlen.cli.load_dotenv == "patched"
        flask.cli.load_dotenv = original
        assert erlen.cli.load_dotenv is original
        flask.Flask.some_attribute = 1  # a class attribute set through a renamed name
        assert erlen.Erlen.some_attribute == 1
        print(sorted(name for name in dir(flask) if name in ("Flask", "request")))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['Flask', 'request']"


def test_without_the_alias_flask_is_flask() -> None:
    result = run_python("import flask, erlen; print(flask.Flask is erlen.Erlen)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_alias_refuses_a_process_that_loaded_flask() -> None:
    result = run_python("import flask\nimport erlen.flask_alias")
    assert result.returncode == 1
    assert "Flask is already imported" in result.stderr


def test_a_module_flask_lacks_is_still_missing() -> None:
    result = run_python(
        """
        import erlen.flask_alias
        try:
            import flask.no_such_module
        except ModuleNotFoundError as error:
            print(error.name)
        """
    )
    assert result.stdout.strip() == "flask.no_such_module", result.stderr


def test_erlen_command_with_the_alias_loads_flask_app_and_flask_commands(tmp_path: Path) -> None:
    """ERLEN_FLASK_ALIAS=1 erlen: FLASK_APP is read and flask.commands entry points load."""
    (tmp_path / "flaskapp.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n"
        "@app.cli.command('hello')\ndef hello():\n    print('hello from', type(app).__name__)\n"
    )
    (tmp_path / "plugin_cmd.py").write_text(
        "import click\nfrom flask.cli import with_appcontext\nfrom flask import current_app\n"
        "@click.command('plugin')\n@with_appcontext\n"
        "def plugin():\n    print('plugin on', current_app.name)\n"
    )
    dist = tmp_path / "plugin_cmd-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-cmd\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[flask.commands]\nplugin = plugin_cmd:plugin\n")
    run = "from erlen.cli import main; main()"
    hello = run_python(run, cwd=tmp_path, FLASK_APP="flaskapp", ERLEN_FLASK_ALIAS="1")
    assert hello.returncode == 2  # no command given: click's usage
    for command, expected in (("hello", "hello from Erlen"), ("plugin", "plugin on flaskapp")):
        code = f"import sys; sys.argv = ['erlen', {command!r}]; {run}"
        result = run_python(code, cwd=tmp_path, FLASK_APP="flaskapp", ERLEN_FLASK_ALIAS="1")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected
    code = f"import sys; sys.argv = ['erlen', 'plugin']; {run}"
    without_alias = run_python(code, cwd=tmp_path, FLASK_APP="flaskapp")
    assert "No such command 'plugin'" in without_alias.stderr  # not loaded without the alias


def _flask_public_names(module: str) -> set[str]:
    """The names a Flask module defines (functions, classes, assignments other than type
    variables) or, for a package, re-exports; read from its source, without importing it."""
    spec = importlib.util.find_spec(module)
    assert spec is not None
    if spec.origin is None:  # a namespace package: no names of its own
        return set()
    tree = ast.parse(Path(spec.origin).read_text())
    package = spec.origin.endswith("__init__.py")
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            value = node.value
            is_typevar = (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "TypeVar"
            )
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not is_typevar:
                names.update(target.id for target in targets if isinstance(target, ast.Name))
        elif package and isinstance(node, ast.ImportFrom) and node.level >= 1:
            names.update(alias.asname or alias.name for alias in node.names)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("flask_module", sorted(ERLEN_MODULES))
def test_erlen_has_flasks_public_names(flask_module: str) -> None:
    pytest.importorskip("flask")
    if importlib.util.find_spec(flask_module) is None:
        pytest.skip(f"{flask_module} is not in the installed Flask")
    module = importlib.import_module(ERLEN_MODULES[flask_module])
    renamed = RENAMED.get(flask_module, {})
    gaps = DELIBERATE_GAPS.get(flask_module, {})
    missing = {
        name
        for name in _flask_public_names(flask_module)
        if name not in gaps and not hasattr(module, renamed.get(name, name))
    }
    assert not missing, f"{module.__name__} lacks Flask's {sorted(missing)}"
