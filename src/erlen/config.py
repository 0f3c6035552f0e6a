"""Application configuration: a dict with Flask's default keys and a few loaders."""

from __future__ import annotations

import errno
import json
import os
import types
import typing as t
from collections.abc import Callable
from datetime import timedelta

DEFAULT_CONFIG: dict[str, t.Any] = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    # None: Secure when the request came over https.
    "SESSION_COOKIE_SECURE": None,
    "SESSION_COOKIE_PARTITIONED": False,
    # Secure default: Flask leaves this unset, erlen sends Lax.
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_REFRESH_EACH_REQUEST": True,
    # Secure default: Flask has no body limit, erlen refuses bodies over 16 MiB.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    # Secure default: send_from_directory and the static route answer 404 for dotfiles and
    # dot-folders (.env, .git/), .well-known excepted.
    "SEND_FILE_ALLOW_DOTFILES": False,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
    # Security (docs/security.md). Refuse unsafe requests a browser sends from another site.
    "CROSS_SITE_PROTECTION": True,
    # Origins ("https://partner.example") allowed to send unsafe requests.
    "TRUSTED_ORIGINS": [],
    # Also require a session token (csrf_token()) on unsafe requests, for old browsers.
    "CSRF_TOKEN_CHECK": False,
    # Added to every response that does not set them; a value of None leaves one out.
    "SECURITY_HEADERS": {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "SAMEORIGIN",
    },
    # Strict-Transport-Security on https responses, e.g. "max-age=31536000; includeSubDomains".
    "HSTS": None,
    # Content-Security-Policy; "{nonce}" is replaced by csp_nonce() of the request.
    "CONTENT_SECURITY_POLICY": None,
    # Limits on what a request may make the app process (each refused with a 4xx).
    "MAX_JSON_DEPTH": 64,
    "MAX_QUERY_PARAMETERS": 1_000,
    "MAX_HEADER_COUNT": 100,
    # Bytes of the header fields' names and values (431 over it): as nginx's default buffers.
    "MAX_HEADER_SIZE": 32 * 1024,
    # Seconds an ASGI request body may stall between chunks (408 after that).
    "BODY_READ_TIMEOUT": 30.0,
    # Proxies in front of the app whose X-Forwarded-*/Forwarded headers are believed.
    "TRUSTED_PROXIES": 0,
    # Seconds shutdown waits for running background tasks before cancelling them.
    "BACKGROUND_TASK_SHUTDOWN_TIMEOUT": 5.0,
    # Freeze the objects that exist when a server starts the app out of the cycle collector's
    # way (gc.freeze()): see Lifecycle.freeze_heap.
    "GC_FREEZE_ON_SERVE": True,
}


T = t.TypeVar("T")

_FALSE_WORDS = ("0", "false", "no")


def environ_setting(name: str) -> str | None:
    """The environment variable ``ERLEN_<name>``, else ``FLASK_<name>``, else ``None``: a
    Flask app's environment (``FLASK_APP``, ``FLASK_DEBUG``) keeps working after a port."""
    value = os.environ.get(f"ERLEN_{name}")
    return os.environ.get(f"FLASK_{name}") if value is None else value


def get_debug_flag() -> bool:
    """Whether ``ERLEN_DEBUG`` (or ``FLASK_DEBUG``) turns debug mode on: set, and not ``0``,
    ``false`` or ``no``."""
    value = environ_setting("DEBUG")
    return bool(value) and value.lower() not in _FALSE_WORDS  # type: ignore[union-attr]


def get_load_dotenv(default: bool = True) -> bool:
    """Whether the ``erlen`` command should load ``.env`` files: ``default``, unless
    ``ERLEN_SKIP_DOTENV`` (or ``FLASK_SKIP_DOTENV``) is set to a true value."""
    skip = environ_setting("SKIP_DOTENV")
    if not skip:
        return default
    return skip.lower() in _FALSE_WORDS


class ConfigAttribute(t.Generic[T]):
    """An attribute of an app (or anything with a ``config``) that reads and writes one config
    key, converted on read by ``get_converter`` when given. Use it on an app subclass to give a
    setting of your own an attribute: ``api_version = ConfigAttribute[str]("API_VERSION")``."""

    def __init__(self, name: str, get_converter: Callable[[t.Any], T] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @t.overload
    def __get__(self, obj: None, owner: None) -> ConfigAttribute[T]: ...

    @t.overload
    def __get__(self, obj: t.Any, owner: t.Any) -> T: ...

    def __get__(self, obj: t.Any, owner: t.Any = None) -> T | ConfigAttribute[T]:
        if obj is None:
            return self
        value = obj.config[self.__name__]
        return value if self.get_converter is None else self.get_converter(value)

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, t.Any]):
    """The ``app.config`` mapping. Only upper-case keys are taken by the loaders."""

    def __init__(self, root_path: str = ".", defaults: t.Mapping[str, t.Any] | None = None):
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_mapping(
        self,
        mapping: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]] | None = None,
        **kwargs: t.Any,
    ) -> bool:
        """Update from a mapping and keyword arguments, ignoring non-upper-case keys."""
        items: dict[str, t.Any] = dict(mapping or {})  # a mapping or (key, value) pairs
        items.update(kwargs)
        for key, value in items.items():
            if key.isupper():
                self[key] = value
        return True

    def from_object(self, obj: object | str) -> None:
        """Update from the upper-case attributes of an object (or an import string)."""
        if isinstance(obj, str):
            from werkzeug.utils import import_string

            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def _path(self, filename: str | os.PathLike[str]) -> str:
        return os.path.join(self.root_path, os.fspath(filename))

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Update from the upper-case names a Python file defines (``root_path``-relative).

        Returns ``False`` when the file is missing and ``silent`` is true.
        """
        path = self._path(filename)
        namespace = types.ModuleType("config")
        namespace.__file__ = path
        try:
            with open(path, "rb") as file:
                code = compile(file.read(), path, "exec")
        except OSError as error:
            if silent and _is_missing(error):
                return False
            raise _with_context(error, "Unable to load configuration file") from None
        exec(code, namespace.__dict__)
        self.from_object(namespace)
        return True

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[t.IO[t.Any]], t.Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Update from a file parsed by ``load`` (``json.load``; ``tomllib.load`` with
        ``text=False``); the file name is ``root_path``-relative.

        Returns ``False`` when the file is missing and ``silent`` is true.
        """
        path = self._path(filename)
        try:
            with open(path, "r" if text else "rb") as file:
                data = load(file)
        except OSError as error:
            if silent and _is_missing(error):
                return False
            raise _with_context(error, "Unable to load configuration file") from None
        if not isinstance(data, t.Mapping):
            raise TypeError(f"{path!r} did not load as a mapping but as {type(data).__name__!r}.")
        return self.from_mapping(data)

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Update from the Python file named by the environment variable ``variable_name``."""
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set, so no configuration"
                " file could be loaded from it. Set it to the path of a configuration file."
            )
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self, prefix: str | None = None, *, loads: Callable[[str], t.Any] = json.loads
    ) -> bool:
        """Update from the environment variables named ``{prefix}_KEY``; without a prefix,
        ``FLASK_KEY`` then ``ERLEN_KEY`` (which wins), so a ported app's environment works.

        Values are parsed with ``loads`` (JSON: ``1``, ``true``, ``[1, 2]``...), falling back to
        the string. Double underscores set nested keys: ``ERLEN_DB__HOST`` sets
        ``config["DB"]["HOST"]``.
        """
        for each in ("FLASK", "ERLEN") if prefix is None else (prefix,):
            self._update_from_prefixed_env(f"{each}_", loads)
        return True

    def _update_from_prefixed_env(self, start: str, loads: Callable[[str], t.Any]) -> None:
        for variable in sorted(os.environ):
            if not variable.startswith(start) or variable == start:
                continue
            raw = os.environ[variable]
            try:
                value = loads(raw)
            except Exception:
                value = raw
            *parents, key = variable[len(start) :].split("__")
            target: t.MutableMapping[str, t.Any] = self
            for parent in parents:
                target = target.setdefault(parent, {})
                if not isinstance(target, t.MutableMapping):
                    raise TypeError(
                        f"Cannot set {variable!r}: the config value {parent!r} is not a dict."
                    )
            target[key] = value

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """The keys starting with ``namespace`` (``"MAIL_"``), trimmed and lower-cased."""
        found: dict[str, t.Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


def _is_missing(error: OSError) -> bool:
    return error.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR)


def _with_context(error: OSError, what: str) -> OSError:
    # OSError's message then reads: [Errno 2] Unable to load ... (No such file ...): '/the/path'
    error.strerror = f"{what} ({error.strerror})"
    return error
