"""Fuzz target: raw HTTP/1.1 request bytes, parsed as a server would, run through the app on
the WSGI and the ASGI path. Fails (raises) on any 5xx, or a traceback or source path in a body.

With atheris (coverage-guided, libFuzzer options)::

    python tests/fuzz/fuzz_request_parsing.py CORPUS_DIR -runs=5000 -seed=1 -max_total_time=10

Without atheris, a small built-in driver mutates the seed requests with a fixed seed::

    python tests/fuzz/fuzz_request_parsing.py --builtin --seed 1 --iterations 3000 --max-seconds 10

``--write-seeds DIR`` writes the seed requests as a starting corpus.
"""

from __future__ import annotations

import random
import re
import sys
import time
import typing as t
from pathlib import Path

from fuzzing import fuzz_cli
from fuzzing import mutate as fuzz_mutate

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

if t.TYPE_CHECKING:
    from erlen import Erlen

#: What a server accepts as a method and a header name (an RFC 9110 token).
TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: The most headers and body bytes taken from one input (servers cap these too).
MAX_HEADERS = 150
MAX_INPUT = 256 * 1024

SEEDS: list[bytes] = [
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /users/42?x=1&y=2 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
    b"GET /items/book/9.5 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /files/hello.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-3,5-\r\n\r\n",
    b"GET /files/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"POST /json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b'Content-Length: 24\r\n\r\n{"a": [1, {"b": null}]}\n',
    b"POST /async-json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Content-Length: 6\r\n\r\n[[[]]]",
    b"POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded"
    b"\r\nContent-Length: 11\r\n\r\na=1&b=%20x",
    b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=XX"
    b'\r\nContent-Length: 98\r\n\r\n--XX\r\nContent-Disposition: form-data; name="file"; '
    b'filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n',
    b"GET /session HTTP/1.1\r\nHost: localhost\r\nCookie: session=eyJjb3VudCI6MX0.abc.def\r\n\r\n",
    b"GET /page?name=%3Cscript%3E HTTP/1.1\r\nHost: localhost\r\n\r\n",
    # A header value from input: %00, %0D%0A and a character beyond latin-1 must never be sent.
    b"GET /echo-header?v=a%00b%0D%0AX:%201%E5%98%8D HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /redirect-to?target=/ok%E5%98%8D%E5%98%8A HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /next?next=//evil.example HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /where?q=1 HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Host: a.example\r\n"
    b"X-Forwarded-Proto: https\r\nX-Forwarded-Prefix: /p\r\nForwarded: for=1.2.3.4\r\n\r\n",
    b"POST /hooks/x HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\n"
    b"Sec-Fetch-Site: cross-site\r\nContent-Length: 3\r\n\r\nabc",
    b"DELETE /json HTTP/1.1\r\nHost: localhost\r\nOrigin: null\r\n\r\n",
    b"GET //admin/panel HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /x/../admin/./panel HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"POST /json HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: application/json\r\n\r\n{}",
]
TOKENS = [
    b"\r\n",
    b"%0D%0A",
    b"%E5%98%8A",
    b"%",
    b"%00",
    b"%ff",
    b"..",
    b"/.",
    b"%2F",
    b"%2e",
    b"admin",
    b"/",
    b"//",
    b"\\",
    b"[",
    b"{",
    b'"',
    b"&",
    b"=",
    b";",
    b",",
    b"\x00",
    b"\xff",
    b"-1",
    b"99999999999999999999",
    b"Content-Length: ",
    b"Content-Type: multipart/form-data; boundary=",
    b"Content-Type: application/json",
    b"Transfer-Encoding: chunked",
    b"Cookie: session=",
    b"Host: ",
]


class Request(t.NamedTuple):
    method: str
    target: bytes
    query: bytes
    headers: list[tuple[str, str]]
    body: bytes


def parse(data: bytes) -> Request | None:
    """The request a lenient HTTP/1.1 server would pass to the app, or ``None`` for bytes it
    would refuse itself (with a 400) before the app sees them."""
    head, separator, body = data[:MAX_INPUT].partition(b"\r\n\r\n")
    if not separator:
        return None
    request_line, *lines = head.split(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3 or not TOKEN.match(parts[0]) or not parts[2].startswith(b"HTTP/1."):
        return None
    target = parts[1]
    if not target.startswith(b"/") or any(byte < 0x21 or byte == 0x7F for byte in target):
        return None
    path, _, query = target.partition(b"?")
    path = path.partition(b"#")[0]
    headers = []
    for line in lines[:MAX_HEADERS]:
        name, colon, value = line.partition(b":")
        if not colon or not TOKEN.match(name):
            return None
        value = value.strip(b" \t")
        if any(byte in (0, 10, 13) for byte in value):
            return None
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return Request(parts[0].decode("latin-1").upper(), path, query, headers, body)


def run_one(app: Erlen, data: bytes) -> bool:
    """Send ``data`` through both paths; raise ``AssertionError`` on a 5xx or a leak. Returns
    whether the bytes made a request at all."""
    from support.security_harness import ECHO_HEADER_PATH, assert_headers_safe, assert_sane, both

    request = parse(data)
    if request is None:
        return False
    results = both(
        app, request.method, request.target, request.query, request.headers, request.body
    )
    if request.target == ECHO_HEADER_PATH:  # the view's own bug may be a 500, never unsafe
        assert_headers_safe(results, data[:500])
    else:
        assert_sane(results, data[:500])
    return True


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to four random edits of ``data`` (see :func:`fuzzing.mutate`)."""
    return fuzz_mutate(rng, data, TOKENS, SEEDS, MAX_INPUT, max_repeat=50)


def builtin_fuzz(seed: int, iterations: int, max_seconds: float) -> tuple[int, int]:
    """Mutate the seeds with ``random.Random(seed)``; bounded in count and time. Returns
    (inputs tried, inputs that made a request)."""
    from support.security_harness import build_app, check_good_request

    app = build_app()
    rng = random.Random(seed)
    deadline = time.monotonic() + max_seconds
    tried = requests = 0
    corpus = list(SEEDS)
    for index in range(iterations):
        if time.monotonic() > deadline:
            break
        data = rng.choice(corpus)
        data = mutate(rng, data) if index >= len(SEEDS) else SEEDS[index]
        tried += 1
        if run_one(app, data):
            requests += 1
            if len(corpus) < 500 and rng.random() < 0.1:
                corpus.append(data)  # keep some requests the parser took, to mutate further
    check_good_request(app)
    return tried, requests


def atheris_main(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["erlen", "werkzeug", "support"]):
        from support.security_harness import build_app

    app = build_app()

    def test_one_input(data: bytes) -> None:
        run_one(app, data)

    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def builtin_summary(seed: int, iterations: int, max_seconds: float) -> str:
    tried, requests = builtin_fuzz(seed, iterations, max_seconds)
    return f"builtin fuzz: {tried} inputs, {requests} requests, no failure"


def main() -> None:
    fuzz_cli(SEEDS, builtin_summary, atheris_main)


if __name__ == "__main__":
    main()
