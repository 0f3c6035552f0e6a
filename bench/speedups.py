"""The speedups (``erlen._speedups``) against the upstream callables they replace, and the form
parser's buffer sizes.

Each row times one operation both ways in the same run (``timeit``, the median of several
repeats, per call): the figure that justifies keeping the rewrite. The form rows time a 1 MiB
upload parsed with several chunk sizes, and what a temporary file costs against memory.

    python bench/speedups.py [--quick] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import sys
import tempfile
import timeit
import typing as t
from datetime import datetime, timezone

import report
from itsdangerous import URLSafeTimedSerializer
from jinja2 import Environment, Template
from werkzeug.datastructures import EnvironHeaders, FileStorage, Headers, MultiDict
from werkzeug.formparser import FormDataParser as WerkzeugFormDataParser
from werkzeug.http import dump_cookie, http_date, parse_options_header
from werkzeug.local import LocalProxy
from werkzeug.routing import Map, Rule
from werkzeug.sansio.response import Response as SansIOResponse
from werkzeug.test import encode_multipart
from werkzeug.utils import cached_property

from erlen._speedups.cached_attribute import plain_cached_properties
from erlen._speedups.cookies import CookieFormat
from erlen._speedups.forms import MultipartParser, parse_urlencoded
from erlen._speedups.headers import (
    RequestHeaders,
    ResponseHeaders,
    WSGIRequestHeaders,
    decoded_headers,
)
from erlen._speedups.http_date import http_date as fast_http_date
from erlen._speedups.json_encode import fast_encoder, upstream_encoder
from erlen._speedups.proxy import context_proxy
from erlen._speedups.response_init import init_for_bytes
from erlen._speedups.route_shortcuts import RouteShortcuts
from erlen._speedups.signing import CookieSigner
from erlen._speedups.template_context import FastContextTemplate
from erlen.json.provider import DefaultJSONProvider
from erlen.sessions import session_json_serializer

Timed = t.Callable[[], object]


def per_call(function: Timed, repeats: int, quick: bool) -> float:
    """Median seconds per call."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    number = max(1, number // (4 if quick else 1))
    return statistics.median(timer.repeat(repeat=repeats, number=number)) / number


def _pairs() -> list[tuple[str, Timed, Timed]]:
    header_list = [(b"host", b"example.com"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    environ = {"HTTP_HOST": "example.com", "HTTP_USER_AGENT": "bench", "HTTP_ACCEPT": "*/*"}
    ours_environ, their_environ = WSGIRequestHeaders(environ), EnvironHeaders(environ)

    class Holder:
        name = "value"

    holder = Holder()
    ours_proxy, their_proxy = context_proxy(lambda: holder, "P"), LocalProxy(lambda: holder)

    class Ours(SansIOResponse):
        default_mimetype = "text/html"

    def ours_response() -> None:
        init_for_bytes(Ours.__new__(Ours), 5, 200, "text/html")

    def their_response() -> None:
        response = Ours(200)
        response.headers["Content-Length"] = "5"

    rules = [Rule("/", endpoint="index"), Rule("/users/<int:user_id>", endpoint="user")]
    rules += [Rule(f"/page{index}/<name>", endpoint=f"p{index}") for index in range(20)]
    url_map = Map(rules)
    adapter = url_map.bind("localhost")
    shortcuts = RouteShortcuts(list(url_map.iter_rules()))

    serializer = URLSafeTimedSerializer(
        "a-long-enough-secret-key-for-the-bench-0123456789",
        salt="cookie-session",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    signer = CookieSigner(serializer, hashlib.sha1)
    session = {"user_id": 7, "csrf": "x" * 32}
    signed = serializer.dumps(session)
    options: dict[str, t.Any] = {
        "domain": None,
        "path": "/",
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
        "partitioned": False,
    }
    cookie = CookieFormat("session", options)
    moment = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)

    form = b"name=Ada+Lovelace&email=ada%40example.com&age=36&accept=on"
    url_parser = WerkzeugFormDataParser()
    form_type = ("application/x-www-form-urlencoded", {})

    def their_form() -> None:
        url_parser.parse(io.BytesIO(form), form_type[0], len(form), form_type[1])

    # An app's environment: Jinja2's globals, erlen's five (names only matter here).
    templates = []
    for template_class in (FastContextTemplate, Template):
        environment = Environment()
        environment.template_class = template_class
        environment.globals.update(dict.fromkeys(["url_for", "config", "csrf_token", "x", "y"]))
        templates.append(environment.from_string("{{ items }}"))
    ours_template, their_template = templates
    variables = {"items": [1, 2], "request": None, "session": None, "g": None}

    response_pairs = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", "13"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "SAMEORIGIN"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("X-Permitted-Cross-Domain-Policies", "none"),
    ]

    def set_header(headers_class: type[Headers]) -> None:
        headers = headers_class.__new__(headers_class)
        headers._list = list(response_pairs)  # (as trusted_headers makes them)
        headers["X-Hook"] = "1"

    class TheirCached:
        @cached_property
        def form(self) -> dict[str, str]:
            return {"name": "Ada"}

    class OurCached(TheirCached):
        pass

    plain_cached_properties(OurCached)
    our_cached, their_cached = OurCached(), TheirCached()
    assert our_cached.form == their_cached.form  # computed once: later reads find it

    document = {"id": 42, "name": "user 42", "tags": ["a", "b"]}
    json_settings = (DefaultJSONProvider.default, True, True)
    ours_json, their_json = fast_encoder(*json_settings), upstream_encoder(*json_settings)

    return [
        ("ASGI request headers, made and an absent one read",
         lambda: RequestHeaders(header_list).get("Origin"),
         lambda: decoded_headers(header_list).get("Origin")),
        ("an absent request header, WSGI environ", lambda: ours_environ.get("Origin"),
         lambda: their_environ.get("Origin")),
        ("a proxy attribute read", lambda: ours_proxy.name, lambda: their_proxy.name),
        ("response headers and status", ours_response, their_response),
        ("match /users/<int:user_id>", lambda: shortcuts.match("/users/7", "GET"),
         lambda: adapter.match("/users/7", "GET", return_rule=True)),
        ("sign a session", lambda: signer.dumps(session), lambda: serializer.dumps(session)),
        ("open a session", lambda: signer.loads(signed, 3600),
         lambda: serializer.loads(signed, max_age=3600)),
        ("session Set-Cookie", lambda: cookie.header(signed, moment),
         lambda: dump_cookie("session", signed, expires=moment, max_size=0, **options)),
        ("HTTP date", lambda: fast_http_date(moment), lambda: http_date(moment)),
        ("url-encoded form, 4 fields", lambda: parse_urlencoded(form), their_form),
        ("a template's render context", lambda: ours_template.new_context(dict(variables)),
         lambda: their_template.new_context(dict(variables))),
        ("a small JSON response body", lambda: ours_json(document), lambda: their_json(document)),
        ("a header set on a response of 7", lambda: set_header(ResponseHeaders),
         lambda: set_header(Headers)),
        ("a cached request attribute read again (request.form)", lambda: our_cached.form,
         lambda: their_cached.form),
    ]  # fmt: skip


def speedup_rows(quick: bool) -> list[str]:
    repeats = 3 if quick else 5
    rows = [
        "| operation | erlen._speedups (µs) | upstream (µs) | upstream / erlen |",
        "|---|---:|---:|---:|",
    ]
    for name, ours, theirs in _pairs():
        fast, slow = per_call(ours, repeats, quick), per_call(theirs, repeats, quick)
        rows.append(f"| {name} | {fast * 1e6:.3f} | {slow * 1e6:.3f} | {slow / fast:.1f}x |")
    return rows


def _upload(size: int) -> tuple[bytes, str]:
    upload = FileStorage(io.BytesIO(b"x" * size), "data.bin", "file")
    boundary, body = encode_multipart(MultiDict([("file", upload)]), boundary="BENCHBOUNDARY")
    return body, boundary


def form_rows(quick: bool) -> list[str]:
    repeats = 3 if quick else 5
    body, boundary = _upload(1024 * 1024)
    rows = [
        "A 1 MiB upload parsed with each chunk size (`CHUNK_SIZE`), and werkzeug's parser:",
        "",
        "| parser | chunk | ms per upload |",
        "|---|---:|---:|",
    ]
    for chunk in (64 * 1024, 128 * 1024, 256 * 1024, 1024 * 1024):

        def parse(chunk: int = chunk) -> None:
            parser = MultipartParser(boundary.encode(), content_length=len(body), chunk_size=chunk)
            parser.parse(io.BytesIO(body))

        rows.append(
            f"| erlen | {chunk // 1024} KiB | {per_call(parse, repeats, quick) * 1e3:.3f} |"
        )
    mimetype, options = parse_options_header(f"multipart/form-data; boundary={boundary}")

    def werkzeug_parse() -> None:
        WerkzeugFormDataParser().parse(io.BytesIO(body), mimetype, len(body), options)

    rows.append(f"| werkzeug | - | {per_call(werkzeug_parse, repeats, quick) * 1e3:.3f} |")
    rows += [
        "",
        "Where an upload's data goes (`SPOOL_SIZE` keeps it in memory up to 1 MiB per request):"
        " write it, read it back.",
        "",
        "| size | memory (µs) | temporary file (µs) |",
        "|---:|---:|---:|",
    ]
    for size in (4 * 1024, 256 * 1024, 1024 * 1024):
        data = b"x" * size

        def in_memory(data: bytes = data) -> None:
            memory = io.BytesIO()
            memory.write(data)
            memory.getvalue()

        def on_disk(data: bytes = data) -> None:
            with tempfile.TemporaryFile() as file:
                file.write(data)
                file.seek(0)
                file.read()

        memory_us = per_call(in_memory, repeats, quick) * 1e6
        disk_us = per_call(on_disk, repeats, quick) * 1e6
        rows.append(f"| {size // 1024} KiB | {memory_us:.1f} | {disk_us:.1f} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--markdown")
    args = parser.parse_args()
    text = "\n".join(
        [
            "Each operation both ways in the same run, the median of several repeats per call:",
            "",
            *speedup_rows(args.quick),
            "",
            *form_rows(args.quick),
        ]
    )
    report.emit(text, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
