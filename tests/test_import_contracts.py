"""The import contracts checker of ``make lint`` (tests/import_contracts.py) finds what it must."""

from __future__ import annotations

import textwrap
from pathlib import Path

import import_contracts


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "erlen" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_the_package_keeps_its_contracts() -> None:
    assert import_contracts.broken_contracts(import_contracts.graph(import_contracts.ROOT)) == []


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "from .app import Erlen\n",
            "app.py": "from .helpers import url_for\nclass Erlen: ...\n",
            "helpers.py": "def url_for():\n    from .templating import render\n",
            "templating.py": "from .helpers import url_for\n",
        },
    )
    problems = import_contracts.broken_contracts(import_contracts.graph(root))
    assert problems == ["import cycle: erlen.helpers <-> erlen.templating"]


def test_imports_for_typing_only_do_not_count(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "from .app import Erlen\n",
            "app.py": "from .cli import AppGroup\nclass Erlen: ...\n",
            "cli.py": """\
                import typing as t
                if t.TYPE_CHECKING:
                    from .app import Erlen
                class AppGroup: ...
            """,
        },
    )
    assert import_contracts.broken_contracts(import_contracts.graph(root)) == []
    (root / "erlen" / "cli.py").write_text("from .app import Erlen\nclass AppGroup: ...\n")
    problems = import_contracts.broken_contracts(import_contracts.graph(root))
    assert "erlen.cli imports erlen.app: only erlen may" in problems
    assert any(problem.startswith("import cycle") for problem in problems)


def test_only_the_app_and_the_test_clients_reach_the_adapters(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "protocols/__init__.py": "",
            "protocols/wsgi.py": "def serve(): ...\n",
            "sessions.py": "from .protocols.wsgi import serve\n",
        },
    )
    problems = import_contracts.broken_contracts(import_contracts.graph(root))
    assert problems == [
        "erlen.sessions imports erlen.protocols.wsgi: only erlen.app, erlen.pipeline,"
        " erlen.protocols, erlen.testing may"
    ]


def test_the_package_keeps_the_speedups_fence() -> None:
    edges = import_contracts.graph(import_contracts.ROOT)
    assert import_contracts.speedups_imports(edges) == []
    assert import_contracts.werkzeug_private_uses(import_contracts.ROOT) == []


def test_the_speedups_import_nothing_above_them(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "_speedups/__init__.py": "",
            "_speedups/headers.py": "from ..config import Config\n",
            "config.py": "class Config: ...\n",
        },
    )
    problems = import_contracts.speedups_imports(import_contracts.graph(root))
    assert problems == [
        "erlen._speedups.headers imports erlen.config: the speedups import no other part of erlen"
    ]


def test_werkzeug_private_attributes_only_inside_the_speedups(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "_speedups/__init__.py": "",
            "_speedups/headers.py": "def pairs(headers):\n    return headers._list\n",
            "security.py": "def add(headers):\n    headers._list.append(('A', 'b'))\n",
            "wrappers.py": """\
                class Response:
                    _on_close: list[object]
                def close(response):
                    return response._on_close
            """,
        },
    )
    problems = import_contracts.werkzeug_private_uses(root)
    assert len(problems) == 1 and problems[0].startswith("erlen.security:2 uses werkzeug's private")


def test_the_package_keeps_its_layers() -> None:
    assert import_contracts.layer_breaches(import_contracts.graph(import_contracts.ROOT)) == []


def test_an_import_of_a_higher_layer_is_found(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "config.py": "def load():\n    from .sessions import SessionInterface\n",
            "sessions.py": "class SessionInterface: ...\n",
            "gadgets.py": "",
        },
    )
    problems = import_contracts.layer_breaches(import_contracts.graph(root))
    assert problems == [
        "erlen.config imports erlen.sessions, a higher layer (docs/design.md, layers)",
        "erlen.gadgets is in no layer of LAYERS: add it where it belongs",
    ]
