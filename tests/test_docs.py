"""Every ```python block of docs/*.md and README.md runs, and the site builds.

Each block runs in a fresh namespace, in a temporary working directory (so ``Erlen(__name__)``
finds ``templates/`` and ``static/`` there). HTML comments on the lines just above a fence
change that:

- ``<!-- skip: reason -->``: not run (the reason is required);
- ``<!-- continue -->``: run in the namespace of the previous block of the page;
- ``<!-- file: path -->``: the block (of any language) is written to ``path`` in the
  working directory instead of being run, for templates and modules that later blocks use;
- ``<!-- request: /path, POST /other -->``: requests to send once the block has run.

When a block leaves an ``app`` (an ``Erlen``), the requests named by its comments (or
``GET /``) are sent with the test client and must not answer 5xx. Functions named ``test_*``
that take no arguments are called, so test examples are checked too.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from erlen import Erlen

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
COMMENT = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None = None
    cont: bool = False
    file: str | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def parse_comment(block: Block, body: str) -> None:
    key, _sep, value = body.partition(":")
    key, value = key.strip().lower(), value.strip()
    if key == "skip":
        if not value:
            raise ValueError(f"{block.where}: <!-- skip --> needs a reason: <!-- skip: why -->")
        block.skip = value
    elif key == "continue":
        block.cont = True
    elif key == "file":
        block.file = value
    elif key == "request":
        for item in value.split(","):
            method, _sp, path = item.strip().rpartition(" ")
            block.requests.append((method.strip().upper() or "GET", path))
    # Other comments are ordinary comments.


def extract(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start = i
        indent = match["indent"]
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        block = Block(page, start + 1, match["lang"].lower(), "\n".join(body) + "\n")
        # Comments directly above the fence (blank lines between them are allowed).
        j = start - 1
        comments: list[str] = []
        while j >= 0 and (not lines[j].strip() or COMMENT.match(lines[j])):
            found = COMMENT.match(lines[j])
            if found:
                comments.append(found["body"])
            j -= 1
        for comment in reversed(comments):
            parse_comment(block, comment)
        if block.lang in ("python", "py") or block.file is not None:
            blocks.append(block)
    return blocks


def groups() -> list[list[Block]]:
    """The runs of blocks that share a namespace: a block, the ``<!-- continue -->`` blocks
    after it, and first every ``<!-- file -->`` block above it on its page."""
    result: list[list[Block]] = []
    for page in PAGES:
        files: list[Block] = []
        page_groups: list[list[Block]] = []
        for block in extract(page):
            if block.file is not None:
                files.append(block)
                if page_groups:  # written before the ``continue`` blocks that follow it
                    page_groups[-1].append(block)
            elif block.cont and page_groups:
                page_groups[-1].append(block)
            else:
                page_groups.append([*files, block])
        result.extend(page_groups)
    return result


GROUPS = groups()


def _run_group(blocks: list[Block], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [name for name in os.environ if name.startswith("ERLEN_")]:
        monkeypatch.delenv(name)
    namespace: dict[str, object] = {"__name__": "__docs_example__"}
    code = [block for block in blocks if block.file is None]
    for block in blocks:
        if block.file is not None:
            target = tmp_path / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
        else:
            exec(compile(block.code, block.where, "exec"), namespace)
    # Requests and tests once the whole run is set up: an app that has handled a request
    # refuses new routes, and later blocks may add some.
    app = namespace.get("app")
    if isinstance(app, Erlen):
        requests = [request for block in code for request in block.requests]
        if not code[0].requests:
            requests.insert(0, ("GET", "/"))
        _send_requests(app, code[-1], requests)
    for name, func in list(namespace.items()):
        if name.startswith("test_") and inspect.isfunction(func) and _no_params(func):
            func()


def _no_params(func: object) -> bool:
    return not inspect.signature(func).parameters  # type: ignore[arg-type]


def _send_requests(app: Erlen, block: Block, requests: list[tuple[str, str]]) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = True  # a failing view raises here, with its traceback
    client = app.test_client()
    for method, path in requests:
        response = client.open(path, method=method)
        assert response.status_code < 500, f"{block.where}: {method} {path} gave {response.status}"


def _first_code(group: list[Block]) -> Block:
    return next(block for block in group if block.file is None)


@pytest.mark.parametrize(
    "blocks",
    [
        pytest.param(group, id=_first_code(group).where)
        for group in GROUPS
        if _first_code(group).skip is None
    ],
)
def test_example_runs(blocks: list[Block], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modules = set(sys.modules)
    try:
        _run_group([block for block in blocks if block.skip is None], tmp_path, monkeypatch)
    finally:
        for name in set(sys.modules) - modules:  # modules the example wrote and imported
            if str(tmp_path) in str(getattr(sys.modules[name], "__file__", "") or ""):
                del sys.modules[name]


def test_skips_are_few() -> None:
    skipped = [block for group in GROUPS for block in group if block.skip is not None]
    run = [block for group in GROUPS for block in group if block.skip is None]
    assert run
    assert len(skipped) <= len(run) // 5, [block.where for block in skipped]


def test_continue_has_a_block_to_continue() -> None:
    for page in PAGES:
        blocks = extract(page)
        if blocks:
            assert not blocks[0].cont, f"{blocks[0].where}: nothing to continue"


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None,
    reason="the docs extra is not installed",
)
def test_site_builds(tmp_path: Path) -> None:
    # `mkdocs build --strict`: a broken link, a missing page or a docstring mkdocstrings cannot
    # read fails the build.
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "api" / "index.html").is_file()
