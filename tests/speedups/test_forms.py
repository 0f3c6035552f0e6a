"""The fast form parsers (``erlen._speedups.forms``): url-encoded and multipart bodies, parsed
directly, with werkzeug's own parser as the oracle for the results."""

from __future__ import annotations

import io
import typing as t
from urllib.parse import quote_plus

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.forms import (
    MULTIPART,
    URLENCODED,
    multipart,
    parse,
    part,
    summary,
    werkzeug_parse,
)
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.test import encode_multipart

from erlen import Erlen, request
from erlen._speedups.forms import SPOOL_SIZE, MultipartParser, header_params, parse_urlencoded
from erlen.formparser import FormDataParser
from erlen.testing import ErlenClient

# --- url-encoded ----------------------------------------------------------------------------------


def test_urlencoded_fields_repeated_keys_and_order() -> None:
    assert parse_urlencoded(b"a=1&b=2&a=3&c=") == [("a", "1"), ("b", "2"), ("a", "3"), ("c", "")]
    form, files = parse(b"a=1&b=2&a=3&c=", URLENCODED)
    assert isinstance(form, ImmutableMultiDict)
    assert form.getlist("a") == ["1", "3"]
    assert list(form) == ["a", "b", "c"]
    assert not files


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"name=a+b%20c", [("name", "a b c")]),
        (b"plus=%2B&amp=%26&eq=%3D", [("plus", "+"), ("amp", "&"), ("eq", "=")]),
        (b"k%C3%A9y=%E2%82%AC", [("k\xe9y", "\u20ac")]),
        ("raw=\xe9t\xe9".encode(), [("raw", "\xe9t\xe9")]),
        (b"flag&empty=&=value", [("flag", ""), ("empty", ""), ("", "value")]),
        (b"&&a=1&&", [("a", "1")]),
        (b"a=1;b=2", [("a", "1;b=2")]),
        (b"a=b=c", [("a", "b=c")]),
        (b"bad=%FF%zz%4", [("bad", "%FF%zz%4")]),  # not UTF-8: kept as sent
        (b"raw=\xff", [("raw", "\ufffd")]),  # raw bytes that are not UTF-8
        (b"", []),
    ],
)
def test_urlencoded_escapes(body: bytes, expected: list[tuple[str, str]]) -> None:
    form, _ = parse(body, URLENCODED)
    assert list(form.items(multi=True)) == expected


def test_urlencoded_limits() -> None:
    body = b"a=1&b=2&c=3"
    assert len(parse(body, URLENCODED, max_form_parts=3)[0]) == 3
    with pytest.raises(RequestEntityTooLarge):
        parse(body, URLENCODED, max_form_parts=2)
    # Empty pairs are not fields.
    assert len(parse(b"a=1&&&&b=2", URLENCODED, max_form_parts=2)[0]) == 2
    assert len(parse(body, URLENCODED, max_form_memory_size=len(body))[0]) == 3
    for length in (len(body), None):  # announced, or found out while reading
        with pytest.raises(RequestEntityTooLarge):
            parse(body, URLENCODED, length=length, max_form_memory_size=len(body) - 1)
        with pytest.raises(RequestEntityTooLarge):
            parse(body, URLENCODED, length=length, max_content_length=len(body) - 1)


def test_urlencoded_reads_a_stream_that_returns_little_at_a_time() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: t.Any) -> int:
            chunk, self.data = self.data[:2], self.data[2:]
            buffer[: len(chunk)] = chunk
            return len(chunk)

    body = b"alpha=1&beta=two+words"
    stream = t.cast("t.IO[bytes]", Trickle(body))
    _, form, _ = FormDataParser(cls=ImmutableMultiDict).parse(stream, URLENCODED, len(body), {})
    assert form.to_dict() == {"alpha": "1", "beta": "two words"}


# --- multipart: content -------------------------------------------------------------------------


def test_multipart_fields_files_and_order() -> None:
    body = multipart(
        part('form-data; name="a"', b"1"),
        part('form-data; name="doc"; filename="notes.txt"', b"hello\n", "Content-Type: text/plain"),
        part('form-data; name="a"', b"2"),
        part('form-data; name="uni\xe9"', "\u20ac uro".encode()),
        part('form-data; name="empty"'),
    )
    form, files = parse(body)
    assert list(form.items(multi=True)) == [
        ("a", "1"),
        ("a", "2"),
        ("uni\xe9", "\u20ac uro"),
        ("empty", ""),
    ]
    assert summary(files) == [("doc", "notes.txt", "text/plain", b"hello\n")]
    assert files["doc"].name == "doc"
    assert files["doc"].headers["Content-Type"] == "text/plain"


def test_binary_file_with_line_breaks_and_boundary_like_data() -> None:
    tricky = (
        b"\r\n--bX\r\n--b x\r\n"  # a longer boundary, and a space not followed by a line break
        + b"\r\n-b\r\n--\r\n\r\n--b-"
        + bytes(range(256)) * 3
        + b"\r\n--"  # ends like the start of a delimiter
    )
    body = multipart(part('form-data; name="f"; filename="x.bin"', tricky))
    for chunk_size in (1, 2, 3, 5, 8, 13, 64, 1 << 16):
        parser = MultipartParser(b"b", content_length=len(body), chunk_size=chunk_size)
        fields, files = parser.parse(io.BytesIO(body))
        assert fields == []
        assert files[0][1].read() == tricky, chunk_size


def test_files_over_the_spool_size_go_to_a_temporary_file() -> None:
    small, large = b"s" * 1000, bytes(range(256)) * 4096 + b"tail"  # large > 1 MiB
    assert len(large) > SPOOL_SIZE
    body = multipart(
        part('form-data; name="small"; filename="s.txt"', small),
        part('form-data; name="large"; filename="l.bin"', large),
    )
    _, files = parse(body)
    assert files["small"].read() == small
    assert isinstance(files["small"].stream, io.BytesIO)
    assert files["large"].read() == large
    assert not isinstance(files["large"].stream, io.BytesIO)
    for storage in files.values():
        storage.close()


def test_the_memory_budget_is_shared_by_the_files_of_a_request() -> None:
    data = [bytes([i]) * 600 for i in range(4)]
    body = multipart(
        *(part(f'form-data; name="f{i}"; filename="{i}"', d) for i, d in enumerate(data))
    )
    for chunk_size in (7, 100, 1 << 16):
        parser = MultipartParser(
            b"b", content_length=len(body), chunk_size=chunk_size, spool_size=1300
        )
        _, files = parser.parse(io.BytesIO(body))
        in_memory = [isinstance(storage.stream, io.BytesIO) for _, storage in files]
        assert in_memory == [True, True, False, False], chunk_size
        assert [storage.read() for _, storage in files] == data


def test_a_file_exactly_the_spool_size_stays_in_memory() -> None:
    data = b"\x00\r\n" * (SPOOL_SIZE // 3) + b"x" * (SPOOL_SIZE % 3)
    assert len(data) == SPOOL_SIZE
    _, files = parse(multipart(part('form-data; name="f"; filename="f"', data)))
    assert isinstance(files["f"].stream, io.BytesIO)
    assert files["f"].read() == data


@pytest.mark.parametrize(
    ("disposition", "name", "filename"),
    [
        ('form-data; name="f"; filename="a b.txt"', "f", "a b.txt"),
        ("form-data; name=f; filename=plain.txt", "f", "plain.txt"),
        ('form-data; name="f"; filename="say \\"hi\\".txt"', "f", 'say "hi".txt'),
        ('form-data; name="f"; filename="%22quoted%22.txt"', "f", '"quoted".txt'),
        ('form-data; name="f"; filename="semi;colon=.txt"', "f", "semi;colon=.txt"),
        ("form-data; name=\"f\"; filename*=UTF-8''%C3%A9t%C3%A9.txt", "f", "\xe9t\xe9.txt"),
        (
            'form-data; name="f"; filename="ete.txt"; filename*=utf-8\'en\'%E2%82%AC.txt',
            "f",
            "\u20ac.txt",
        ),
        ("form-data; filename*=iso-8859-1''%E9.txt; NAME=\"f\"", "f", "\xe9.txt"),
        ('form-data;name="f";filename=""', "f", ""),
        (
            'form-data; name="f"; filename="\u00e9t\u00e9 \u20ac.txt"',
            "f",
            "\u00e9t\u00e9 \u20ac.txt",
        ),
    ],
)
def test_filenames(disposition: str, name: str, filename: str) -> None:
    _, files = parse(multipart(part(disposition, b"data")))
    assert list(files) == [name]
    assert files[name].filename == filename
    assert files[name].read() == b"data"


def test_stream_factory_receives_the_bare_name() -> None:
    names: list[str | None] = []

    def factory(*args: t.Any, filename: str | None = None, **kwargs: t.Any) -> t.IO[bytes]:
        names.append(filename)
        return io.BytesIO()

    body = multipart(part('form-data; name="f"; filename="../../etc/cron.d/evil"', b"x"))
    mimetype, options = parse_options_header(MULTIPART)
    FormDataParser(factory).parse(io.BytesIO(body), mimetype, len(body), options)
    assert names == ["evil"]


def test_header_params() -> None:
    assert header_params('form-data; name="a"; filename="b"') == {"name": "a", "filename": "b"}
    assert header_params("text/plain; charset=ISO-8859-1") == {"charset": "ISO-8859-1"}
    assert header_params('form-data; name="unterminated') == {}
    assert header_params("form-data; name=") == {}
    assert header_params("form-data; filename*=unknown''x") == {}


def test_part_content_type_and_field_charset() -> None:
    body = multipart(
        part(
            'form-data; name="latin"',
            "caf\xe9".encode("latin-1"),
            "Content-Type: text/plain; charset=iso-8859-1",
        ),
        part(
            'form-data; name="other"',
            "caf\xe9".encode(),
            "Content-Type: text/plain; charset=ebcdic",
        ),
        part('form-data; name="bad"', b"\xff"),
        part('form-data; name="f"; filename="a.png"', b"\x89PNG", "Content-Type: image/png"),
    )
    form, files = parse(body)
    assert form.to_dict() == {"latin": "caf\xe9", "other": "caf\xe9", "bad": "\ufffd"}
    assert files["f"].content_type == "image/png"
    assert files["f"].mimetype == "image/png"


def test_parts_without_a_name_are_dropped_but_counted() -> None:
    body = multipart(
        part('form-data; name="kept"', b"yes"),
        part("form-data", b"no name"),
        part('form-data; filename="a.txt"', b"nameless file"),
        part('form-data; name="\r"', b"broken name"),
        b"--b\r\nX-Other: header\r\n\r\nno disposition\r\n",
    )
    form, files = parse(body)
    assert form.to_dict() == {"kept": "yes"}
    assert not files
    with pytest.raises(RequestEntityTooLarge):
        parse(body, max_form_parts=4)


@pytest.mark.parametrize(
    "body",
    [
        # A preamble and an epilogue, ignored.
        b"preamble\r\n" + multipart(part('form-data; name="a"', b"1")) + b"epilogue",
        # Transport padding after the boundaries.
        b'--b  \r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\t\r\n'
        b'Content-Disposition: form-data; name="z"\r\n\r\n\r\n--b-- \r\n',
        # LF alone as the line break (hand-written bodies).
        b'--b\nContent-Disposition: form-data; name="a"\n\n1\n--b\n'
        b'Content-Disposition: form-data; name="z"\n\n\n--b--\n',
        # Folded header, header names in any case, no blank line before an empty value.
        b'--b\r\ncontent-disposition: form-data;\r\n name="a"\r\n\r\n1\r\n--b\r\n'
        b'CONTENT-DISPOSITION: form-data; name="z"\r\n\r\n--b--',
    ],
    ids=["preamble-epilogue", "padding", "lf", "folded"],
)
def test_lenient_layouts(body: bytes) -> None:
    form, _ = parse(body)
    assert list(form.items(multi=True)) in ([("a", "1"), ("z", "")], [("a", "1")])
    assert form["a"] == "1"


def test_empty_bodies() -> None:
    assert parse(b"") == (MultiDict(), MultiDict())
    assert parse(b"--b--\r\n") == (MultiDict(), MultiDict())
    # A part with neither headers nor data.
    assert parse(b"--b\r\n\r\n--b--") == (MultiDict(), MultiDict())


def test_stream_factory_receives_every_file() -> None:
    calls: list[dict[str, t.Any]] = []

    def factory(
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None,
        content_length: int | None = None,
    ) -> t.IO[bytes]:
        calls.append(
            {
                "total": total_content_length,
                "type": content_type,
                "name": filename,
                "length": content_length,
            }
        )
        return io.BytesIO()

    body = multipart(
        part(
            'form-data; name="f"; filename="a.txt"',
            b"abc",
            "Content-Type: text/plain",
            "Content-Length: 3",
        ),
        part('form-data; name="g"; filename="b.bin"', b"xyz" * 100),
        part('form-data; name="field"', b"not a file"),
    )
    mimetype, options = parse_options_header(MULTIPART)
    _, form, files = FormDataParser(factory).parse(io.BytesIO(body), mimetype, len(body), options)
    assert calls == [
        {"total": len(body), "type": "text/plain", "name": "a.txt", "length": 3},
        {"total": len(body), "type": None, "name": "b.bin", "length": 0},
    ]
    assert files["f"].read() == b"abc"
    assert files["g"].read() == b"xyz" * 100
    assert form["field"] == "not a file"


def test_files_are_closed_when_parsing_fails() -> None:
    created: list[io.BytesIO] = []

    def factory(*args: t.Any, **kwargs: t.Any) -> t.IO[bytes]:
        created.append(io.BytesIO())
        return created[-1]

    body = part('form-data; name="a"; filename="a"', b"first") + part(
        'form-data; name="b"; filename="b"', b"second, never closed by a boundary"
    )
    mimetype, options = parse_options_header(MULTIPART)
    with pytest.raises(BadRequest):
        FormDataParser(factory).parse(io.BytesIO(body[:-2]), mimetype, len(body) - 2, options)
    assert len(created) == 2
    assert all(file.closed for file in created)


# --- multipart: limits and malformed bodies -----------------------------------------------------


def test_multipart_limits() -> None:
    body = multipart(
        part('form-data; name="a"', b"x" * 100),
        part('form-data; name="f"; filename="f"', b"y" * 5000),
    )
    assert len(parse(body, max_form_parts=2, max_form_memory_size=100)[1]["f"].read()) == 5000
    with pytest.raises(RequestEntityTooLarge):
        parse(body, max_form_parts=1)
    with pytest.raises(RequestEntityTooLarge):  # a text field over the limit; files may be larger
        parse(body, max_form_memory_size=99)
    with pytest.raises(RequestEntityTooLarge):
        parse(body, max_content_length=len(body) - 1)
    with pytest.raises(RequestEntityTooLarge):  # no length announced: found while reading
        parse(body, length=None, max_content_length=len(body) - 1)
    assert parse(body, length=None, max_content_length=len(body))[0]["a"] == "x" * 100


def test_field_limit_applies_across_chunks() -> None:
    body = multipart(part('form-data; name="a"', b"x" * 1000))
    parser = MultipartParser(
        b"b", max_form_memory_size=999, content_length=len(body), chunk_size=64
    )
    with pytest.raises(RequestEntityTooLarge):
        parser.parse(io.BytesIO(body))


HEADERS_TOO_LARGE = (
    b'--b\r\nContent-Disposition: form-data; name="a"\r\nX: '
    + b"y" * 20_000
    + b"\r\n\r\n1\r\n--b--"
)


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", multipart(part('form-data; name="a"')), "no boundary"),
        ("multipart/form-data; boundary=", multipart(part('form-data; name="a"')), "no boundary"),
        ("multipart/form-data; boundary=" + "b" * 201, b"--b--", "boundary is invalid"),
        ('multipart/form-data; boundary="\xe9"', b"--b--", "boundary is invalid"),
        (MULTIPART, b"--b\r\nContent-Disposition: form-d", "inside the headers"),
        (MULTIPART, part('form-data; name="a"', b"1"), "closing boundary"),
        (
            MULTIPART,
            b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1',
            "closing boundary",
        ),
        (
            MULTIPART,
            multipart(part('form-data; name="a"', boundary=b"other"), boundary=b"other"),
            "no boundary line",
        ),
        (MULTIPART, b"\x00\xff" * 100, "no boundary line"),
        (MULTIPART, b"--bX\r\n--b", "no boundary line"),
        (MULTIPART, HEADERS_TOO_LARGE, "too large"),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "long-boundary",
        "non-ascii-boundary",
        "truncated-headers",
        "no-closing-boundary",
        "truncated-data",
        "other-boundary",
        "garbage",
        "no-line-break",
        "headers-too-large",
    ],
)
def test_malformed_multipart_is_a_400(content_type: str, body: bytes, message: str) -> None:
    for chunk_size in (3, 1 << 16):
        with pytest.raises(BadRequest) as caught:
            mimetype, options = parse_options_header(content_type)
            if chunk_size == 3 and options.get("boundary") == "b":
                MultipartParser(b"b", content_length=len(body), chunk_size=3).parse(
                    io.BytesIO(body)
                )
            else:
                FormDataParser().parse(io.BytesIO(body), mimetype, len(body), options)
        assert message in str(caught.value.description)


def test_headers_too_large_even_when_read_in_small_chunks() -> None:
    parser = MultipartParser(b"b", content_length=len(HEADERS_TOO_LARGE), chunk_size=100)
    with pytest.raises(BadRequest):
        parser.parse(io.BytesIO(HEADERS_TOO_LARGE))


# --- werkzeug as an oracle ----------------------------------------------------------------------

PROFILE = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
URL_TOKENS = [
    "a",
    "\xe9",
    "\u20ac",
    " ",
    "+",
    "%",
    "%2",
    "%41",
    "%2B",
    "%20",
    "%C3%A9",
    "%c3",
    "%FF",
]
URL_TOKENS += ["%E2%82", "%E2%82%AC", "%zz", "=", "&", ";", "&&", "=="]
url_bodies = st.lists(st.sampled_from(URL_TOKENS) | st.text(max_size=3), max_size=30).map(
    lambda tokens: "".join(tokens).encode("utf-8", "surrogatepass")
)


@PROFILE
@given(
    body=url_bodies, pairs=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=5)
)
def test_urlencoded_equals_werkzeug(body: bytes, pairs: list[tuple[str, str]]) -> None:
    encoded = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs).encode(
        "utf-8", "surrogatepass"
    )
    for data in (body, encoded):
        if b"\xed" in data:  # surrogates: not UTF-8, where erlen deliberately differs
            continue
        ours, _ = parse(data, URLENCODED)
        theirs, _ = werkzeug_parse(data, URLENCODED)
        assert list(ours.items(multi=True)) == list(theirs.items(multi=True)), data


names = st.text(
    st.characters(blacklist_characters='"\\\r\n', blacklist_categories=["Cs"]), max_size=8
)
file_data = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.sampled_from(
            [b"\r\n", b"\r", b"\n", b"--", b"--B", b"\r\n--B", b"\r\n--BO", b"x", b" "]
        ),
        max_size=30,
    ).map(b"".join),
)
uploads = st.builds(
    lambda data, filename, content_type: FileStorage(
        io.BytesIO(data), filename=filename, content_type=content_type
    ),
    file_data,
    names,
    st.sampled_from(["text/plain", "application/octet-stream", "image/png; x=1"]),
)
values = st.lists(st.tuples(names, st.text(max_size=40) | uploads), max_size=6)


@PROFILE
@given(
    items=values,
    boundary=st.sampled_from(["B", "BO", "BOUNDARY-1", "----WebKitFormBoundary7MA4YWxkTrZu0gW"]),
    chunk_size=st.integers(1, 200),
    spool_size=st.integers(0, 800),
)
def test_multipart_equals_werkzeug(
    items: list[tuple[str, t.Any]], boundary: str, chunk_size: int, spool_size: int
) -> None:
    delimiter = f"--{boundary}".encode()
    for _, value in items:  # RFC 2046: the boundary must not occur in the data
        data = value.stream.read() if isinstance(value, FileStorage) else value.encode()
        if isinstance(value, FileStorage):
            value.stream.seek(0)
        assume(delimiter not in data)
    content_type_boundary, body = encode_multipart(MultiDict(items), boundary=boundary)
    assert content_type_boundary == boundary
    theirs_form, theirs_files = werkzeug_parse(body, f"multipart/form-data; boundary={boundary}")
    # Parsed directly, file names stay as sent (the public parser makes them bare: its tests).
    expected_files = [
        (key, value.filename, value.content_type, list(value.headers.items()), value.read())
        for key, value in theirs_files.items(multi=True)
    ]
    parser = MultipartParser(
        boundary.encode(), content_length=len(body), chunk_size=chunk_size, spool_size=spool_size
    )
    fields, files = parser.parse(io.BytesIO(body))
    assert fields == list(theirs_form.items(multi=True))
    assert [
        (key, value.filename, value.content_type, list(value.headers.items()), value.read())
        for key, value in files
    ] == expected_files
    form, _ = parse(body, f"multipart/form-data; boundary={boundary}")
    assert form == theirs_form


@PROFILE
@given(body=st.binary(max_size=400), chunk_size=st.integers(1, 50), cut=st.integers(0, 400))
def test_any_bytes_parse_or_fail_cleanly_the_same_in_any_chunks(
    body: bytes, chunk_size: int, cut: int
) -> None:
    """Whatever the body, a result or a 400/413, and the same whatever the chunk size."""
    real = multipart(
        part('form-data; name="a"', b"1"), part('form-data; name="f"; filename="f"', body)
    )
    for data in (body, real, real[:cut], body + real):
        assert _outcome(data, chunk_size) == _outcome(data, 1 << 16), data


def _outcome(data: bytes, chunk_size: int) -> t.Any:
    parser = MultipartParser(
        b"b", content_length=len(data), chunk_size=chunk_size, max_form_parts=5
    )
    try:
        fields, files = parser.parse(io.BytesIO(data))
    except HTTPException as error:
        assert error.code in (400, 413)
        return error.code
    return fields, [(key, value.filename, value.read()) for key, value in files]


def test_app_file_parts_are_not_bound_by_the_field_limit(app: Erlen, client: ErlenClient) -> None:
    # werkzeug's parser applies MAX_FORM_MEMORY_SIZE to what it buffers, files included.
    app.config.update(MAX_FORM_MEMORY_SIZE=100, MAX_CONTENT_LENGTH=10_000)

    @app.post("/size")
    def size() -> str:
        return str(len(request.files["f"].read()))

    response = client.post("/size", data={"f": (io.BytesIO(b"x" * 5000), "f")})
    assert (response.status_code, response.text) == (200, "5000")
