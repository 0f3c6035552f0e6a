"""Smoke test of the benchmark suite: bench/inprocess.py runs, checks the apps' answers and
prints a table. No timing is asserted (CI machines vary); peers need not be installed."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_inprocess_quick_erlen_and_raw() -> None:
    out = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "bench", "inprocess.py"),
            "--quick",
            "--scenarios",
            "hello,param",
            "--apps",
            "raw,erlen",
            "--no-import-time",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for line in ("wsgi raw WSGI callable", "wsgi erlen (def views)", "asgi raw ASGI callable"):
        for scenario in ("hello", "param"):
            assert f"verified {line} {scenario}: OK" in out.stderr
    assert "verified asgi erlen (async def views) hello: OK" in out.stderr
    assert "check failed" not in out.stderr
    assert "| app | hello | param JSON |" in out.stdout
    assert "| raw WSGI callable | 1.00x |" in out.stdout
    assert "| erlen (def views) |" in out.stdout
    assert "| erlen (async def views) |" in out.stdout
