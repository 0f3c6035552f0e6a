"""``erlen deploy-check``: the unsafe or missing production settings (erlen.deploy_checks)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest

from erlen import Erlen
from erlen.deploy_checks import run_checks

GOOD_KEY = "a-long-random-production-secret-0123456789"


def _safe_app() -> Erlen:
    """An app whose production settings are all set."""
    app = Erlen("deployed")
    app.config.update(
        SECRET_KEY=GOOD_KEY,
        TRUSTED_HOSTS=["example.com"],
        TRUSTED_PROXIES=1,
        HSTS="max-age=31536000",
        CONTENT_SECURITY_POLICY="default-src 'self'",
    )
    return app


def _ids(app: Erlen) -> set[str]:
    return {finding.id for finding in run_checks(app)}


def test_a_safe_configuration_has_no_findings() -> None:
    assert run_checks(_safe_app()) == []


CASES: list[tuple[str, dict[str, t.Any], str]] = [
    ("erlen.E001", {"SECRET_KEY": None}, "error"),
    ("erlen.E002", {"SECRET_KEY": "dev"}, "error"),
    ("erlen.E002", {"SECRET_KEY": "short-key"}, "error"),
    ("erlen.E003", {"DEBUG": True}, "error"),
    ("erlen.W001", {"TESTING": True}, "warning"),
    ("erlen.W002", {"TRUSTED_HOSTS": None}, "warning"),
    ("erlen.I001", {"TRUSTED_PROXIES": 0}, "info"),
    ("erlen.W003", {"SESSION_COOKIE_SECURE": False}, "warning"),
    ("erlen.W004", {"SESSION_COOKIE_HTTPONLY": False}, "warning"),
    ("erlen.W005", {"SESSION_COOKIE_SAMESITE": None}, "warning"),
    ("erlen.W006", {"HSTS": None}, "warning"),
    ("erlen.W007", {"CONTENT_SECURITY_POLICY": None}, "warning"),
    ("erlen.W008", {"SECURITY_HEADERS": {"Referrer-Policy": "no-referrer"}}, "warning"),
    ("erlen.W009", {"CROSS_SITE_PROTECTION": False}, "warning"),
    ("erlen.W010", {"MAX_CONTENT_LENGTH": None}, "warning"),
    ("erlen.W011", {"SEND_FILE_ALLOW_DOTFILES": True}, "warning"),
]


@pytest.mark.parametrize(("finding_id", "settings", "level"), CASES)
def test_each_finding_is_raised_by_its_setting(
    finding_id: str, settings: dict[str, t.Any], level: str
) -> None:
    app = _safe_app()
    app.config.update(settings)
    findings = [finding for finding in run_checks(app) if finding.id == finding_id]
    assert findings, run_checks(app)
    assert findings[0].level == level
    assert findings[0].fix  # it says what to set


def test_server_name_vouches_for_hosts_as_trusted_hosts_does() -> None:
    app = _safe_app()
    app.config.update(TRUSTED_HOSTS=None, SERVER_NAME="example.com")
    assert "erlen.W002" not in _ids(app)


def test_errors_come_first() -> None:
    app = Erlen("blank")
    levels = [finding.level for finding in run_checks(app)]
    assert levels == sorted(levels, key=["error", "warning", "info"].index)
    assert levels[0] == "error"


def test_the_command_lists_findings_and_fails_on_errors(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import os
            from erlen import Erlen

            app = Erlen(__name__)
            app.config.from_prefixed_env()
            """
        )
    )
    erlen_command = Path(sys.executable).with_name("erlen")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("ERLEN_", "FLASK_"))
    }

    def check(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(erlen_command), "deploy-check", *args],
            cwd=tmp_path,
            env={**env, **{f"ERLEN_{key}": value for key, value in settings.items()}},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    weak = check(SECRET_KEY="dev")
    assert weak.returncode == 1, weak.stderr
    assert "erlen.E002 (error)" in weak.stdout
    assert "erlen.W002 (warning)" in weak.stdout
    safe = {
        "SECRET_KEY": GOOD_KEY,
        "TRUSTED_HOSTS": '["example.com"]',
        "TRUSTED_PROXIES": "1",
        "HSTS": "max-age=60",
        "CONTENT_SECURITY_POLICY": "default-src 'self'",
    }
    passing = check(**safe)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "No issues found." in passing.stdout
    warned = check("--fail-on-warning", **{**safe, "HSTS": ""})
    assert "erlen.W006" in warned.stdout
    assert warned.returncode == 1
    assert check(**{**safe, "HSTS": ""}).returncode == 0  # a warning alone passes
