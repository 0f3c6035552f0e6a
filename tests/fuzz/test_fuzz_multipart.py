"""Runs the multipart fuzz target briefly, with a fixed seed and a time bound: under atheris when
it is installed, and always with the built-in random driver."""

from __future__ import annotations

import importlib.util
import typing as t
from pathlib import Path

import pytest
from fuzz_multipart import SEEDS, assert_bare_name, boundary_of, builtin_fuzz, outcome, run_one
from fuzzing import FUZZ_SECONDS, run_atheris

TARGET = Path(__file__).with_name("fuzz_multipart.py")


def test_seeds_parse_the_same_in_every_chunk_size() -> None:
    for seed in SEEDS:
        run_one(seed)
    assert outcome(SEEDS[0], b"XX", 1 << 16) == ([("a", "1")], [])
    assert outcome(SEEDS[1], b"XX", 1) == ([], [("f", "a.txt", "text/plain", b"hello")])
    _, files = outcome(SEEDS[-1], b"XX", 7)  # names that try to leave the folder
    assert [(key, name) for key, name, _, _ in files] == [("f", ""), ("g", ".env")]


def test_target_fails_on_a_name_with_a_folder() -> None:
    """The name check is not vacuous."""
    with pytest.raises(AssertionError):
        assert_bare_name("etc/passwd", "/etc/passwd")
    assert_bare_name("passwd", "/etc/passwd")


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
    run_atheris(TARGET, tmp_path)
