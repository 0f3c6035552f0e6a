"""Blueprints: a group of routes, hooks, handlers, templates and static files registered on an
app as a unit, under a URL prefix, a subdomain and an endpoint name prefix. Blueprints nest."""

from __future__ import annotations

import enum
import functools
import os
import typing as t
from collections.abc import Callable

from . import typing as ft
from .scaffold import Scaffold, setupmethod

if t.TYPE_CHECKING:
    from .app import Erlen

DeferredSetupFunction = Callable[["BlueprintSetupState"], None]
F = t.TypeVar("F", bound=Callable[..., t.Any])


class _Default(enum.Enum):
    """``cli_group`` not given: the blueprint's name (``None`` merges into the app's group)."""

    NAME = enum.auto()


_sentinel = _Default.NAME


class BlueprintSetupState:
    """What a blueprint's deferred setup functions receive when it is registered: the app, the
    registration options, and the prefixes that apply to its rules."""

    def __init__(
        self,
        blueprint: Blueprint,
        app: Erlen,
        options: dict[str, t.Any],
        first_registration: bool,
    ) -> None:
        self.app = app
        self.blueprint = blueprint
        self.options = options
        #: Whether this is the blueprint's first registration on the app.
        self.first_registration = first_registration
        subdomain = options.get("subdomain")
        self.subdomain: str | None = blueprint.subdomain if subdomain is None else subdomain
        url_prefix = options.get("url_prefix")
        self.url_prefix: str | None = blueprint.url_prefix if url_prefix is None else url_prefix
        self.name: str = options.get("name", blueprint.name)
        self.name_prefix: str = options.get("name_prefix", "")
        self.url_defaults = {**blueprint.url_values_defaults, **options.get("url_defaults", {})}

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        **options: t.Any,
    ) -> None:
        """Register a rule on the app, with the blueprint's URL prefix, subdomain, defaults and
        endpoint prefix applied."""
        if self.url_prefix is not None:
            prefix = self.url_prefix
            rule = "/".join((prefix.rstrip("/"), rule.lstrip("/"))) if rule else prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            if view_func is None:
                raise TypeError("add_url_rule() needs an endpoint or a view function.")
            endpoint = view_func.__name__
        defaults = {**self.url_defaults, **options.pop("defaults", {})}
        self.app.add_url_rule(
            rule,
            f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."),
            view_func,
            defaults=defaults or None,
            **options,
        )


class Blueprint(Scaffold):
    """A set of routes and functions to register on an app with
    :meth:`Erlen.register_blueprint`; registration options override the constructor's.

    ``name`` prefixes its endpoints (``"auth.login"``); ``url_prefix`` and ``subdomain`` apply to
    its rules; ``template_folder`` and ``static_folder`` are relative to its module's folder.
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        cli_group: str | _Default | None = _sentinel,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        self.url_values_defaults = url_defaults or {}
        self.cli_group = cli_group
        self.deferred_functions: list[DeferredSetupFunction] = []
        self._blueprints: list[tuple[Blueprint, dict[str, t.Any]]] = []
        self._got_registered_once = False

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the blueprint"
                f" '{self.name}'. It has already been registered at least once, any changes will"
                " not be applied consistently.\nMake sure all imports, decorators, functions,"
                " etc. needed to set up the blueprint are done before registering it."
            )

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Run ``func(state)`` each time the blueprint is registered."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Run ``func(state)`` on the blueprint's first registration on an app only."""

        @functools.wraps(func)
        def once(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(once)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Nest ``blueprint`` in this one: its endpoints become ``"this.nested.view"`` and its
        URL prefix and subdomain extend this one's."""
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func is not None and "." in getattr(view_func, "__name__", ""):
            raise ValueError("'view_func' name may not contain a dot '.' character.")
        self.record(
            lambda state: state.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )
        )

    def register(self, app: Erlen, options: dict[str, t.Any]) -> None:
        """Register on ``app`` (called by :meth:`Erlen.register_blueprint`)."""
        self_name = options.get("name", self.name)
        if not self_name or "." in self_name:
            raise ValueError("'name' may not be empty or contain a dot '.' character.")
        name = f"{options.get('name_prefix', '')}.{self_name}".lstrip(".")
        if name in app.blueprints:
            which = "this" if app.blueprints[name] is self else "a different"
            at = f" '{name}'" if self_name != name else ""
            raise ValueError(
                f"The name '{self_name}' is already registered for {which} blueprint{at}."
                " Use 'name=' to provide a unique name."
            )
        first_registration = not any(bp is self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = BlueprintSetupState(self, app, options, first_registration)
        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )
        self._merge_into(app, name)
        for deferred in self.deferred_functions:
            deferred(state)
        if "cli" in self.__dict__:  # bp.cli was used (click is imported only then)
            from .cli import register_blueprint_commands

            cli_group = options.get("cli_group", self.cli_group)
            register_blueprint_commands(
                app, self.cli, name if cli_group is _sentinel else cli_group
            )
        for blueprint, nested_options in self._blueprints:
            blueprint.register(app, self._nested_options(state, blueprint, nested_options, name))

    @staticmethod
    def _nested_options(
        state: BlueprintSetupState, blueprint: Blueprint, options: dict[str, t.Any], name: str
    ) -> dict[str, t.Any]:
        options = dict(options)
        subdomain = options.get("subdomain")
        if subdomain is None:
            subdomain = blueprint.subdomain
        if state.subdomain is not None and subdomain is not None:
            options["subdomain"] = f"{subdomain}.{state.subdomain}"
        elif subdomain is not None or state.subdomain is not None:
            options["subdomain"] = subdomain if subdomain is not None else state.subdomain
        url_prefix = options.get("url_prefix")
        if url_prefix is None:
            url_prefix = blueprint.url_prefix
        if state.url_prefix is not None and url_prefix is not None:
            options["url_prefix"] = f"{state.url_prefix.rstrip('/')}/{url_prefix.lstrip('/')}"
        elif url_prefix is not None or state.url_prefix is not None:
            options["url_prefix"] = url_prefix if url_prefix is not None else state.url_prefix
        options["name_prefix"] = name
        return options

    def _merge_into(self, app: Erlen, name: str) -> None:
        """Copy this blueprint's registries into the app's, keyed by its dotted name."""

        def key_of(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        for key, handlers in self.error_handler_spec.items():
            if handlers:
                app_handlers = app.error_handler_spec[key_of(key)]
                for code, by_class in handlers.items():
                    app_handlers[code].update(by_class)
        # Views bound with @bp.endpoint(name): the name is the app's endpoint, as in Flask.
        app.view_functions.update(self.view_functions)
        registries: tuple[tuple[t.Any, dict[t.Any, list[t.Any]]], ...] = (
            (self.before_request_funcs, app.before_request_funcs),
            (self.after_request_funcs, app.after_request_funcs),
            (self.before_websocket_funcs, app.before_websocket_funcs),
            (self.after_websocket_funcs, app.after_websocket_funcs),
            (self.teardown_request_funcs, app.teardown_request_funcs),
            (self.url_default_functions, app.url_default_functions),
            (self.url_value_preprocessors, app.url_value_preprocessors),
            (self.template_context_processors, app.template_context_processors),
        )
        for own, target in registries:
            for key, funcs in own.items():
                if funcs:  # empty lists would make the app take its slower hook path
                    target.setdefault(key_of(key), []).extend(funcs)

    # --- app-wide registration from a blueprint -----------------------------------------------

    def _record_on_app(self, registry: str, key: t.Any, func: t.Any) -> None:
        self.record_once(
            lambda state: getattr(state.app, registry).setdefault(key, []).append(func)
        )

    @setupmethod
    def before_app_request(self, f: F) -> F:
        """Like :meth:`Erlen.before_request`, for every request of the app."""
        self._record_on_app("before_request_funcs", None, f)
        return f

    @setupmethod
    def after_app_request(self, f: F) -> F:
        """Like :meth:`Erlen.after_request`, for every request of the app."""
        self._record_on_app("after_request_funcs", None, f)
        return f

    @setupmethod
    def teardown_app_request(self, f: F) -> F:
        """Like :meth:`Erlen.teardown_request`, for every request of the app."""
        self._record_on_app("teardown_request_funcs", None, f)
        return f

    @setupmethod
    def app_context_processor(self, f: F) -> F:
        """Like :meth:`Erlen.context_processor`, for every template of the app."""
        self._record_on_app("template_context_processors", None, f)
        return f

    @setupmethod
    def app_url_value_preprocessor(self, f: F) -> F:
        """Like :meth:`Erlen.url_value_preprocessor`, for every request of the app."""
        self._record_on_app("url_value_preprocessors", None, f)
        return f

    @setupmethod
    def app_url_defaults(self, f: F) -> F:
        """Like :meth:`Erlen.url_defaults`, for every URL the app builds."""
        self._record_on_app("url_default_functions", None, f)
        return f

    @setupmethod
    def app_errorhandler(self, code: type[Exception] | int) -> Callable[[F], F]:
        """Like :meth:`Erlen.errorhandler`, for errors anywhere in the app."""

        def decorator(f: F) -> F:
            self.record_once(lambda state: state.app.register_error_handler(code, f))
            return f

        return decorator

    def _app_template_registrar(
        self, kind: str, name: str | Callable[..., t.Any] | None
    ) -> Callable[..., t.Any]:
        # The app's registrar (Erlen._template_registrar), run when the blueprint is registered.
        def register(f: F) -> F:
            own_name = name if isinstance(name, str) else None
            self.record_once(lambda state: state.app._template_registrar(kind, own_name)(f))
            return f

        return register(name) if callable(name) else register

    @t.overload
    def app_template_filter(self, name: F) -> F: ...

    @t.overload
    def app_template_filter(self, name: str | None = None) -> Callable[[F], F]: ...

    @setupmethod
    def app_template_filter(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register a Jinja filter for the whole app."""
        return self._app_template_registrar("filters", name)

    @setupmethod
    def add_app_template_filter(self, f: Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja filter for the whole app under ``name``."""
        self._app_template_registrar("filters", name)(f)

    @t.overload
    def app_template_test(self, name: F) -> F: ...

    @t.overload
    def app_template_test(self, name: str | None = None) -> Callable[[F], F]: ...

    @setupmethod
    def app_template_test(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register a Jinja test for the whole app."""
        return self._app_template_registrar("tests", name)

    @setupmethod
    def add_app_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """Register a Jinja test for the whole app under ``name``."""
        self._app_template_registrar("tests", name)(f)

    @t.overload
    def app_template_global(self, name: F) -> F: ...

    @t.overload
    def app_template_global(self, name: str | None = None) -> Callable[[F], F]: ...

    @setupmethod
    def app_template_global(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Make a function available in every template of the app."""
        return self._app_template_registrar("globals", name)

    @setupmethod
    def add_app_template_global(self, f: Callable[..., t.Any], name: str | None = None) -> None:
        """Make ``f`` available in every template of the app under ``name``."""
        self._app_template_registrar("globals", name)(f)
