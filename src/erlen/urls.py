"""Binding the URL map to a request and building URLs (``url_for``)."""

from __future__ import annotations

import typing as t
from urllib.parse import quote as _url_quote

from werkzeug.routing import BuildError, MapAdapter

from .globals import _cv_app, _cv_request, current_app
from .security import refuse_unvouched_host

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request

_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def bind_url_map(app: Erlen, request: Request | None) -> MapAdapter | None:
    """A ``MapAdapter`` for the request (its host, scheme, root path, path and method), or
    outside a request for ``SERVER_NAME``, ``APPLICATION_ROOT`` and ``PREFERRED_URL_SCHEME``
    (``None`` without ``SERVER_NAME``)."""
    config = app.config
    url_map = app.url_map
    if request is None:
        server_name = config["SERVER_NAME"]
        if server_name is None:
            return None
        return url_map.bind(
            server_name,
            script_name=config["APPLICATION_ROOT"],
            url_scheme=config["PREFERRED_URL_SCHEME"],
            subdomain=None if app.subdomain_matching else url_map.default_subdomain or None,
        )
    host = request.host.lower()
    subdomain: str | None = None
    configured = config["SERVER_NAME"]
    use_host = url_map.host_matching or configured is None
    server_name = host if use_host else configured.lower()
    if not url_map.host_matching:
        if not app.subdomain_matching:
            subdomain = url_map.default_subdomain or ""
        else:
            subdomain = _subdomain_of(host, server_name)
    return url_map.bind(
        server_name,
        script_name=request.root_path or "/",
        subdomain=subdomain,
        url_scheme=request.scheme,
        default_method=request.method,
        path_info=request.path,
        query_args=request.query_string.decode("latin-1"),
    )


def build_url(
    app: Erlen,
    endpoint: str,
    _anchor: str | None,
    _method: str | None,
    _scheme: str | None,
    _external: bool | None,
    values: dict[str, t.Any],
) -> str:
    """The work of :meth:`Erlen.url_for`."""
    req_ctx = _cv_request.get()
    if req_ctx is not None:
        url_adapter = req_ctx.url_adapter
        if endpoint[:1] == ".":
            blueprint = req_ctx.request.blueprint
            endpoint = f"{blueprint}{endpoint}" if blueprint is not None else endpoint[1:]
        if _external is None:
            _external = _scheme is not None
        if _external:
            refuse_unvouched_host(app)
    else:
        app_ctx = _cv_app.get()
        url_adapter = app_ctx.url_adapter if app_ctx is not None else app.create_url_adapter(None)
        if url_adapter is None:
            raise RuntimeError(
                "Unable to build URLs outside an active request without 'SERVER_NAME'"
                " configured. Also configure 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME'"
                " as needed."
            )
        if _external is None:
            _external = True
    if _scheme is not None and not _external:
        raise ValueError("When specifying '_scheme', '_external' must be True.")
    assert url_adapter is not None
    app.inject_url_defaults(endpoint, values)
    try:
        rv = url_adapter.build(
            endpoint, values, method=_method, url_scheme=_scheme, force_external=_external
        )
    except BuildError as error:
        values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
        return app.handle_url_build_error(error, endpoint, values)
    if _anchor is not None:
        rv = f"{rv}#{_url_quote(_anchor, safe=_ANCHOR_SAFE)}"
    return rv


def _subdomain_of(host: str, server_name: str) -> str:
    # Strip default ports so "example.com:80" matches "example.com".
    host_parts = host.split(".")
    server_parts = server_name.split(".")
    if host_parts[-len(server_parts) :] != server_parts:
        return "<invalid>"
    return ".".join(host_parts[: -len(server_parts)])


def url_for(
    endpoint: str,
    /,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """The URL of ``endpoint`` with ``values`` for its rule's variables.

    Values that are not rule variables become the query string. ``".name"`` is relative to the
    current blueprint. ``_external`` gives an absolute URL (the default outside a request),
    ``_scheme`` its scheme, ``_anchor`` a ``#fragment``, ``_method`` picks among rules that differ
    by method. An unknown endpoint raises :class:`~werkzeug.routing.BuildError` unless a
    ``url_build_error_handlers`` function returns a URL.
    """
    return current_app.url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )
