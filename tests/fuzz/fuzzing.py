"""What the fuzz targets share: their command line, and running one under atheris in a test."""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

#: The fuzzer's own time bound, and the test's (instrumenting the imports takes a few seconds).
FUZZ_SECONDS = 8
PROCESS_TIMEOUT = 90


def mutate(
    rng: random.Random,
    data: bytes,
    tokens: Sequence[bytes],
    seeds: Sequence[bytes],
    max_input: int,
    max_repeat: int = 50,
) -> bytes:
    """One to four random edits of ``data``: a flipped bit, an inserted token or random bytes, a
    deletion, a repeated piece (up to ``max_repeat`` times), or a splice with another seed."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(6)
        at = rng.randint(0, len(buffer))
        if choice == 0 and buffer:
            index = rng.randrange(len(buffer))
            buffer[index] ^= 1 << rng.randrange(8)
        elif choice == 1:
            buffer[at:at] = rng.choice(tokens)
        elif choice == 2:
            buffer[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice == 3 and buffer:
            del buffer[at : at + rng.randint(1, 16)]
        elif choice == 4 and buffer:
            piece = buffer[at : at + rng.randint(1, 64)]
            buffer[at:at] = piece * rng.randint(1, max_repeat)
        else:
            other = rng.choice(seeds)
            cut = rng.randint(0, len(other))
            buffer = buffer[:at] + bytearray(other[cut:])
    return bytes(buffer[:max_input])


def fuzz_cli(
    seeds: Sequence[bytes],
    builtin: Callable[[int, int, float], str],
    atheris_main: Callable[[list[str]], None],
) -> None:
    """``--write-seeds DIR`` writes the seed corpus, ``--builtin`` runs the random driver (which
    returns its summary), anything else goes to atheris."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--builtin", action="store_true")
    parser.add_argument("--write-seeds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--max-seconds", type=float, default=10.0)
    options, rest = parser.parse_known_args()
    if options.write_seeds:
        folder = Path(options.write_seeds)
        folder.mkdir(parents=True, exist_ok=True)
        for index, seed in enumerate(seeds):
            (folder / f"seed-{index:02d}").write_bytes(seed)
        return
    if options.builtin:
        print(builtin(options.seed, options.iterations, options.max_seconds))
        return
    atheris_main([sys.argv[0], *rest])


def run_atheris(target: Path, tmp_path: Path) -> None:
    """Run ``target`` under atheris from its seeds, with a fixed seed and bounded in runs and
    time; fails on a crash, a timeout or a saved artifact."""
    corpus = tmp_path / "corpus"
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    subprocess.run(
        [sys.executable, str(target), "--write-seeds", str(corpus)], check=True, timeout=30
    )
    result = subprocess.run(
        [
            sys.executable,
            str(target),
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
