"""Runs the multipart fuzz target briefly, with a fixed seed and a time bound: under atheris when
it is installed, and always with the built-in random driver."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from fuzz_multipart import SEEDS, boundary_of, builtin_fuzz, outcome, run_one

TARGET = Path(__file__).with_name("fuzz_multipart.py")
#: The fuzzer's own time bound, and the test's (instrumenting the imports takes a few seconds).
FUZZ_SECONDS = 8
PROCESS_TIMEOUT = 90


def test_seeds_parse_the_same_in_every_chunk_size() -> None:
    for seed in SEEDS:
        run_one(seed)
    assert outcome(SEEDS[0], b"XX", 1 << 16) == ([("a", "1")], [])
    assert outcome(SEEDS[1], b"XX", 1) == ([], [("f", "a.txt", "text/plain", b"hello")])


def test_boundary_of() -> None:
    assert boundary_of(b"--abc \r\nrest") == b"abc"
    assert boundary_of(b"no dashes") == b"XX"
    assert boundary_of(b"--\r\n") == b"XX"


def test_target_fails_on_an_unexpected_error() -> None:
    """The target is not vacuous: an error other than a 400 or a 413 fails it."""
    with pytest.raises(TypeError):
        outcome(t.cast(bytes, None), b"XX", 7)


def test_builtin_driver_with_fixed_seed() -> None:
    tried = builtin_fuzz(seed=1, iterations=3000, max_seconds=FUZZ_SECONDS)
    assert tried > len(SEEDS)


def test_atheris_run_with_fixed_seed(tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        pytest.skip("atheris is not installed (pip install atheris; it needs a libFuzzer build)")
    corpus = tmp_path / "corpus"
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    subprocess.run(
        [sys.executable, str(TARGET), "--write-seeds", str(corpus)], check=True, timeout=30
    )
    result = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            str(corpus),
            "-seed=1",
            "-runs=20000",
            f"-max_total_time={FUZZ_SECONDS}",
            "-timeout=10",
            "-rss_limit_mb=4096",
            f"-artifact_prefix={artifacts}/",
        ],
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Done" in output, output[-4000:]
    assert not list(artifacts.iterdir()), output[-4000:]
