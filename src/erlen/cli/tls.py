"""The ``--cert`` and ``--key`` options of ``erlen run`` (HTTPS on the development server)."""

from __future__ import annotations

import importlib.util
import os
import typing as t

import click


class CertParamType(click.ParamType):  # type: ignore[type-arg]
    """``--cert``: a certificate file, ``adhoc`` (a throwaway certificate; needs the
    cryptography package) or the import string of an :class:`ssl.SSLContext`."""

    name = "path"

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        try:
            import ssl
        except ImportError:
            self.fail("'--cert' needs a Python built with SSL support.", param, ctx)
        if isinstance(value, ssl.SSLContext) or os.path.isfile(value):
            return value
        if value == "adhoc":
            try:
                importlib.import_module("cryptography")
            except ImportError:
                self.fail(
                    "Using ad-hoc certificates requires the cryptography library.", param, ctx
                )
            return value
        from werkzeug.utils import import_string

        try:
            context = import_string(value, silent=True)
        except Exception:
            context = None
        if isinstance(context, ssl.SSLContext):
            return context
        self.fail(
            f"{value!r} is not a certificate file, 'adhoc' or an SSLContext import string.",
            param,
            ctx,
        )


def _cert_and_key(ctx: click.Context, param: click.Parameter, key: str | None) -> str | None:
    """The ``--key`` callback: check it against ``--cert`` (parsed first, being eager) and
    put ``run_simple``'s ``ssl_context`` argument in the ``cert`` parameter."""
    import ssl

    cert = ctx.params.get("cert")
    single = cert == "adhoc" or isinstance(cert, ssl.SSLContext)
    if key is None:
        if cert is not None and not single:
            raise click.BadParameter('"--cert" needs "--key" too.', ctx, param)
        return None
    if cert is None:
        raise click.BadParameter('"--key" needs "--cert" too.', ctx, param)
    if single:
        raise click.BadParameter(
            '"--key" is only for a certificate file, not "adhoc" or an SSLContext.', ctx, param
        )
    ctx.params["cert"] = (cert, key)
    return key
