"""docs/tutorial.md and docs/extensions.md quote the blog's real files, and the tutorial's
tests pass against the blog."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import BLOG_ROOT

DOCS = BLOG_ROOT.parents[1] / "docs"
FILE_BLOCK = re.compile(r"<!-- file: (?P<path>\S+) -->\n```[\w+-]*\n(?P<code>.*?)\n```\n", re.S)
QUOTED_SUFFIXES = {".py", ".sql", ".html", ".js"}


def blog_files() -> dict[str, str]:
    return {
        path.relative_to(BLOG_ROOT).as_posix(): path.read_text()
        for path in sorted((BLOG_ROOT / "blog").rglob("*"))
        if path.is_file() and path.suffix in QUOTED_SUFFIXES and "__pycache__" not in path.parts
    }


def fenced_after(text: str, marker: str) -> str:
    """The code of the first fenced block after ``marker``."""
    rest = text[text.index(marker) :]
    match = re.search(r"```[\w+-]*\n(.*?)\n```\n", rest, re.S)
    assert match is not None, marker
    return match.group(1) + "\n"


def test_the_tutorial_quotes_every_file_of_the_blog_whole() -> None:
    text = (DOCS / "tutorial.md").read_text()
    quoted = {match["path"]: match["code"] + "\n" for match in FILE_BLOCK.finditer(text)}
    files = blog_files()
    assert len(files) >= 14
    assert sorted(quoted) == sorted(files)
    for path, content in files.items():
        assert quoted[path] == content, f"docs/tutorial.md differs from examples/blog/{path}"


def test_the_tutorials_css_is_the_start_of_the_style_sheet() -> None:
    text = (DOCS / "tutorial.md").read_text()
    excerpt = fenced_after(text, "## Step 5: static files")
    assert len(excerpt.splitlines()) > 10
    assert (BLOG_ROOT / "blog" / "static" / "style.css").read_text().startswith(excerpt)


def test_the_extensions_page_quotes_db_py_whole() -> None:
    text = (DOCS / "extensions.md").read_text()
    assert (
        fenced_after(text, "It is the whole of `blog/db.py`")
        == (BLOG_ROOT / "blog" / "schema.sql").read_text()
    )
    blocks = re.findall(r"```python\n(.*?\n)```\n", text, re.S)
    (code,) = [block for block in blocks if "class Database:" in block]
    assert code == (BLOG_ROOT / "blog" / "db.py").read_text()


def test_the_tutorials_tests_pass(tmp_path: Path) -> None:
    text = (DOCS / "tutorial.md").read_text()
    module = tmp_path / "test_from_the_tutorial.py"
    module.write_text(fenced_after(text, "## Step 9: tests"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(BLOG_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "6 passed" in result.stdout
