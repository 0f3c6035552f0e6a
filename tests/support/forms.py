"""Multipart bodies written by hand, and the parsers' results, for the form tests."""

from __future__ import annotations

import io
import typing as t

from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.formparser import FormDataParser as WerkzeugFormDataParser
from werkzeug.http import parse_options_header

from erlen.formparser import FormDataParser

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data; boundary=b"


def part(disposition: str, data: bytes = b"", *headers: str, boundary: bytes = b"b") -> bytes:
    """One part of a multipart body, written by hand."""
    head = f"Content-Disposition: {disposition}\r\n" + "".join(f"{h}\r\n" for h in headers)
    return b"--" + boundary + b"\r\n" + head.encode() + b"\r\n" + data + b"\r\n"


def multipart(*parts: bytes, boundary: bytes = b"b") -> bytes:
    """A multipart body of ``parts``, with its closing delimiter."""
    return b"".join(parts) + b"--" + boundary + b"--\r\n"


def parse(
    body: bytes,
    content_type: str = MULTIPART,
    length: int | str | None = "auto",
    **limits: t.Any,
) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
    """``(form, files)`` of erlen's parser."""
    mimetype, options = parse_options_header(content_type)
    size = len(body) if length == "auto" else t.cast("int | None", length)
    limits.setdefault("cls", ImmutableMultiDict)
    _, form, files = FormDataParser(**limits).parse(io.BytesIO(body), mimetype, size, options)
    return form, files


def summary(files: MultiDict[str, FileStorage]) -> list[tuple[str, str | None, str | None, bytes]]:
    """Each file as (field, name, content type, data)."""
    return [
        (key, value.filename, value.content_type, value.read())
        for key, value in files.items(multi=True)
    ]


def werkzeug_parse(body: bytes, content_type: str) -> tuple[t.Any, t.Any]:
    """``(form, files)`` of werkzeug's own parser."""
    mimetype, options = parse_options_header(content_type)
    parser = WerkzeugFormDataParser(silent=False)
    _, form, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    return form, files
