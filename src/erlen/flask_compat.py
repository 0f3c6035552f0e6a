"""How ``import flask`` resolves to erlen: which erlen module plays each Flask module, the names
erlen spells its own way, and the import hook. :mod:`erlen.flask_alias` turns it on.

Each ``flask.<module>`` is a thin view of the erlen module of the same role: reading a name
reads erlen's object (``flask.Flask`` is :class:`erlen.Erlen`), and setting one (a test's
``monkeypatch.setattr(flask.cli, ...)``) sets it on erlen's module.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import typing as t

__all__ = ["ERLEN_MODULES", "RENAMED", "install", "is_installed"]

#: The erlen module that plays the role of each Flask module.
ERLEN_MODULES: dict[str, str] = {
    "flask": "erlen",
    "flask.app": "erlen.app",
    "flask.blueprints": "erlen.blueprints",
    "flask.cli": "erlen.cli",
    "flask.config": "erlen.config",
    "flask.ctx": "erlen.ctx",
    "flask.debughelpers": "erlen.debughelpers",
    "flask.globals": "erlen.globals",
    "flask.helpers": "erlen.helpers",
    "flask.json": "erlen.json",
    "flask.json.provider": "erlen.json.provider",
    "flask.json.tag": "erlen.json.tag",
    "flask.logging": "erlen.logging",
    "flask.sansio": "erlen",
    "flask.sansio.app": "erlen.app",
    "flask.sansio.blueprints": "erlen.blueprints",
    "flask.sansio.scaffold": "erlen.scaffold",
    "flask.sessions": "erlen.sessions",
    "flask.signals": "erlen.signals",
    "flask.templating": "erlen.templating",
    "flask.testing": "erlen.testing",
    "flask.typing": "erlen.typing",
    "flask.views": "erlen.views",
    "flask.wrappers": "erlen.wrappers",
}

#: Names that erlen spells its own way, by Flask module: Flask's name -> erlen's name.
RENAMED: dict[str, dict[str, str]] = {
    "flask": {"Flask": "Erlen"},
    "flask.app": {"Flask": "Erlen"},
    "flask.sansio.app": {"App": "Erlen"},
    "flask.testing": {"FlaskClient": "ErlenClient", "FlaskCliRunner": "ErlenCliRunner"},
    "flask.cli": {"FlaskGroup": "ErlenGroup"},
}


class _FlaskView(types.ModuleType):
    """``flask.<module>``: reads and writes go to the erlen module; submodules stay its own."""

    def __init__(self, name: str, target: types.ModuleType) -> None:
        super().__init__(name, target.__doc__)
        object.__setattr__(self, "_erlen_module", target)
        object.__setattr__(self, "_renamed", RENAMED.get(name, {}))
        if hasattr(target, "__path__"):
            object.__setattr__(self, "__path__", [])

    def __getattr__(self, name: str) -> t.Any:
        target = object.__getattribute__(self, "_erlen_module")
        return getattr(target, object.__getattribute__(self, "_renamed").get(name, name))

    def __setattr__(self, name: str, value: t.Any) -> None:
        if name.startswith("__") or isinstance(value, _FlaskView):
            object.__setattr__(self, name, value)  # module machinery and flask.<sub> views
        else:
            setattr(self._erlen_module, self._renamed.get(name, name), value)

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__:
            object.__delattr__(self, name)
        else:
            delattr(self._erlen_module, self._renamed.get(name, name))

    def __dir__(self) -> list[str]:
        names = set(dir(self._erlen_module)) | set(self.__dict__) | set(self._renamed)
        return sorted(names)


class _FlaskViewFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers imports of ``flask`` and its modules with views of erlen's."""

    def find_spec(
        self,
        fullname: str,
        path: t.Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in ERLEN_MODULES:
            return None
        is_package = any(name.startswith(fullname + ".") for name in ERLEN_MODULES)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _FlaskView(spec.name, importlib.import_module(ERLEN_MODULES[spec.name]))

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the view reads everything from erlen's module."""


_finder = _FlaskViewFinder()


def is_installed() -> bool:
    """Whether ``import flask`` resolves to erlen in this process."""
    return _finder in sys.meta_path


def install() -> None:
    """Make ``import flask`` (and ``flask.<module>``) resolve to erlen from now on.

    Raises :class:`RuntimeError` when the real Flask is already imported: objects made by it
    could not be mixed with erlen's, so the alias must be on before the first ``import flask``.
    """
    if is_installed():
        return
    loaded = sys.modules.get("flask")
    if loaded is not None and not isinstance(loaded, _FlaskView):
        raise RuntimeError(
            "Flask is already imported: turn the alias on before anything imports flask (make"
            " `import erlen.flask_alias` the first import, or run pytest -p erlen.flask_alias)."
        )
    sys.meta_path.insert(0, _finder)
