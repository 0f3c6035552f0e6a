"""The application object and its request pipeline, written once for WSGI and ASGI."""

from __future__ import annotations

import functools
import logging
import os
import sys
import typing as t
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from types import CoroutineType, TracebackType

from werkzeug.exceptions import (
    Aborter,
    BadRequest,
    BadRequestKeyError,
    HTTPException,
)
from werkzeug.routing import BuildError, MapAdapter, RequestRedirect
from werkzeug.utils import redirect as _wz_redirect

from . import pipeline
from . import typing as ft
from ._speedups import ENABLED as _SPEEDUPS
from .concurrency import call_blocking, drive, is_async_callable, run_on_thread_loop
from .config import DEFAULT_CONFIG, Config, environ_setting, get_debug_flag, get_load_dotenv
from .ctx import AppContext, RequestContext, _AppCtxGlobals
from .errors import handle_exception, handle_http_exception, handle_user_exception
from .finalizing import finalize, process_response
from .globals import _cv_request
from .json.provider import DefaultJSONProvider, JSONProvider
from .lifespan import Lifecycle, LifespanFactory, serving
from .logging import create_logger
from .protocols.asgi import serve_asgi
from .protocols.wsgi import request_from_environ, serve_wsgi
from .response_headers import location_value
from .responses import response_from_value
from .routing import Rule, UrlMap
from .scaffold import Scaffold, find_package, package_folder, setupmethod
from .security import (
    DefaultHeaders,
)
from .sessions import SecureCookieSessionInterface, SessionInterface
from .signals import track_receivers
from .template_functions import TemplateFunctions
from .urls import bind_url_map, build_url
from .websockets import WebSocket
from .wrappers import Request, Response

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from blinker import Signal
    from jinja2 import BaseLoader

    from .blueprints import Blueprint
    from .cli import ErlenCliRunner
    from .templating import Environment
    from .testing import ErlenClient

T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_serving = t.TypeVar("T_serving", bound=Callable[[], t.Any])
T_lifespan = t.TypeVar("T_lifespan", bound=Callable[..., t.Any])
T_shell_context = t.TypeVar("T_shell_context", bound=Callable[[], dict[str, t.Any]])


#: The pipeline's steps a subclass may override, or an extension wrap on the app, as in Flask.
OVERRIDE_POINTS = frozenset(
    {
        "full_dispatch_request",
        "preprocess_request",
        "dispatch_request",
        "finalize_request",
        "process_response",
        "handle_user_exception",
        "handle_http_exception",
        "handle_exception",
        "do_teardown_request",
        "do_teardown_appcontext",
        "raise_routing_exception",
    }
)
#: The adapters' entry points, which WSGI or ASGI middleware wraps on the app.
ENTRY_POINTS = frozenset({"wsgi_app", "asgi_app"})
_WATCHED_POINTS = OVERRIDE_POINTS | ENTRY_POINTS
_ABSENT: t.Any = object()  # an argument not given


def _current_request_ctx() -> RequestContext:
    ctx = _cv_request.get()
    if ctx is None:
        raise RuntimeError("This needs an active request context (a request, or a test one).")
    return ctx


class Erlen(TemplateFunctions, Scaffold):
    """The application: holds the configuration, the URL map and the registered functions,
    and is itself the callable a server runs, WSGI (``app(environ, start_response)``) or ASGI
    (``await app(scope, receive, send)``).

    ``import_name`` is the name of the app's module or package, usually ``__name__``; it locates
    ``templates/``, ``static/`` and the instance folder.
    """

    request_class: type[Request] = Request
    websocket_class: type[WebSocket] = WebSocket
    response_class: type[Response] = Response
    url_rule_class: type[Rule] = Rule
    url_map_class: type[UrlMap] = UrlMap
    config_class: type[Config] = Config
    app_ctx_globals_class: type[_AppCtxGlobals] = _AppCtxGlobals
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    aborter_class: type[Aborter] = Aborter
    test_client_class: type[ErlenClient] | None = None
    #: The class of :meth:`test_cli_runner` (``erlen.testing.ErlenCliRunner`` when ``None``).
    test_cli_runner_class: type[ErlenCliRunner] | None = None
    session_interface: SessionInterface = SecureCookieSessionInterface()
    default_config: dict[str, t.Any] = DEFAULT_CONFIG
    #: Options for the Jinja environment (``app.jinja_env``), set before it is first used.
    jinja_options: dict[str, t.Any] = {}
    #: The class of ``app.jinja_env`` (``erlen.templating.Environment`` when ``None``).
    jinja_environment: type[Environment] | None = None
    # The names of OVERRIDE_POINTS this app overrides (see _find_overrides).
    _overrides: frozenset[str] = frozenset()
    # Whether an ENTRY_POINTS method is wrapped on the app or overridden (see __call__).
    _entry_wrapped = False
    # SECURITY_HEADERS as last seen, and its checked form (see erlen.security).
    _security_headers: tuple[dict[str, str | None], DefaultHeaders] | None = None
    # The erlen signals with a receiver for this app (kept current by erlen.signals).
    _signals_with_receivers: frozenset[Signal] = frozenset()

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        if instance_path is not None and not os.path.isabs(instance_path):
            raise ValueError("If an instance path is provided it must be absolute.")
        #: The folder for files that belong to this deployment, not to the code.
        self.instance_path = instance_path or self.auto_find_instance_path()
        self.config = self.config_class(
            self.instance_path if instance_relative_config else self.root_path,
            self.default_config,
        )
        self.config["DEBUG"] = get_debug_flag()  # ERLEN_DEBUG (or FLASK_DEBUG), as in Flask
        #: The JSON provider: ``app.json.dumps``, ``loads`` and ``response``.
        self.json: JSONProvider = self.json_provider_class(self)
        self.aborter = self.aborter_class()
        self.url_build_error_handlers: list[
            Callable[[Exception, str, dict[str, t.Any]], str | None]
        ] = []
        self.teardown_appcontext_funcs: list[ft.TeardownCallable] = []
        self.shell_context_processors: list[Callable[[], dict[str, t.Any]]] = []
        #: Registered blueprints by (dotted) name.
        self.blueprints: dict[str, Blueprint] = {}
        #: Where extensions keep their state, by extension name.
        self.extensions: dict[str, t.Any] = {}
        self.static_host = static_host
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False
        track_receivers(self)
        #: Per endpoint, whether its requests run in a worker under ASGI (_runs_in_worker).
        self._worker_plans: dict[str, bool] = {}
        self._find_overrides()
        self.before_serving_funcs: list[Callable[[], t.Any]] = []
        self.after_serving_funcs: list[Callable[[], t.Any]] = []
        self.lifespan_funcs: list[LifespanFactory] = []
        #: Startup, shutdown and background tasks of this app in this process.
        self.lifecycle = Lifecycle(self)
        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise ValueError("static_host is required, and only allowed, with host_matching.")
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=self.send_static_file,
            )

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the application. It has"
                " already handled its first request, any changes will not be applied"
                " consistently.\nMake sure all imports, decorators, functions, etc. needed to set"
                " up the application are done before running it."
            )

    # --- properties ---------------------------------------------------------------------------

    @property
    def subdomain_matching(self) -> bool:
        """Whether rules match the subdomain of ``SERVER_NAME`` (``subdomain=`` of a route)."""
        return self._subdomain_matching

    @subdomain_matching.setter
    def subdomain_matching(self, value: bool) -> None:
        self._subdomain_matching = value
        # The matcher for plain paths ignores hosts: only used when nothing matches on them.
        self.url_map.fast_static = _SPEEDUPS and not (self.url_map.host_matching or value)

    def auto_find_instance_path(self) -> str:
        """The instance folder when none is given: ``instance/`` beside the app's top-level
        package (not inside its code), or ``<prefix>/var/<name>-instance`` for an installed
        package; ``instance/`` in :attr:`root_path` when the package cannot be found. Override
        it to put the folder elsewhere."""
        if package_folder(self.import_name) is None:
            return os.path.join(self.root_path, "instance")
        prefix, folder = find_package(self.import_name)
        if prefix is None:
            return os.path.join(folder, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        """The app's name: the import name, or the script's name when run as ``__main__``."""
        if self.import_name == "__main__":
            filename = getattr(sys.modules["__main__"], "__file__", None)
            if filename is None:
                return "__main__"
            return os.path.splitext(os.path.basename(str(filename)))[0]
        return self.import_name

    @property
    def debug(self) -> bool:
        """Debug mode (``DEBUG``): tracebacks in the browser, exceptions propagate."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if "jinja_env" in self.__dict__ and self.config["TEMPLATES_AUTO_RELOAD"] is None:
            self.jinja_env.auto_reload = value

    @property
    def testing(self) -> bool:
        """Testing mode (``TESTING``): exceptions propagate to the test client."""
        return bool(self.config["TESTING"])

    @testing.setter
    def testing(self, value: bool) -> None:
        self.config["TESTING"] = value

    @property
    def secret_key(self) -> str | bytes | None:
        """``SECRET_KEY``: signs the session cookie."""
        return t.cast("str | bytes | None", self.config["SECRET_KEY"])

    @secret_key.setter
    def secret_key(self, value: str | bytes | None) -> None:
        self.config["SECRET_KEY"] = value

    @property
    def permanent_session_lifetime(self) -> timedelta:
        """``PERMANENT_SESSION_LIFETIME`` as a :class:`~datetime.timedelta`."""
        value = self.config["PERMANENT_SESSION_LIFETIME"]
        return value if isinstance(value, timedelta) else timedelta(seconds=value)

    @permanent_session_lifetime.setter
    def permanent_session_lifetime(self, value: timedelta | int) -> None:
        self.config["PERMANENT_SESSION_LIFETIME"] = value

    @cached_property
    def logger(self) -> logging.Logger:
        """The app's logger (named after the app); debug level in debug mode."""
        return create_logger(self)

    # --- registration -------------------------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        if endpoint is None:
            if view_func is None:
                raise TypeError("add_url_rule() needs an endpoint or a view function.")
            endpoint = view_func.__name__
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example:"
                ' @app.route(..., methods=["POST"])'
            )
        methods = {method.upper() for method in methods}
        required = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            provide_automatic_options = (
                "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
        if provide_automatic_options:
            required.add("OPTIONS")
        rule_obj = self.url_rule_class(rule, methods=methods | required, **options)
        rule_obj.provide_automatic_options = bool(provide_automatic_options)
        self.url_map.add(rule_obj)
        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            if existing is not None and existing != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing endpoint function:"
                    f" {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register a blueprint's routes and functions on the app. Options override the
        blueprint's own: ``url_prefix``, ``subdomain``, ``url_defaults``, and ``name`` to
        register the same blueprint twice."""
        blueprint.register(self, options)

    @setupmethod
    def teardown_appcontext(self, f: T_teardown) -> T_teardown:
        """Run ``f(error)`` when the application context is popped (after every request)."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: T_shell_context) -> T_shell_context:
        """Register ``f()`` returning a dict of names to preload in ``erlen shell``."""
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, t.Any]:
        """The names ``erlen shell`` starts with: ``app``, ``g`` and the processors' values."""
        from .globals import g

        context: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            context.update(processor())
        return context

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`instance_path`. Unlike :meth:`open_resource`, any mode
        is allowed: the instance folder holds the deployment's own (writable) files."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # --- templates ------------------------------------------------------------------------------

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja environment, created on first use (``jinja_options`` apply then)."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Make :attr:`jinja_env` from :attr:`jinja_options` and the app's settings, with the
        template globals (``url_for``, ``csrf_token``...). Override it to change the
        environment for every template."""
        from .templating import create_environment

        return create_environment(self)

    def create_global_jinja_loader(self) -> BaseLoader:
        """The loader of :attr:`jinja_env`: the app's template folder, then its blueprints'.
        Override it to load templates from elsewhere (:attr:`jinja_loader` is the app's own
        folder only)."""
        from .templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Whether to autoescape a template: HTML-like files and templates from strings."""
        from .templating import select_autoescape

        return select_autoescape(filename)

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add ``request``, ``session``, ``g`` and the context processors' values."""
        from .templating import update_template_context

        update_template_context(self, context)

    def iter_blueprints(self) -> t.Iterator[Blueprint]:
        """The registered blueprints, in registration order."""
        return iter(self.blueprints.values())

    # --- contexts -----------------------------------------------------------------------------

    def app_context(self) -> AppContext:
        """An application context: ``with app.app_context():`` makes ``current_app`` and ``g``
        work outside a request (in a CLI command or a script)."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """A request context for a WSGI environ."""
        ctx = RequestContext(self, request_from_environ(self.request_class, environ))
        ctx.match_on_push = True
        return ctx

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context for a request built from werkzeug's
        :class:`~werkzeug.test.EnvironBuilder` arguments (path, method, data, json, headers...)."""
        from .testing.environ import build_environ

        return self.request_context(build_environ(self, *args, **kwargs))

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> ErlenClient:
        """A client that sends requests to the app in-process. ``asgi=True`` drives the ASGI path
        instead of the WSGI path; the API is the same."""
        from .testing import ErlenClient

        cls = self.test_client_class or ErlenClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: t.Any) -> ErlenCliRunner:
        """A click runner whose ``invoke`` runs this app's CLI commands (``app.cli`` by
        default) with the app loaded, for testing custom commands."""
        from .cli import ErlenCliRunner

        cls = self.test_cli_runner_class or ErlenCliRunner
        return cls(self, **kwargs)

    # --- URLs ---------------------------------------------------------------------------------

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Bind the URL map to a request, or (outside a request) to ``SERVER_NAME``."""
        return bind_url_map(self, request)

    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        """Build the URL of ``endpoint``; see :func:`erlen.url_for`."""
        return build_url(self, endpoint, _anchor, _method, _scheme, _external, values)

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        """Let the ``url_defaults`` functions of the app and the endpoint's blueprints fill in
        ``values``."""
        functions = self.url_default_functions
        if not functions:
            return
        names: list[str | None] = [None]
        if "." in endpoint:
            parts = endpoint.split(".")[:-1]
            names.extend(".".join(parts[: i + 1]) for i in range(len(parts)))
        for name in names:
            for func in functions.get(name, ()):
                func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Ask the ``url_build_error_handlers`` for a URL; re-raise when none gives one."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
                continue
            if rv is not None:
                return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

    # --- responses ----------------------------------------------------------------------------

    def make_response(self, rv: ft.ResponseReturnValue | HTTPException) -> Response:
        """Turn a view's return value into a :attr:`response_class` instance.

        Accepted: a response; ``str``/``bytes`` (the body); ``dict``/``list`` (JSON); an iterator
        or async iterator of chunks (streamed); a WSGI application (an ASGI application returned
        by a view is run by the pipeline); an ``HTTPException``; or a
        tuple ``(body, status)``, ``(body, headers)`` or ``(body, status, headers)``.
        """
        if type(rv) is str:  # the most common return value
            return self.response_class(rv)
        return response_from_value(self, rv)

    def redirect(self, location: str, code: int = 302) -> Response:
        """A redirect response to ``location``; :func:`erlen.redirect` calls this. A target
        with non-ASCII or control characters is percent-encoded into a valid ``Location``."""
        location = location_value(location)
        return t.cast(Response, _wz_redirect(location, code, Response=self.response_class))  # type: ignore[arg-type]

    def make_default_options_response(self) -> Response:
        """The response to an automatic OPTIONS request: ``Allow`` lists the URL's methods."""
        ctx = _cv_request.get()
        assert ctx is not None and ctx.url_adapter is not None
        response = self.response_class()
        response.allow.update(ctx.url_adapter.allowed_methods())
        return response

    # --- the request pipeline (erlen.pipeline) ------------------------------------------------
    # Its functions as methods: the adapters and the contexts call them on the app.
    handle_request = pipeline.handle_request
    handle_websocket = pipeline.handle_websocket
    _runs_in_worker = pipeline.runs_in_worker
    _match_request = pipeline.match_request
    _teardown_appcontext = pipeline.teardown_appcontext

    # --- the pipeline's steps as Flask's methods ---------------------------------------------
    # The pipeline above runs its own async steps. Each step is also a sync method with Flask's
    # name and signature, which runs that step on its own; when a subclass overrides one or an
    # extension wraps one on the app (Flask-CORS wraps handle_exception), the pipeline calls
    # the method instead, at the point Flask does (see _find_overrides).

    def full_dispatch_request(self) -> Response:
        """Run the request of the active context: ``request_started``, the ``before_request``
        hooks, the view, error handling, and :meth:`finalize_request`."""
        return drive(self.handle_request(_current_request_ctx(), call_blocking, False))[0]

    def preprocess_request(self) -> ft.ResponseReturnValue | None:
        """Run the URL value preprocessors and the ``before_request`` hooks of the app and the
        request's blueprints; a value a hook returns ends the request (it is returned)."""
        ctx = _current_request_ctx()
        hooks = self.before_request_funcs
        return drive(pipeline.preprocess_request(self, ctx.request, call_blocking, hooks))  # type: ignore[no-any-return]

    def dispatch_request(self) -> ft.ResponseReturnValue:
        """Call the view the request matched (its return value is not a response yet); a
        routing error is raised by :meth:`raise_routing_exception`."""
        ctx = _current_request_ctx()
        return drive(pipeline.view_call(self, ctx.request, call_blocking))  # type: ignore[arg-type]

    def finalize_request(
        self, rv: ft.ResponseReturnValue | HTTPException, from_error_handler: bool = False
    ) -> Response:
        """Make the response from a view's return value and run :meth:`process_response`. For
        the 500 answer (``from_error_handler``), an error in that is logged, not raised."""
        ctx = _current_request_ctx()
        response = finalize(self, ctx, rv, call_blocking, from_error_handler)
        return drive(response) if type(response) is CoroutineType else t.cast(Response, response)

    def process_response(self, response: Response) -> Response:
        """Run the ``after_this_request`` callbacks and ``after_request`` hooks, save the
        session and send ``request_finished``; returns the response the hooks made."""
        return drive(process_response(self, _current_request_ctx(), response, call_blocking))

    def handle_user_exception(self, e: Exception) -> HTTPException | ft.ResponseReturnValue:
        """Handle an error raised by a hook or the view: an HTTP error goes to
        :meth:`handle_http_exception`; another goes to its registered handler, or is raised
        again (then :meth:`handle_exception` takes it)."""
        ctx = _current_request_ctx()
        return drive(handle_user_exception(self, ctx.request, e, call_blocking))  # type: ignore[no-any-return]

    def handle_http_exception(self, e: HTTPException) -> HTTPException | ft.ResponseReturnValue:
        """The answer to an HTTP error: its registered handler's, or the error itself."""
        ctx = _current_request_ctx()
        return drive(handle_http_exception(self, ctx.request, e, call_blocking))  # type: ignore[no-any-return]

    def handle_exception(self, e: Exception) -> Response:
        """The answer to an exception no handler took: raised again when exceptions propagate
        (testing, debug mode, ``PROPAGATE_EXCEPTIONS``); otherwise logged with
        :meth:`log_exception` and answered by the 500 handler or a plain 500 page."""
        return drive(handle_exception(self, _current_request_ctx(), e, call_blocking))

    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the routing error of ``request`` (404, 405, a redirect). In debug mode, a
        redirect that would make a browser drop a posted form raises
        :class:`~erlen.debughelpers.FormDataRoutingRedirect` instead, which says why."""
        error = request.routing_exception
        assert error is not None
        if (
            self.debug
            and isinstance(error, RequestRedirect)
            and error.code not in (307, 308)
            and request.method not in ("GET", "HEAD", "OPTIONS")
        ):
            from .debughelpers import FormDataRoutingRedirect

            raise FormDataRoutingRedirect(request)
        raise error

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown functions should not see ``error`` (they get ``None``). Override
        it to hide errors that are part of normal operation; ``False`` by default."""
        return False

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        """Run the ``teardown_request`` functions of the request's blueprints and the app, and
        send ``request_tearing_down``; called when the request context is popped."""
        drive(_current_request_ctx()._teardown_request(call_blocking, exc))

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the ``teardown_appcontext`` functions and send ``appcontext_tearing_down``;
        called when the application context is popped."""
        drive(self._teardown_appcontext(call_blocking, exc))

    def ensure_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """``func`` as a function to call from sync code: itself when it is sync, wrapped by
        :meth:`async_to_sync` when it is async. Extensions use it to call a user's function
        that may be either."""
        if is_async_callable(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(
        self, func: Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> Callable[..., t.Any]:
        """A sync function that runs the async ``func`` to its end and returns its result: on
        this thread's own event loop (a helper thread when a loop already runs here)."""

        @functools.wraps(func)
        def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return run_on_thread_loop(func(*args, **kwargs))

        return run

    def _find_overrides(self) -> None:
        cls = type(self)
        own = self.__dict__
        found = {
            name
            for name in OVERRIDE_POINTS
            if name in own or getattr(cls, name) is not getattr(Erlen, name)
        }
        own["_overrides"] = frozenset(found)
        own["_entry_wrapped"] = any(
            name in own or getattr(cls, name) is not getattr(Erlen, name) for name in ENTRY_POINTS
        )

    def __setattr__(self, name: str, value: t.Any) -> None:
        object.__setattr__(self, name, value)
        if name in _WATCHED_POINTS:  # an extension wrapping a step on the app, or middleware
            self._find_overrides()

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        if name in _WATCHED_POINTS:
            self._find_overrides()

    def trap_http_exception(self, error: Exception) -> bool:
        """Whether an HTTP error should propagate like an unhandled exception (for debugging),
        per ``TRAP_HTTP_EXCEPTIONS`` and ``TRAP_BAD_REQUEST_ERRORS``."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and isinstance(error, BadRequestKeyError) and self.debug:
            return True
        if trap_bad_request:
            return isinstance(error, BadRequest)
        return False

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Log an unhandled exception (``exc_info`` as :func:`sys.exc_info` gives it) with the
        request line, at ERROR on :attr:`logger`; nothing of it is sent to the client. Override
        it to report errors elsewhere."""
        request = _cv_request.get()
        where = f" on {request.request.path} [{request.request.method}]" if request else ""
        self.logger.error(f"Exception{where}", exc_info=exc_info)

    # --- serving ------------------------------------------------------------------------------

    @setupmethod
    def before_serving(self, f: T_serving) -> T_serving:
        """Run ``f()`` (sync or async) once per worker process before it serves: at ASGI
        lifespan startup, or before the first request under WSGI. An error stops the start."""
        self.before_serving_funcs.append(f)
        return f

    @setupmethod
    def after_serving(self, f: T_serving) -> T_serving:
        """Run ``f()`` once per worker process when it stops serving."""
        self.after_serving_funcs.append(f)
        return f

    @setupmethod
    def lifespan(self, f: T_lifespan) -> T_lifespan:
        """Register ``f(app)``, an async generator (or async context manager factory): the code
        before ``yield`` runs at startup, the code after it at shutdown."""
        self.lifespan_funcs.append(f)
        return f

    def add_background_task(
        self, func: Callable[..., t.Any], *args: t.Any, **kwargs: t.Any
    ) -> None:
        """Run ``func(*args, **kwargs)`` (sync or async) in the background with the app context:
        after the response is sent when called during a request, at once otherwise. Errors are
        logged; shutdown waits for running tasks up to ``BACKGROUND_TASK_SHUTDOWN_TIMEOUT``."""
        ctx = _cv_request.get()
        if ctx is not None:
            if ctx.background_tasks is None:
                ctx.background_tasks = []
            ctx.background_tasks.append((func, args, kwargs))
        else:
            self.lifecycle.spawn([(func, args, kwargs)])

    def test_app(self) -> t.AsyncContextManager[Erlen]:
        """Run startup and shutdown around a block, without a server: ``async with
        app.test_app():``."""
        return serving(self)

    def wsgi_app(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """The WSGI application. Wrap this (not the app) in WSGI middleware:
        ``app.wsgi_app = ProxyFix(app.wsgi_app)``."""
        return serve_wsgi(self, environ, start_response)

    async def asgi_app(self, scope: ft.Scope, receive: ft.Receive, send: ft.Send) -> None:
        """The ASGI application (HTTP and lifespan)."""
        await serve_asgi(self, scope, receive, send)

    def __call__(self, first: t.Any, second: t.Any = _ABSENT, third: t.Any = _ABSENT) -> t.Any:
        """Serve WSGI (``environ, start_response``) or ASGI (``scope, receive, send``; the
        scope alone for ASGI 2 servers)."""
        # Straight to the adapter unless middleware wraps wsgi_app or asgi_app on the app, or a
        # subclass overrides one: a call (under ASGI, a coroutine) less per request.
        if third is not _ABSENT:
            if self._entry_wrapped:
                return self.asgi_app(first, second, third)
            return serve_asgi(self, first, second, third)
        if second is not _ABSENT:
            if self._entry_wrapped:
                return self.wsgi_app(first, second)
            return serve_wsgi(self, first, second)
        if self._entry_wrapped:
            return functools.partial(self.asgi_app, first)
        return functools.partial(serve_asgi, self, first)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the app on a development server (not for production): werkzeug's, or, for an
        app with WebSocket routes (or ``asgi=True``, ``ERLEN_RUN_ASGI=1``), uvicorn's (needs
        ``erlen[server]``); see :mod:`erlen.devserver`.

        ``host`` defaults to ``127.0.0.1``, ``port`` to 5000; ``ERLEN_RUN_HOST``/``PORT``, then
        ``SERVER_NAME``'s host and port, and ``ERLEN_DEBUG`` override the defaults;
        ``.erlenenv`` and ``.env`` are loaded first (with python-dotenv) unless
        ``load_dotenv`` is false. Debug mode turns the reloader on.
        Other options go to :func:`werkzeug.serving.run_simple` (``use_reloader``,
        ``threaded``...).
        """
        from .cli import load_dotenv as load_env_files
        from .devserver import run_server

        if get_load_dotenv(load_dotenv):  # ERLEN_SKIP_DOTENV=1 skips it
            load_env_files()
        if debug is None and environ_setting("DEBUG") is not None:
            debug = get_debug_flag()
        if debug is not None:
            self.debug = debug
        name_host, _, name_port = (self.config.get("SERVER_NAME") or "").partition(":")
        host = host or os.environ.get("ERLEN_RUN_HOST") or name_host or "127.0.0.1"
        if port is None:
            port = int(os.environ.get("ERLEN_RUN_PORT") or name_port or 5000)
        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        options.setdefault("threaded", True)
        run_server(self, host, port, **options)
