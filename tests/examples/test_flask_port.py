"""examples/flask-port: a Flask app with Flask-Login, Flask-WTF, Flask-SQLAlchemy and
Flask-Migrate, ported by one import. Its own tests run through the alias in a fresh interpreter
(this one has imported the real Flask); its migrations run through the ``erlen`` command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORT_ROOT = ROOT / "examples" / "flask-port"
ERLEN = Path(sys.executable).with_name("erlen")


def _env(**extra: str) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("ERLEN_", "FLASK_"))
    }
    path = os.pathsep.join([str(ROOT / "src"), str(PORT_ROOT)])
    return {**env, "PYTHONPATH": path, "ERLEN_SKIP_DOTENV": "1", **extra}


def test_the_ports_own_tests_pass_on_both_protocols() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        cwd=PORT_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if line.startswith("PASSED")]
    assert sum("[wsgi]" in line for line in passed) == sum("[asgi]" in line for line in passed) > 5


def test_flask_migrate_migrates_a_real_database_through_erlen(tmp_path: Path) -> None:
    database = tmp_path / "notes.sqlite"
    migrations = tmp_path / "migrations"
    env = _env(
        ERLEN_FLASK_ALIAS="1",
        ERLEN_APP="wsgi",
        FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        FLASK_SECRET_KEY="a-secret-key-that-is-long-enough-0123456789",
    )

    def erlen(*args: str) -> str:
        result = subprocess.run(
            [str(ERLEN), *args],
            cwd=PORT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    erlen("db", "init", "-d", str(migrations))
    assert "Generating" in erlen("db", "migrate", "-d", str(migrations), "-m", "first")
    erlen("db", "upgrade", "-d", str(migrations))
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"user", "note", "alembic_version"} <= tables
    assert version is not None
    assert version[0] in erlen("db", "current", "-d", str(migrations))
