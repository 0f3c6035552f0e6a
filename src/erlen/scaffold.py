"""The registration API shared by :class:`~erlen.Erlen` and blueprints: routes, hooks, handlers."""

from __future__ import annotations

import importlib.util
import os
import sys
import typing as t
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property

from werkzeug.exceptions import HTTPException, default_exceptions

from . import typing as ft

if t.TYPE_CHECKING:
    from jinja2 import BaseLoader

    from .cli import AppGroup
    from .wrappers import Response

F = t.TypeVar("F", bound=Callable[..., t.Any])
T_route = t.TypeVar("T_route", bound=ft.RouteCallable)
T_before = t.TypeVar("T_before", bound=ft.BeforeRequestCallable)
T_after = t.TypeVar("T_after", bound=ft.AfterRequestCallable)
T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_error = t.TypeVar("T_error", bound=ft.ErrorHandlerCallable)
T_url_defaults = t.TypeVar("T_url_defaults", bound=ft.URLDefaultCallable)
T_url_pre = t.TypeVar("T_url_pre", bound=ft.URLValuePreprocessorCallable)
T_ctx_processor = t.TypeVar("T_ctx_processor", bound=ft.TemplateContextProcessorCallable)

ErrorHandlerMap = dict[int | None, dict[type[BaseException], ft.ErrorHandlerCallable]]


def setupmethod(f: F) -> F:
    """Mark a registration method: calling it after the first request is an error."""
    name = f.__name__

    def wrapper(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(name)
        return f(self, *args, **kwargs)

    wrapper.__name__ = f.__name__
    wrapper.__qualname__ = f.__qualname__
    wrapper.__doc__ = f.__doc__
    return t.cast(F, wrapper)


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name`` (the current folder if unknown)."""
    module = sys.modules.get(import_name)
    filename = getattr(module, "__file__", None)
    if filename is None:
        try:
            spec = importlib.util.find_spec(import_name)
        except (ImportError, ValueError):
            spec = None
        filename = spec.origin if spec is not None else None
        if filename is None or filename == "namespace":
            return os.getcwd()
    return os.path.dirname(os.path.abspath(filename))


def package_folder(import_name: str) -> str | None:
    """The folder that holds the top-level package (or module) of ``import_name``, if it can
    be found."""
    top = import_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None or (spec.origin in (None, "namespace") and not spec.submodule_search_locations):
        return None
    if spec.submodule_search_locations:  # a package: its folder's parent
        if spec.origin not in (None, "namespace"):
            return os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
        return os.path.dirname(os.path.abspath(next(iter(spec.submodule_search_locations))))
    return os.path.dirname(os.path.abspath(t.cast(str, spec.origin)))


def find_package(import_name: str) -> tuple[str | None, str]:
    """Where ``import_name``'s top-level package is installed: ``(prefix, folder)``, where
    ``folder`` holds the package and ``prefix`` is the installation prefix (``sys.prefix``, or
    the one above a ``lib/.../site-packages`` folder) when it is installed, else ``None``.
    An installed app keeps its instance folder under ``<prefix>/var``, not in site-packages."""
    folder = package_folder(import_name) or os.getcwd()
    prefix = os.path.abspath(sys.prefix)
    if os.path.commonpath([folder, prefix]) == prefix:
        return prefix, folder
    parent, name = os.path.split(folder)
    if name.lower() != "site-packages":
        return None, folder
    above, lib = os.path.split(parent)
    if lib.lower() == "lib":
        return above, folder
    if os.path.basename(above).lower() == "lib":
        return os.path.dirname(above), folder
    return parent, folder


def exception_class_and_code(
    exc_class_or_code: type[BaseException] | int,
) -> tuple[type[BaseException], int | None]:
    """Normalize what ``errorhandler`` accepts to an exception class and its HTTP code."""
    if isinstance(exc_class_or_code, int):
        try:
            exc_class: t.Any = default_exceptions[exc_class_or_code]
        except KeyError:
            raise ValueError(
                f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a subclass of"
                " HTTPException with that code instead."
            ) from None
    else:
        exc_class = exc_class_or_code
    if isinstance(exc_class, BaseException):
        raise TypeError(
            f"{exc_class!r} is an instance, not a class. Handlers can only be registered for"
            " Exception classes or HTTP error codes."
        )
    if not isinstance(exc_class, type) or not issubclass(exc_class, Exception):
        raise ValueError(
            f"'{getattr(exc_class, '__name__', exc_class)}' is not a subclass of Exception."
            " Handlers can only be registered for Exception classes or HTTP error codes."
        )
    if issubclass(exc_class, HTTPException):
        return exc_class, exc_class.code
    return exc_class, None


class Scaffold:
    """What the app and a blueprint both register. Each registry is keyed by blueprint name
    (``None`` for the app), so the app can hold its blueprints' hooks too."""

    name: str

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        #: The module or package name this object was created in (``__name__``).
        self.import_name = import_name
        self._static_folder: str | None = None
        self._static_url_path: str | None = None
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.template_folder = template_folder
        #: The folder resources are found relative to.
        self.root_path = root_path if root_path is not None else get_root_path(import_name)

        self.view_functions: dict[str, ft.RouteCallable] = {}
        self.error_handler_spec: dict[ft.AppOrBlueprintKey, ErrorHandlerMap] = defaultdict(
            lambda: defaultdict(dict)
        )
        self.before_request_funcs: dict[ft.AppOrBlueprintKey, list[ft.BeforeRequestCallable]]
        self.before_request_funcs = defaultdict(list)
        self.after_request_funcs: dict[ft.AppOrBlueprintKey, list[ft.AfterRequestCallable]]
        self.after_request_funcs = defaultdict(list)
        self.before_websocket_funcs: dict[ft.AppOrBlueprintKey, list[ft.BeforeRequestCallable]]
        self.before_websocket_funcs = defaultdict(list)
        self.after_websocket_funcs: dict[ft.AppOrBlueprintKey, list[ft.AfterRequestCallable]]
        self.after_websocket_funcs = defaultdict(list)
        self.teardown_request_funcs: dict[ft.AppOrBlueprintKey, list[ft.TeardownCallable]]
        self.teardown_request_funcs = defaultdict(list)
        self.url_value_preprocessors: dict[
            ft.AppOrBlueprintKey, list[ft.URLValuePreprocessorCallable]
        ] = defaultdict(list)
        self.url_default_functions: dict[ft.AppOrBlueprintKey, list[ft.URLDefaultCallable]]
        self.url_default_functions = defaultdict(list)
        self.template_context_processors: dict[
            ft.AppOrBlueprintKey, list[ft.TemplateContextProcessorCallable]
        ] = defaultdict(list)

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # --- routes -------------------------------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule; :meth:`route` is the decorator form."""
        raise NotImplementedError

    def route(self, rule: str, **options: t.Any) -> Callable[[T_route], T_route]:
        """Decorate a view function to serve ``rule``.

        ``methods`` lists the HTTP methods (default ``["GET"]``; HEAD and OPTIONS are added),
        ``endpoint`` names it for :func:`url_for` (default: the function name); other options go
        to :class:`werkzeug.routing.Rule` (``defaults``, ``host``, ``subdomain``,
        ``strict_slashes``, ...). Views may be sync or async.
        """

        def decorator(f: T_route) -> T_route:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> Callable[[T_route], T_route]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    def get(self, rule: str, **options: t.Any) -> Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["GET"]``."""
        return self._method_route("GET", rule, options)

    def post(self, rule: str, **options: t.Any) -> Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["POST"]``."""
        return self._method_route("POST", rule, options)

    def put(self, rule: str, **options: t.Any) -> Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["PUT"]``."""
        return self._method_route("PUT", rule, options)

    def delete(self, rule: str, **options: t.Any) -> Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["DELETE"]``."""
        return self._method_route("DELETE", rule, options)

    def patch(self, rule: str, **options: t.Any) -> Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["PATCH"]``."""
        return self._method_route("PATCH", rule, options)

    def websocket(self, rule: str, **options: t.Any) -> Callable[[T_route], T_route]:
        """Decorate an ``async def`` handler for WebSocket connections to ``rule``; it talks to
        the client through :data:`erlen.websocket`. Served under ASGI servers."""

        def decorator(f: T_route) -> T_route:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, websocket=True, **options)
            return f

        return decorator

    @setupmethod
    def endpoint(self, endpoint: str) -> Callable[[F], F]:
        """Decorate a function as the view of ``endpoint`` (for rules added without a view)."""

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # --- templates and static files -----------------------------------------------------------

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, or ``None``."""
        if self._static_folder is None:
            return None
        return os.path.join(self.root_path, self._static_folder)

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        self._static_folder = os.fspath(value).rstrip("\\/") if value is not None else None

    @property
    def has_static_folder(self) -> bool:
        """Whether a static folder is configured (it need not exist)."""
        return self._static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix of the static files (``/static`` for a folder named ``static``)."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            return f"/{os.path.basename(self.static_folder)}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        self._static_url_path = value.rstrip("/") if value is not None else None

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """The ``Cache-Control: max-age`` for a sent file (``SEND_FILE_MAX_AGE_DEFAULT``); ``None``
        lets browsers revalidate with the ETag each time."""
        from .globals import current_app

        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str | os.PathLike[str]) -> Response:
        """The view of the ``static`` endpoint: send a file from the static folder."""
        if self.static_folder is None:
            raise RuntimeError("'static_folder' must be set to serve static files.")
        from .files import send_from_directory

        filename = os.fspath(filename)
        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(self.static_folder, filename, max_age=max_age)

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """The Jinja loader of this object's template folder (``None`` without one)."""
        from .templating import folder_loader

        return folder_loader(self)

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`root_path` for reading (``"rb"``, ``"r"``, ``"rt"``);
        text modes use ``encoding`` (default UTF-8)."""
        if mode not in ("r", "rt", "rb"):
            raise ValueError(f"Resources can only be opened for reading, not with mode {mode!r}.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding or "utf-8")

    @cached_property
    def cli(self) -> AppGroup:
        """The click group of this object's commands (``@app.cli.command()``), run by the
        ``erlen`` command. Created on first use, so click is imported only when needed."""
        from .cli import AppGroup

        return AppGroup(self.name)

    @setupmethod
    def context_processor(self, f: T_ctx_processor) -> T_ctx_processor:
        """Decorate ``f()`` returning a dict of values to add to every template's context."""
        self.template_context_processors[None].append(f)
        return f

    # --- hooks --------------------------------------------------------------------------------

    @setupmethod
    def before_request(self, f: T_before) -> T_before:
        """Run ``f()`` before each request; a non-``None`` return value is the response and the
        view is skipped."""
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def before_websocket(self, f: T_before) -> T_before:
        """Run ``f()`` before each WebSocket handler (during the handshake); a non-``None``
        return value refuses the connection with that response."""
        self.before_websocket_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_websocket(self, f: T_after) -> T_after:
        """Run ``f(response)`` after each WebSocket handler; ``response`` is ``None`` unless the
        handler returned one (to refuse the handshake). Return it (or a replacement)."""
        self.after_websocket_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: T_after) -> T_after:
        """Run ``f(response)`` after each request; it returns the response (the same or new)."""
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: T_teardown) -> T_teardown:
        """Run ``f(error)`` when the request context is popped, even after an error (``error`` is
        the unhandled exception or ``None``). Its return value is ignored."""
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: T_url_pre) -> T_url_pre:
        """Run ``f(endpoint, view_args)`` after matching, before the ``before_request`` hooks;
        it may pop values from ``view_args`` (into ``g``, for instance)."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: T_url_defaults) -> T_url_defaults:
        """Run ``f(endpoint, values)`` when building a URL; it may fill in missing values."""
        self.url_default_functions[None].append(f)
        return f

    # --- errors -------------------------------------------------------------------------------

    @setupmethod
    def errorhandler(
        self, code_or_exception: type[Exception] | int
    ) -> Callable[[T_error], T_error]:
        """Decorate ``f(error)`` to handle an HTTP status code or an exception class (and its
        subclasses); its return value becomes the response."""

        def decorator(f: T_error) -> T_error:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: ft.ErrorHandlerCallable
    ) -> None:
        """Non-decorator form of :meth:`errorhandler`."""
        exc_class, code = exception_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f
