"""Fuzz target: a ``multipart/form-data`` body, parsed by ``erlen._speedups.forms.MultipartParser``.
Fails (raises) when parsing raises anything but a 400 or a 413, when the result (or the error)
depends on the size of the chunks the body is read in, or when an uploaded file's name is not
one bare name (a separator, a control character, ``.`` or ``..``).

The boundary is the first line of the input without its leading ``--`` (``XX`` when the input
does not start with one), so that mutations also reach the boundary.

With atheris (coverage-guided, libFuzzer options)::

    python tests/fuzz/fuzz_multipart.py CORPUS_DIR -runs=5000 -seed=1 -max_total_time=10

Without atheris, a small built-in driver mutates the seed bodies with a fixed seed::

    python tests/fuzz/fuzz_multipart.py --builtin --seed 1 --iterations 3000 --max-seconds 10

``--write-seeds DIR`` writes the seed bodies as a starting corpus.
"""

from __future__ import annotations

import io
import random
import time
import typing as t

from fuzzing import fuzz_cli
from fuzzing import mutate as fuzz_mutate

#: The most body bytes taken from one input.
MAX_INPUT = 64 * 1024
#: The chunk sizes every input is parsed with (the whole body at once last).
CHUNK_SIZES = (1, 7, 64, MAX_INPUT)

SEEDS: list[bytes] = [
    b'--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XX--\r\n',
    b'--XX\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n",
    b"--B0undary\r\nContent-Disposition: form-data; name*=UTF-8''%C3%A9; "
    b"filename*=UTF-8''%E2%82%AC.txt\r\n\r\n\r\n--B0undary\r\n--B0undaryX\r\n--B0undary--",
    b'preamble\r\n--XX  \r\ncontent-disposition: form-data;\r\n name="a"\r\n\r\n'
    b'\r\n--XY\r\n--XX\r\nContent-Disposition: form-data; name="b"\r\n\r\n--XX--epilogue',
    b'--XX\nContent-Disposition: form-data; name="lf"\n\nvalue\n--XX--\n',
    b"--XX\r\n\r\n--XX\r\nX: y\r\n\r\nno disposition\r\n--XX--",
    b'--XX\r\nContent-Disposition: form-data; name="f"; filename="b.bin"\r\n\r\n'
    + bytes(range(256))
    + b"\r\n--XX--\r\n",
    b'--XX\r\nContent-Disposition: form-data; name="f"; filename="../..\\C:\\x/..\x00"\r\n\r\n'
    b"x\r\n--XX\r\nContent-Disposition: form-data; name=g; filename*=UTF-8''..%2F%00%1F.env\r\n"
    b"\r\ny\r\n--XX--\r\n",
]
TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b"--",
    b"--XX",
    b"\r\n--XX",
    b"\r\n--XX--",
    b"\r\n\r\n",
    b'"',
    b"\\",
    b";",
    b"=",
    b"*",
    b"'",
    b"%",
    b"%22",
    b" ",
    b"\t",
    b"\x00",
    b"\xff",
    b"Content-Disposition: form-data; ",
    b'name="',
    b'filename="',
    b"filename*=UTF-8''",
    b"../",
    b"..\\",
    b"C:",
    b"%2F",
    b"%00",
    b"Content-Type: text/plain; charset=iso-8859-1",
]


def boundary_of(data: bytes) -> bytes:
    """The boundary an input declares: its first line without the leading ``--``."""
    if not data.startswith(b"--"):
        return b"XX"
    line = data[2:].split(b"\n", 1)[0].rstrip(b"\r \t")
    return line[:70] or b"XX"


def outcome(body: bytes, boundary: bytes, chunk_size: int) -> t.Any:
    """What parsing ``body`` gives: the fields and the files' contents, or the error code."""
    from werkzeug.exceptions import HTTPException

    from erlen._speedups.forms import MultipartParser
    from erlen.formparser import upload_filename, uploaded_file

    parser = MultipartParser(
        boundary,
        max_form_memory_size=1000,
        max_form_parts=50,
        content_length=len(body),
        chunk_size=chunk_size,
        spool_size=200,
        upload_name=upload_filename,
        make_file=uploaded_file,
    )
    try:
        fields, files = parser.parse(io.BytesIO(body))
    except HTTPException as error:
        assert error.code in (400, 413), error
        return error.code
    result = [(key, value.filename, value.content_type, value.read()) for key, value in files]
    for _, storage in files:
        storage.close()
        assert_bare_name(storage.filename, storage.raw_filename)
    return fields, result


def assert_bare_name(name: str | None, sent: str | None) -> None:
    """An uploaded file's name is the bare name of what was sent: no folder, no control."""
    from erlen.formparser import upload_filename

    assert name is not None and sent is not None, (name, sent)
    assert name == upload_filename(sent), (name, sent)
    assert "/" not in name and "\\" not in name and name not in (".", ".."), (name, sent)
    assert all(ord(char) >= 32 and not 127 <= ord(char) < 160 for char in name), (name, sent)


def run_one(data: bytes) -> None:
    """Parse ``data`` in every chunk size; raise ``AssertionError`` on a difference."""
    body = data[:MAX_INPUT]
    boundary = boundary_of(body)
    outcomes = [outcome(body, boundary, size) for size in CHUNK_SIZES]
    assert all(other == outcomes[-1] for other in outcomes), (body[:300], outcomes)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to four random edits of ``data`` (see :func:`fuzzing.mutate`)."""
    return fuzz_mutate(rng, data, TOKENS, SEEDS, MAX_INPUT, max_repeat=20)


def builtin_fuzz(seed: int, iterations: int, max_seconds: float) -> int:
    """Mutate the seeds with ``random.Random(seed)``; bounded in count and time. Returns the
    number of inputs tried."""
    rng = random.Random(seed)
    deadline = time.monotonic() + max_seconds
    corpus = list(SEEDS)
    tried = 0
    for index in range(iterations):
        if time.monotonic() > deadline:
            break
        data = SEEDS[index] if index < len(SEEDS) else mutate(rng, rng.choice(corpus))
        run_one(data)
        tried += 1
        if len(corpus) < 500 and rng.random() < 0.1:
            corpus.append(data)
    return tried


def atheris_main(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["erlen"]):
        import erlen._speedups.forms  # noqa: F401

    atheris.Setup(argv, run_one)
    atheris.Fuzz()


def builtin_summary(seed: int, iterations: int, max_seconds: float) -> str:
    return f"builtin fuzz: {builtin_fuzz(seed, iterations, max_seconds)} inputs, no failure"


def main() -> None:
    fuzz_cli(SEEDS, builtin_summary, atheris_main)


if __name__ == "__main__":
    main()
