"""The ``erlen`` command: app discovery, .env files, run/routes/shell, custom commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import typing as t
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from erlen import Erlen, current_app, g
from erlen.blueprints import Blueprint
from erlen.cli import AppGroup, ErlenGroup, NoAppException, ScriptInfo, with_appcontext
from erlen.ctx import has_app_context
from erlen.testing import ErlenCliRunner

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def restore_environ() -> Iterator[None]:
    """The CLI writes ERLEN_DEBUG and .env values to os.environ: undo that after each test."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("ERLEN_")]:
        del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project folder as the current folder; modules imported from it are forgotten
    afterwards, and sys.path is restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def run_group(args: list[str], group: click.Command | None = None) -> t.Any:
    """Invoke a fresh ``erlen`` group in-process, as the console script would."""
    return CliRunner().invoke(group or ErlenGroup(name="erlen"), args)


SIMPLE_APP = """
    from erlen import Erlen
    app = Erlen(__name__)

    @app.get("/")
    def index():
        return "hello"
"""


# --- custom commands and the test runner -------------------------------------------------------


def test_cli_is_created_lazily(app: Erlen) -> None:
    assert "cli" not in app.__dict__
    assert isinstance(app.cli, AppGroup)
    assert app.cli.name == "test_app"
    assert app.cli is app.cli


def test_import_erlen_does_not_import_click() -> None:
    code = "import sys, erlen; erlen.Erlen('x'); print('click' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "False"


def test_custom_command_runs_in_app_context(app: Erlen) -> None:
    @app.cli.command()
    @click.argument("name")
    @click.option("--shout", is_flag=True)
    def greet(name: str, shout: bool) -> None:
        g.greeting = f"hello {name} from {current_app.name}"
        click.echo(g.greeting.upper() if shout else g.greeting)

    runner = app.test_cli_runner()
    assert isinstance(runner, ErlenCliRunner)
    result = runner.invoke(args=["greet", "ada"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello ada from test_app\n"
    assert runner.invoke(args=["greet", "ada", "--shout"]).output == "HELLO ADA FROM TEST_APP\n"


def test_bare_command_decorator_and_custom_name(app: Erlen) -> None:
    @app.cli.command
    def bare() -> None:
        click.echo(current_app.name)

    @app.cli.command("other-name")
    def named() -> None:
        click.echo("named")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["bare"]).output == "test_app\n"
    assert runner.invoke(args=["other-name"]).output == "named\n"


def test_command_without_app_context(app: Erlen) -> None:
    @app.cli.command(with_appcontext=False)
    def free() -> None:
        click.echo(str(has_app_context()))

    assert app.test_cli_runner().invoke(args=["free"]).output == "False\n"


def test_app_cli_group_makes_app_groups(app: Erlen) -> None:
    @app.cli.group()
    def db() -> None:
        """Database commands."""

    @db.command()
    def init() -> None:
        click.echo(f"init {current_app.name}")

    assert isinstance(db, AppGroup)
    assert app.test_cli_runner().invoke(args=["db", "init"]).output == "init test_app\n"


def test_with_appcontext_loads_the_app_from_script_info(app: Erlen) -> None:
    @click.command()
    @with_appcontext
    def which() -> None:
        click.echo(current_app.name)

    result = CliRunner().invoke(which, obj=ScriptInfo(create_app=lambda: app))
    assert result.output == "test_app\n"


def test_command_errors_exit_non_zero(app: Erlen) -> None:
    @app.cli.command()
    def fail() -> None:
        raise click.ClickException("it broke")

    result = app.test_cli_runner().invoke(args=["fail"])
    assert result.exit_code == 1
    assert "it broke" in result.output


def test_script_info_create_app_must_return_an_app() -> None:
    info = ScriptInfo(create_app=lambda: "not an app")  # type: ignore[arg-type,return-value]
    with pytest.raises(NoAppException, match="str"):
        info.load_app()


# --- routes ------------------------------------------------------------------------------------


@pytest.fixture
def routes_app() -> Erlen:
    app = Erlen("routes_app", static_folder=None)

    @app.route("/b", methods=["POST", "PUT"])
    def zeta() -> str:
        return ""

    @app.get("/c/<int:id>")
    def alpha(id: int) -> str:
        return ""

    @app.delete("/a")
    def middle() -> str:
        return ""

    return app


def routes_output(app: Erlen, *args: str) -> list[str]:
    result = app.test_cli_runner().invoke(ErlenGroup(name="erlen"), ["routes", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_routes_table(routes_app: Erlen) -> None:
    lines = routes_output(routes_app)
    assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
    assert set(lines[1]) == {"-", " "}
    rows = [line.split(None, 1) for line in lines[2:]]
    assert [row[0] for row in rows] == ["alpha", "middle", "zeta"]
    assert lines[2].split() == ["alpha", "GET", "/c/<int:id>"]
    assert lines[4].split() == ["zeta", "POST,", "PUT", "/b"]
    # The columns line up.
    assert lines[0].index("Rule") == lines[2].index("/c") == lines[4].index("/b")


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("endpoint", ["alpha", "middle", "zeta"]),
        ("rule", ["middle", "zeta", "alpha"]),
        ("methods", ["middle", "alpha", "zeta"]),
        ("match", ["zeta", "alpha", "middle"]),
    ],
)
def test_routes_sort(routes_app: Erlen, sort: str, order: list[str]) -> None:
    lines = routes_output(routes_app, "--sort", sort)
    assert [line.split()[0] for line in lines[2:]] == order


def test_routes_all_methods(routes_app: Erlen) -> None:
    assert "HEAD" not in "\n".join(routes_output(routes_app))
    lines = routes_output(routes_app, "--all-methods")
    alpha = next(line for line in lines if line.startswith("alpha"))
    assert alpha.split() == ["alpha", "GET,", "HEAD,", "OPTIONS", "/c/<int:id>"]


def test_routes_subdomain_column() -> None:
    app = Erlen("sub", static_folder=None, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    app.add_url_rule("/", "home", lambda: "", subdomain="api")
    lines = routes_output(app)
    assert lines[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert lines[2].split() == ["home", "GET", "api", "/"]


def test_routes_none_registered() -> None:
    app = Erlen("empty", static_folder=None)
    assert routes_output(app) == ["No routes were registered."]


def test_routes_bad_sort(routes_app: Erlen) -> None:
    result = routes_app.test_cli_runner().invoke(ErlenGroup(), ["routes", "--sort", "host"])
    assert result.exit_code == 2
    assert "host" in result.output


# --- shell -------------------------------------------------------------------------------------


def test_shell_preloads_app_g_and_processors(app: Erlen) -> None:
    @app.shell_context_processor
    def extra() -> dict[str, t.Any]:
        return {"answer": 42}

    assert app.make_shell_context()["answer"] == 42
    source = "print('name', app.name)\nprint('answer', answer)\ng.x = 1\nprint('g', g.x)\n"
    result = app.test_cli_runner().invoke(ErlenGroup(), ["shell"], input=source)
    assert result.exit_code == 0, result.output
    assert "App: test_app" in result.output
    assert "name test_app" in result.output
    assert "answer 42" in result.output
    assert "g 1" in result.output


# --- run ---------------------------------------------------------------------------------------


def never_loaded() -> Erlen:
    raise AssertionError("the options should have been refused before loading the app")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", __file__], '"--key" needs "--cert"'),
        (["--cert", __file__], '"--cert" needs "--key"'),
        (["--cert", "no-such-file-or-context"], "not a certificate file"),
    ],
)
def test_run_refuses_bad_tls_options(args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        ErlenGroup(), ["run", *args], obj=ScriptInfo(create_app=never_loaded)
    )
    assert result.exit_code == 2
    assert message in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("debug", "mode"), [([], "off"), (["--debug"], "on")])
def test_run_serves_the_app(project: Path, debug: list[str], mode: str) -> None:
    write(project, "served.py", SIMPLE_APP)
    port = free_port()
    command = ["--app", "served", "run", "--port", str(port), "--no-reload", *debug]
    server = subprocess.Popen(
        [str(BIN / "erlen"), *command],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        body = None
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read()
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.05)
        assert body == b"hello"
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
    assert f" * Serving erlen app 'served'\n * Debug mode: {mode}" in out


# --- app discovery -----------------------------------------------------------------------------


def load(import_path: str | None = None) -> Erlen:
    return ScriptInfo(app_import_path=import_path).load_app()


def test_discover_app_attribute(project: Path) -> None:
    write(project, "mod_app.py", SIMPLE_APP)
    assert load("mod_app").name == "mod_app"


def test_discover_application_attribute_and_single_instance(project: Path) -> None:
    write(project, "named.py", "from erlen import Erlen\napplication = Erlen('by-attribute')\n")
    write(project, "single.py", "from erlen import Erlen\nsite = Erlen('only-one')\n")
    assert load("named").import_name == "by-attribute"
    assert load("single").import_name == "only-one"


def test_discover_prefers_app_over_other_instances(project: Path) -> None:
    write(project, "both.py", "from erlen import Erlen\nother = Erlen('o')\napp = Erlen('a')\n")
    assert load("both").import_name == "a"


def test_discover_several_instances_is_an_error(project: Path) -> None:
    write(project, "many.py", "from erlen import Erlen\none = Erlen('1')\ntwo = Erlen('2')\n")
    with pytest.raises(NoAppException, match=r"several .* \(one, two\).*'many:NAME'"):
        load("many")
    assert load("many:two").import_name == "2"


@pytest.mark.parametrize("factory", ["create_app", "make_app"])
def test_discover_factory(project: Path, factory: str) -> None:
    write(project, "fac.py", f"from erlen import Erlen\ndef {factory}():\n    return Erlen('f')\n")
    assert load("fac").import_name == "f"


def test_discover_factory_needing_arguments(project: Path) -> None:
    source = "from erlen import Erlen\ndef create_app(env):\n    return Erlen(env)\n"
    write(project, "fac.py", source)
    with pytest.raises(NoAppException, match=r"'fac:create_app' cannot be called.*env"):
        load("fac")


def test_factory_call_with_literal_arguments(project: Path) -> None:
    write(
        project,
        "fac.py",
        """
        from erlen import Erlen
        def create_app(env, *, debug=False, extra=None):
            app = Erlen(f"app-{env}")
            app.config.update(DEBUG=debug, EXTRA=extra)
            return app
        """,
    )
    app = load('fac:create_app("dev", debug=True, extra={"a": [1, 2]})')
    assert app.import_name == "app-dev"
    assert app.config["DEBUG"] is True and app.config["EXTRA"] == {"a": [1, 2]}
    assert load("fac:create_app('prod')").import_name == "app-prod"


def test_factory_by_name_is_called(project: Path) -> None:
    write(project, "fac.py", "from erlen import Erlen\ndef build():\n    return Erlen('built')\n")
    assert load("fac:build").import_name == "built"
    assert load("fac:build()").import_name == "built"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("missing", r"Module 'fac' has no attribute 'missing'"),
        ("create_app(os.getcwd())", r"only literal values"),
        ("create_app(**{'a': 1})", r"only literal values"),
        ("create_app(1, 2)", r"'fac:create_app' cannot be called.*argument"),
        ("create_app(nope=1)", r"'fac:create_app' cannot be called.*nope"),
        ("not_app", r"'fac:not_app' is not an Erlen application \(its type is 'int'\)"),
        ("not_app()", r"'fac:not_app' is not a function"),
        ("returns_none", r"'fac:returns_none' did not return an Erlen application.*NoneType"),
        ("a.b", r"Could not parse 'a.b'"),
        ("1 +", r"Could not parse"),
    ],
)
def test_discovery_errors(project: Path, expression: str, message: str) -> None:
    write(
        project,
        "fac.py",
        """
        from erlen import Erlen
        not_app = 3
        def create_app(env="x"):
            return Erlen(env)
        def returns_none():
            return None
        """,
    )
    with pytest.raises(NoAppException, match=message):
        load(f"fac:{expression}")


def test_discover_nothing_in_module(project: Path) -> None:
    write(project, "empty_mod.py", "x = 1\n")
    with pytest.raises(NoAppException, match="no Erlen application or factory in module"):
        load("empty_mod")


def test_discover_missing_module(project: Path) -> None:
    with pytest.raises(NoAppException, match="Could not import 'no_such_mod': no such module"):
        load("no_such_mod")
    with pytest.raises(NoAppException, match=r"Could not import 'no_such_pkg\.mod'"):
        load("no_such_pkg.mod")


def test_discover_file_path_in_package(project: Path) -> None:
    write(project, "src/pkg/__init__.py", "")
    write(project, "src/pkg/web.py", "from erlen import Erlen\napp = Erlen(__name__)\n")
    assert load("src/pkg/web.py").import_name == "pkg.web"
    assert str(project / "src") in sys.path


def test_discover_package_folder(project: Path) -> None:
    write(project, "site_pkg/__init__.py", "from erlen import Erlen\napp = Erlen(__name__)\n")
    assert load("site_pkg/").import_name == "site_pkg"
    assert load("site_pkg").import_name == "site_pkg"


def test_discover_from_erlen_app_variable(project: Path) -> None:
    write(project, "env_app.py", SIMPLE_APP)
    os.environ["ERLEN_APP"] = "env_app"
    assert load().import_name == "env_app"


def test_discover_wsgi_py_before_app_py(project: Path) -> None:
    write(project, "app.py", "from erlen import Erlen\napp = Erlen('from-app-py')\n")
    assert load().import_name == "from-app-py"
    del sys.modules["app"]
    write(project, "wsgi.py", "from erlen import Erlen\napp = Erlen('from-wsgi-py')\n")
    assert load().import_name == "from-wsgi-py"


def test_discover_nothing_to_load(project: Path) -> None:
    with pytest.raises(NoAppException, match=r"Found no app to load.*ERLEN_APP"):
        load()


def test_discovery_error_is_one_line_without_traceback(project: Path) -> None:
    write(project, "fac.py", "x = 1\n")
    result = run_group(["--app", "fac:missing", "routes"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    # An unknown command: why the app's commands are missing, then click's usage error.
    result = run_group(["--app", "nowhere", "mycommand"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: Could not import 'nowhere'")
    assert "No such command 'mycommand'" in result.output
    assert "Traceback" not in result.output


def test_import_error_inside_the_module_shows_its_traceback(project: Path) -> None:
    write(project, "broken.py", "import erlen\nimport not_installed_anywhere_xyz\n")
    result = run_group(["--app", "broken", "routes"])
    assert result.exit_code == 1
    assert "While importing 'broken', an ImportError was raised" in result.output
    assert "Traceback" in result.output
    assert 'broken.py", line 2' in result.output
    assert "not_installed_anywhere_xyz" in result.output


def test_other_errors_in_the_module_propagate(project: Path) -> None:
    write(project, "raising.py", "raise RuntimeError('module failed')\n")
    result = run_group(["--app", "raising", "routes"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


def test_help_lists_app_commands_or_says_why_not(project: Path) -> None:
    write(
        project,
        "helpful.py",
        """
        from erlen import Erlen
        app = Erlen(__name__)
        @app.cli.command()
        def seed():
            "Fill the database."
        """,
    )
    result = run_group(["--app", "helpful", "--help"])
    assert result.exit_code == 0
    assert "seed" in result.output and "Fill the database." in result.output
    result = run_group(["--app", "missing_mod", "--help"])
    assert result.exit_code == 0
    assert "Error: Could not import 'missing_mod'" in result.output
    assert "routes" in result.output and "seed" not in result.output


def test_unknown_command(project: Path) -> None:
    write(project, "simple.py", SIMPLE_APP)
    result = run_group(["--app", "simple", "nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


def test_version_option() -> None:
    result = run_group(["--version"])
    assert result.exit_code == 0
    assert "erlen 0.1.0" in result.output and "Werkzeug" in result.output


# --- debug flag and .env files -----------------------------------------------------------------

DEBUG_APP = """
    import click
    from erlen import Erlen, current_app
    app = Erlen(__name__)

    @app.cli.command()
    def debug():
        click.echo(f"debug={current_app.debug}")
"""


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--debug"], None, "debug=True"),
        (["--no-debug"], "1", "debug=False"),
        ([], "1", "debug=True"),
        ([], "false", "debug=False"),
        ([], "on", "debug=True"),
        ([], None, "debug=False"),
    ],
)
def test_debug_flag(project: Path, args: list[str], env: str | None, expected: str) -> None:
    write(project, "dbg.py", DEBUG_APP)
    if env is not None:
        os.environ["ERLEN_DEBUG"] = env
    result = run_group(["--app", "dbg", *args, "debug"])
    assert result.output.strip() == expected


def test_dotenv_files(project: Path) -> None:
    write(project, "dotenv_app.py", DEBUG_APP)
    write(project, ".erlenenv", "ERLEN_APP=dotenv_app\nSHARED=from-erlenenv\nONLY_ERLENENV=1\n")
    write(project, ".env", "SHARED=from-env\nERLEN_DEBUG=1\nPRESET=from-file\n")
    os.environ["PRESET"] = "from-environment"
    result = run_group(["debug"])
    assert result.output.strip() == "debug=True"
    assert os.environ["SHARED"] == "from-env"  # .env wins over .erlenenv
    assert os.environ["ONLY_ERLENENV"] == "1"
    assert os.environ["PRESET"] == "from-environment"  # set variables are kept


def test_env_file_option_wins_over_defaults(project: Path) -> None:
    write(project, "dotenv_app.py", DEBUG_APP)
    write(project, ".env", "SHARED=from-env\n")
    write(project, "custom.env", "SHARED=from-custom\nERLEN_APP=dotenv_app\n")
    result = run_group(["--env-file", "custom.env", "debug"])
    assert result.output.strip() == "debug=False"
    assert os.environ["SHARED"] == "from-custom"


def test_skip_dotenv(project: Path) -> None:
    write(project, ".env", "SHOULD_NOT_LOAD=1\n")
    os.environ["ERLEN_SKIP_DOTENV"] = "1"
    run_group(["--help"])
    assert "SHOULD_NOT_LOAD" not in os.environ


def test_without_python_dotenv(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)  # makes `import dotenv` fail
    write(project, ".env", "SHOULD_NOT_LOAD=1\n")
    write(project, "simple.py", SIMPLE_APP)
    result = run_group(["--app", "simple", "routes"])
    assert result.exit_code == 0, result.output
    assert "SHOULD_NOT_LOAD" not in os.environ
    result = run_group(["--env-file", ".env", "--app", "simple", "routes"])
    assert result.exit_code == 2
    assert "python-dotenv must be installed" in result.output


# --- plugins and blueprints --------------------------------------------------------------------


def test_entry_point_plugin_commands(project: Path) -> None:
    write(
        project,
        "erlen_plugin_demo.py",
        """
        import click
        from erlen.cli import with_appcontext
        from erlen import current_app

        @click.command()
        @with_appcontext
        def plugged():
            click.echo(f"plugged into {current_app.name}")
        """,
    )
    write(
        project,
        "erlen_plugin_demo-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: erlen-plugin-demo\nVersion: 1.0\n",
    )
    write(
        project,
        "erlen_plugin_demo-1.0.dist-info/entry_points.txt",
        "[erlen.commands]\nplugged = erlen_plugin_demo:plugged\n",
    )
    sys.path.insert(0, str(project))
    write(project, "simple.py", SIMPLE_APP)
    result = run_group(["--app", "simple", "plugged"])
    assert result.exit_code == 0, result.output
    assert result.output == "plugged into simple\n"
    assert "plugged" in run_group(["--app", "simple", "--help"]).output


def test_blueprint_commands_in_their_group(app: Erlen) -> None:
    bp = Blueprint("users", __name__)

    @bp.cli.command("create")
    @click.argument("name")
    def create(name: str) -> None:
        click.echo(f"created {name} in {current_app.name}")

    app.register_blueprint(bp)
    result = app.test_cli_runner().invoke(args=["users", "create", "ada"])
    assert result.exit_code == 0, result.output
    assert result.output == "created ada in test_app\n"


def test_blueprint_cli_group_name_and_registration_option(app: Erlen) -> None:
    renamed = Blueprint("renamed", __name__, cli_group="accounts")
    merged = Blueprint("merged", __name__, cli_group=None)
    per_registration = Blueprint("per", __name__)

    for bp, label in ((renamed, "r"), (merged, "m"), (per_registration, "p")):

        @bp.cli.command("hello")
        def hello(label: str = label) -> None:
            click.echo(f"hello {label}")

    app.register_blueprint(renamed)
    app.register_blueprint(merged)
    app.register_blueprint(per_registration, cli_group="custom")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["accounts", "hello"]).output == "hello r\n"
    assert runner.invoke(args=["hello"]).output == "hello m\n"
    assert runner.invoke(args=["custom", "hello"]).output == "hello p\n"
    assert sorted(app.cli.commands) == ["accounts", "custom", "hello"]


def test_blueprint_without_commands_adds_no_group(app: Erlen) -> None:
    bp = Blueprint("quiet", __name__)
    app.register_blueprint(bp)
    assert "cli" not in bp.__dict__
    assert "quiet" not in app.cli.commands


# --- the console script ------------------------------------------------------------------------


def test_console_script_routes(project: Path) -> None:
    write(project, "script_app.py", SIMPLE_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERLEN_")}
    result = subprocess.run(
        [str(BIN / "erlen"), "--app", "script_app", "routes"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2].split() == ["index", "GET", "/"]
    missing = subprocess.run(
        [str(BIN / "erlen"), "--app", "script_app:nope", "routes"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode == 1
    assert missing.stderr == "Error: Module 'script_app' has no attribute 'nope'.\n"
