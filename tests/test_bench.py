"""Smoke test of the benchmark suite: bench/inprocess.py runs, checks the apps' answers and
prints a table; bench/instructions.py counts. No timing is asserted (CI machines vary); peers
need not be installed."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bench(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``bench/<script>`` with ``args``; it must succeed."""
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out


def test_inprocess_quick_erlen_and_raw() -> None:
    out = _bench(
        "inprocess.py",
        *("--quick", "--scenarios", "hello,param", "--apps", "raw,erlen", "--no-import-time"),
        timeout=20,
    )
    for line in ("wsgi raw WSGI callable", "wsgi erlen (def views)", "asgi raw ASGI callable"):
        for scenario in ("hello", "param"):
            assert f"verified {line} {scenario}: OK" in out.stderr
    assert "verified asgi erlen (async def views) hello: OK" in out.stderr
    assert "check failed" not in out.stderr
    assert "| app | hello | param JSON |" in out.stdout
    assert "| raw WSGI callable | 1.00x |" in out.stdout
    assert "| erlen (def views) |" in out.stdout
    assert "| erlen (async def views) |" in out.stdout


def test_instructions_counts_erlen_against_raw() -> None:
    """bench/instructions.py counts a request's instructions under valgrind (installed by
    ``make test``): erlen's hello executes more of them than the raw callable's."""
    out = _bench(
        "instructions.py",
        *("--scenarios", "hello", "--apps", "raw,erlen", "--interfaces", "wsgi"),
        *("--requests", "50"),
        timeout=120,
    )
    rows = dict(
        line.strip("| ").split(" | ")
        for line in out.stdout.splitlines()
        if "callable |" in line or "erlen (def views) |" in line
    )
    raw, erlen = rows["raw WSGI callable"], rows["erlen (def views)"]
    assert raw.endswith("(1.00x)"), out.stdout
    ratio = float(erlen.rpartition("(")[2].rstrip("x)"))
    assert ratio > 1.5, out.stdout  # the framework adds work to the raw callable's
