"""The blog example ports to and from Flask by its import lines (docs/migrating.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import erlen

BLOG = Path(__file__).resolve().parents[2] / "examples" / "blog" / "blog"

#: Flask 3.1's public names (``flask.__all__``-style), written out: Flask is not a dependency.
FLASK_NAMES = frozenset(
    {
        "Blueprint", "Config", "Flask", "Request", "Response", "abort", "after_this_request",
        "copy_current_request_context", "current_app", "flash", "g", "get_flashed_messages",
        "get_template_attribute", "has_app_context", "has_request_context", "json", "jsonify",
        "make_response", "redirect", "render_template", "render_template_string", "request",
        "send_file", "send_from_directory", "session", "stream_template",
        "stream_template_string", "stream_with_context", "url_for",
    }
)  # fmt: skip
#: The erlen modules the page names as having no Flask counterpart.
ERLEN_ONLY_MODULES = {"erlen.channels", "erlen.security", "erlen.sse", "erlen.typing"}


def blog_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(BLOG.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("erlen"):
                found.setdefault(str(node.module), set()).update(a.name for a in node.names)
    return found


def test_the_blog_imports_only_flask_names_from_erlen() -> None:
    imports = blog_imports()
    from_erlen = imports.pop("erlen")
    renamed = {"Erlen": "Flask"}
    assert {renamed.get(name, name) for name in from_erlen} <= FLASK_NAMES
    assert set(imports) <= ERLEN_ONLY_MODULES, "a new erlen-only import: document it"


def test_erlen_exports_every_flask_name_it_claims() -> None:
    for name in FLASK_NAMES - {"Flask", "json"}:
        assert hasattr(erlen, name), name
    assert erlen.json.jsonify is erlen.jsonify
