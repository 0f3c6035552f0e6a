"""The default instance folder: beside the app's top-level package, or beside its module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from erlen import Erlen


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "shop" / "web").mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "web" / "__init__.py").write_text("")
    (tmp_path / "single.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("shop", "shop.web", "single"):
        sys.modules.pop(name, None)


def test_a_package_gets_the_folder_beside_it(code: Path) -> None:
    import shop  # type: ignore[import-not-found]  # noqa: F401

    app = Erlen("shop")
    assert app.root_path == str(code / "shop")
    assert app.instance_path == str(code / "instance")  # not inside the package's code


def test_a_subpackage_uses_its_top_level_package(code: Path) -> None:
    assert Erlen("shop.web").instance_path == str(code / "instance")  # even before an import


def test_a_module_gets_the_folder_beside_it(code: Path) -> None:
    assert Erlen("single").instance_path == str(code / "instance")


def test_an_unknown_name_uses_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Erlen("no_such_module_here").instance_path == str(tmp_path / "instance")


def test_an_explicit_instance_path_wins(code: Path) -> None:
    assert Erlen("shop", instance_path=str(code / "elsewhere")).instance_path == str(
        code / "elsewhere"
    )
