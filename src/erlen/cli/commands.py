"""The built-in commands: ``run`` (the development server), ``shell``, ``routes`` and
``deploy-check``."""

from __future__ import annotations

import os
import sys
import typing as t
from collections.abc import Callable

import click

from ..deploy_checks import run_checks
from ..globals import current_app
from .script_info import ScriptInfo, pass_script_info, with_appcontext
from .tls import CertParamType, _cert_and_key


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
    from ..devserver import is_running_from_reloader, run_server

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
