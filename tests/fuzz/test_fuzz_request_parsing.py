"""Runs the request-parsing fuzz target briefly, with a fixed seed and a time bound: under
atheris when it is installed, and always with the built-in random driver."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from fuzz_request_parsing import SEEDS, builtin_fuzz, parse, run_one
from fuzzing import FUZZ_SECONDS, run_atheris
from support.security_harness import build_app

from erlen import Erlen

TARGET = Path(__file__).with_name("fuzz_request_parsing.py")


def test_seeds_are_requests_and_answered() -> None:
    app = build_app()
    assert all(parse(seed) is not None for seed in SEEDS)
    assert all(run_one(app, seed) for seed in SEEDS)


def test_parse_refuses_what_a_server_refuses() -> None:
    assert parse(b"GET / HTTP/1.1\r\nHost: x") is None  # no end of head
    assert parse(b"GET /\x00 HTTP/1.1\r\n\r\n") is None
    assert parse(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") is None
    assert parse(b"G(T / HTTP/1.1\r\n\r\n") is None
    request = parse(b"post /a%2F?q=1#frag HTTP/1.1\r\nX-A:  v \r\n\r\nbody")
    assert request is not None
    assert (request.method, request.target, request.query) == ("POST", b"/a%2F", b"q=1#frag")
    assert request.headers == [("X-A", "v")]
    assert request.body == b"body"


def test_target_fails_on_a_server_error() -> None:
    """The target is not vacuous: a view that raises makes it fail."""
    app: Erlen = build_app()

    @app.get("/explode")
    def explode() -> str:
        raise ValueError("boom")

    with pytest.raises(AssertionError):
        run_one(app, b"GET /explode HTTP/1.1\r\nHost: localhost\r\n\r\n")


def test_builtin_driver_with_fixed_seed() -> None:
    tried, requests = builtin_fuzz(seed=1, iterations=3000, max_seconds=FUZZ_SECONDS)
    assert tried > len(SEEDS)
    assert requests >= len(SEEDS)


def test_atheris_run_with_fixed_seed(tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        pytest.skip("atheris is not installed (pip install atheris; it needs a libFuzzer build)")
    run_atheris(TARGET, tmp_path)
