"""The public side of form parsing (``erlen.formparser``): uploaded file names, limits and errors
through an app on both protocols. These hold with the speedups on and off; the fast parsers are
tested against werkzeug's in ``tests/speedups/test_forms.py``."""

from __future__ import annotations

import hashlib
import io
import typing as t
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.forms import (
    MULTIPART,
    URLENCODED,
    multipart,
    parse,
    part,
)
from werkzeug.formparser import FormDataParser as WerkzeugFormDataParser
from werkzeug.utils import secure_filename

from erlen import Erlen, Request, request
from erlen.formparser import (
    FormDataParser,
    UploadedFile,
    upload_filename,
)
from erlen.testing import ErlenClient

# --- multipart: uploaded file names --------------------------------------------------------------

UPLOAD_NAMES = [
    ("report.pdf", "report.pdf"),
    ("../../../etc/cron.d/evil", "evil"),
    ("/etc/passwd", "passwd"),
    ("C:\\x\\evil.txt", "evil.txt"),
    ("..\\..\\evil.txt", "evil.txt"),
    ("C:evil.txt", "evil.txt"),
    ("dir/C:..", ""),
    ("evil\x00.txt", "evil.txt"),
    ("a\r\nb\tc\x7f\x85.txt", "abc.txt"),
    ("ev\x00il/../x", "x"),
    (".", ""),
    ("..", ""),
    ("...", ""),
    ("", ""),
    ("x/", ""),
    ("x/..", ""),
    ("evil.txt. . ", "evil.txt"),
    (".bashrc", ".bashrc"),
    ("\u00e9t\u00e9 \u20ac.txt", "\u00e9t\u00e9 \u20ac.txt"),
    ("a.b.c.tar.gz", "a.b.c.tar.gz"),
]


@pytest.mark.parametrize(("sent", "safe"), UPLOAD_NAMES)
def test_upload_filename(sent: str, safe: str) -> None:
    assert upload_filename(sent) == safe


# (An empty RFC 2231 value, filename*=UTF-8'', is kept as sent by werkzeug's parser.)
@pytest.mark.parametrize(("sent", "safe"), [case for case in UPLOAD_NAMES if case[0]])
def test_parsed_upload_has_the_bare_name_and_keeps_the_sent_one(sent: str, safe: str) -> None:
    disposition = f"form-data; name=\"f\"; filename*=UTF-8''{quote(sent, safe='')}"
    _, files = parse(multipart(part(disposition, b"data")))
    upload = files["f"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.raw_filename) == (safe, sent)
    assert upload.read() == b"data"


# --- through the app, on both protocols ---------------------------------------------------------


@pytest.fixture
def echo_app(app: Erlen) -> Erlen:
    @app.post("/echo")
    def echo() -> dict[str, t.Any]:
        return {
            "form": [list(item) for item in request.form.items(multi=True)],
            "files": [
                [key, value.filename, value.content_type, hashlib.sha256(value.read()).hexdigest()]
                for key, value in request.files.items(multi=True)
            ],
        }

    return app


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_app_urlencoded(echo_app: Erlen, client: ErlenClient) -> None:
    response = client.post("/echo", data=b"a=1&a=%E2%82%AC&b=x+y&c", content_type=URLENCODED)
    assert response.status_code == 200
    assert response.json == {
        "form": [["a", "1"], ["a", "\u20ac"], ["b", "x y"], ["c", ""]],
        "files": [],
    }


def test_app_multipart(echo_app: Erlen, client: ErlenClient) -> None:
    big = bytes(range(256)) * 5000  # over the spool size
    data = {
        "field": ["one", "t\xe9"],
        "small": (io.BytesIO(b"\r\n--boundary\r\n"), "s.txt", "text/plain"),
        "big": (io.BytesIO(big), "b\xe9.bin", "application/octet-stream"),
    }
    response = client.post("/echo", data=data)
    assert response.status_code == 200
    assert response.json == {
        "form": [["field", "one"], ["field", "t\xe9"]],
        "files": [
            ["small", "s.txt", "text/plain", _sha(b"\r\n--boundary\r\n")],
            ["big", "b\xe9.bin", "application/octet-stream", _sha(big)],
        ],
    }


def test_app_upload_names_are_bare_and_the_sent_ones_kept(app: Erlen, client: ErlenClient) -> None:
    @app.post("/save")
    def save() -> dict[str, t.Any]:
        return {
            key: [
                value.filename,
                getattr(value, "raw_filename", None),
                secure_filename(value.filename or ""),
            ]
            for key, value in request.files.items()
        }

    sent = {
        "traversal": '="../../../etc/cron.d/evil"',
        "windows": '="C:\\\\x\\\\evil.txt"',
        "nul": "*=UTF-8''evil%00.txt%0D%0A",
        "dots": '=".."',
        "plain": '="r\u00e9sum\u00e9.pdf"',
    }
    body = multipart(
        *(part(f'form-data; name="{key}"; filename{value}', b"x") for key, value in sent.items())
    )
    response = client.post("/save", data=body, content_type=MULTIPART)
    assert response.status_code == 200
    assert response.json == {
        "traversal": ["evil", "../../../etc/cron.d/evil", "evil"],
        "windows": ["evil.txt", "C:\\x\\evil.txt", "evil.txt"],
        "nul": ["evil.txt", "evil\x00.txt\r\n", "evil.txt"],
        "dots": ["", "..", ""],
        "plain": ["r\u00e9sum\u00e9.pdf", "r\u00e9sum\u00e9.pdf", "resume.pdf"],
    }


def test_app_limits_are_413(echo_app: Erlen, client: ErlenClient) -> None:
    echo_app.config.update(MAX_FORM_PARTS=2, MAX_FORM_MEMORY_SIZE=100, MAX_CONTENT_LENGTH=10_000)
    assert client.post("/echo", data={"a": "1", "b": "2"}).status_code == 200
    over = [
        client.post("/echo", data={"a": "1", "b": "2", "c": "3"}),
        client.post(
            "/echo", data={"a": "1", "b": "2", "c": "3"}, content_type="multipart/form-data"
        ),
        client.post("/echo", data={"a": "x" * 101}, content_type="multipart/form-data"),
        client.post("/echo", data={"a": "x" * 101}),  # the whole url-encoded body
        client.post("/echo", data={"f": (io.BytesIO(b"x" * 10_000), "f")}),
    ]
    assert [response.status_code for response in over] == [413] * len(over)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", multipart(part('form-data; name="a"'))),
        (MULTIPART, part('form-data; name="a"', b"1")),
        (MULTIPART, b"--b\r\nContent-Disposition: form-d"),
        (MULTIPART, b"\x00\xff" * 100),
    ],
    ids=["no-boundary", "no-closing-boundary", "truncated-headers", "garbage"],
)
def test_app_malformed_multipart_is_a_400(
    echo_app: Erlen, client: ErlenClient, content_type: str, body: bytes
) -> None:
    response = client.post("/echo", data=body, content_type=content_type)
    assert response.status_code == 400
    assert len(response.data) < 2000
    assert b"Traceback" not in response.data
    after = client.post("/echo", data={"ok": "yes"})
    assert after.json == {"form": [["ok", "yes"]], "files": []}


def test_form_data_parser_class_is_a_hook(app: Erlen, client: ErlenClient) -> None:
    used: list[str] = []

    class Recording(FormDataParser):
        def _parse_urlencoded(self, *args: t.Any) -> t.Any:
            used.append("urlencoded")
            return super()._parse_urlencoded(*args)

    class WithRecording(Request):
        form_data_parser_class = Recording

    class WithWerkzeug(Request):
        form_data_parser_class = WerkzeugFormDataParser

    @app.post("/form")
    def form() -> dict[str, str]:
        return request.form.to_dict()

    app.request_class = WithRecording
    assert client.post("/form", data={"a": "1"}).json == {"a": "1"}
    assert used == ["urlencoded"]
    app.request_class = WithWerkzeug
    assert client.post("/form", data={"b": "2"}).json == {"b": "2"}


@settings(max_examples=150, derandomize=True)
@given(sent=st.text(max_size=40))
def test_upload_filename_is_always_one_bare_name(sent: str) -> None:
    name = upload_filename(sent)
    assert "/" not in name and "\\" not in name
    assert not any(ord(char) < 32 or 127 <= ord(char) < 160 for char in name)
    assert name not in (".", "..") and not name.endswith((".", " "))
    assert name in sent or not sent.isprintable()  # nothing is added, at most removed
    assert upload_filename(name) == name
