"""Templates: one Jinja2 environment per app, created on first use.

Templates load from the app's ``templates/`` folder, then from each blueprint's template folder.
Autoescaping is on for ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg`` files and for
templates rendered from strings. ``config``, ``request``, ``session``, ``g``, ``url_for`` and
``get_flashed_messages`` are available in every template.
"""

from __future__ import annotations

import os
import typing as t
from collections.abc import Callable, Iterator

from jinja2 import BaseLoader, FileSystemLoader, Template, TemplateNotFound
from jinja2 import Environment as BaseEnvironment
from markupsafe import Markup

from ._speedups import ENABLED as _SPEEDUPS
from ._speedups.template_context import FastContextTemplate
from .globals import _cv_app, _cv_request, current_app, g, session
from .signals import (
    before_render_template,
    has_receivers,
    run_receiver_sync,
    template_rendered,
)

if t.TYPE_CHECKING:
    from .app import Erlen
    from .scaffold import Scaffold

#: File endings rendered with autoescaping.
AUTOESCAPE_EXTENSIONS = (".html", ".htm", ".xml", ".xhtml", ".svg")


def select_autoescape(filename: str | None) -> bool:
    """Autoescape templates from strings (no file name) and HTML-like files."""
    return filename is None or filename.endswith(AUTOESCAPE_EXTENSIONS)


def folder_loader(scaffold: Scaffold) -> FileSystemLoader | None:
    """The loader of an app's or blueprint's template folder, if it has one."""
    if scaffold.template_folder is None:
        return None
    return FileSystemLoader(os.path.join(scaffold.root_path, scaffold.template_folder))


class DispatchingJinjaLoader(BaseLoader):
    """Looks a template up in the app's folder first, then in each blueprint's."""

    def __init__(self, app: Erlen) -> None:
        self.app = app

    def _loaders(self) -> Iterator[BaseLoader]:
        for scaffold in (self.app, *self.app.iter_blueprints()):
            loader = scaffold.jinja_loader
            if loader is not None:
                yield loader

    def get_source(
        self, environment: BaseEnvironment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        for loader in self._loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for loader in self._loaders():
            names.update(loader.list_templates())
        return sorted(names)


class Environment(BaseEnvironment):
    """The app's Jinja environment (``app.jinja_env``)."""

    template_class = FastContextTemplate if _SPEEDUPS else Template

    def __init__(self, app: Erlen, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self.app = app


def create_environment(app: Erlen) -> Environment:
    """Build ``app.jinja_env`` from ``app.jinja_options`` and the app's settings."""
    from .flashing import get_flashed_messages
    from .security import csp_nonce, csrf_token
    from .urls import url_for

    options = dict(app.jinja_options)
    options.setdefault("autoescape", app.select_jinja_autoescape)
    if "auto_reload" not in options:
        auto_reload = app.config["TEMPLATES_AUTO_RELOAD"]
        options["auto_reload"] = app.debug if auto_reload is None else auto_reload
    env = (app.jinja_environment or Environment)(app, **options)
    env.globals.update(
        url_for=url_for,
        get_flashed_messages=get_flashed_messages,
        config=app.config,
        csrf_token=csrf_token,
        csp_nonce=csp_nonce,
    )
    env.policies["json.dumps_function"] = app.json.dumps
    return env


def update_template_context(app: Erlen, context: dict[str, t.Any]) -> None:
    """Add ``request``, ``session``, ``g`` and the context processors' values to ``context``;
    values the caller passed win over processors'."""
    given = dict(context)
    # The proxies, not the objects: ``g`` is made and the session opened only if the template
    # uses them.
    if _cv_app.get() is not None:
        context["g"] = g
    req_ctx = _cv_request.get()
    names: tuple[str | None, ...] = (None,)
    if req_ctx is not None:
        context["request"] = req_ctx.request
        context["session"] = session
        names = (None, *reversed(req_ctx.request.blueprints))
    for name in names:
        for processor in app.template_context_processors.get(name, ()):
            context.update(processor())
    context.update(given)


def _render(app: Erlen, template: Template, context: dict[str, t.Any]) -> str:
    update_template_context(app, context)
    if has_receivers(before_render_template, app):
        before_render_template.send(
            app, _async_wrapper=run_receiver_sync, template=template, context=context
        )
    text = template.render(context)
    if has_receivers(template_rendered, app):
        template_rendered.send(
            app, _async_wrapper=run_receiver_sync, template=template, context=context
        )
    return text


def _stream(app: Erlen, template: Template, context: dict[str, t.Any]) -> Iterator[str]:
    update_template_context(app, context)
    if has_receivers(before_render_template, app):
        before_render_template.send(
            app, _async_wrapper=run_receiver_sync, template=template, context=context
        )

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        if has_receivers(template_rendered, app):
            template_rendered.send(
                app, _async_wrapper=run_receiver_sync, template=template, context=context
            )

    return generate()


def _app() -> Erlen:
    return current_app._get_current_object()  # type: ignore[attr-defined, no-any-return]


def render_template(
    template_name_or_list: str | Template | list[str | Template], **context: t.Any
) -> str:
    """Render a template from the template folders (the first that exists, for a list)."""
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render a template given as a string (autoescaped)."""
    app = _app()
    return _render(app, app.jinja_env.from_string(source), context)


def stream_template(
    template_name_or_list: str | Template | list[str | Template], **context: t.Any
) -> Iterator[str]:
    """Render a template piece by piece; return it from a view to stream the page."""
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: t.Any) -> Iterator[str]:
    """Render a template string piece by piece."""
    app = _app()
    return _stream(app, app.jinja_env.from_string(source), context)


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """A macro or variable exported by a template, to call from Python."""
    return getattr(_app().jinja_env.get_template(template_name).module, attribute)


__all__ = [
    "Environment",
    "Markup",
    "get_template_attribute",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
]
