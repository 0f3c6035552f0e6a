"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

:class:`FormDataParser` keeps werkzeug's constructor and ``parse()`` (it is the documented
``Request.form_data_parser_class`` hook). It parses with the fast parsers of
:mod:`erlen._speedups.forms`, or with werkzeug's own when the speedups are off; either way a
limit gives a 413, a malformed body a 400 with a short message, and an uploaded file a bare
name (:func:`upload_filename`).
"""

from __future__ import annotations

import re
import typing as t
from urllib.parse import parse_qsl

from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser as _WerkzeugFormDataParser
from werkzeug.formparser import default_stream_factory

from ._speedups import ENABLED as _SPEEDUPS
from ._speedups.forms import MultipartParser, boundary_from, parse_urlencoded, read_body

ParseResult = tuple[t.IO[bytes], MultiDict[str, t.Any], MultiDict[str, t.Any]]


class FormDataParser(_WerkzeugFormDataParser):
    """Parses a form body into ``(stream, form, files)``: werkzeug's class, with erlen's limits,
    errors and upload names.

    The limits: ``max_form_parts`` (fields of either format), ``max_form_memory_size`` (a
    multipart text field, or a whole urlencoded body) and ``max_content_length`` give a 413.
    A ``stream_factory`` other than werkzeug's default receives every uploaded file.
    """

    def _parse_urlencoded(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> ParseResult:
        limit = self.max_form_memory_size
        data = read_body(stream, content_length, self.max_content_length, limit)
        parse = parse_urlencoded if _SPEEDUPS else _parse_urlencoded_upstream
        return stream, self.cls(parse(data, self.max_form_parts)), self.cls()

    def _parse_multipart(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> ParseResult:
        if not _SPEEDUPS:
            return self._parse_multipart_upstream(stream, mimetype, content_length, options)
        factory = self.stream_factory
        parser = MultipartParser(
            boundary_from(options),
            max_content_length=self.max_content_length,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            stream_factory=None if factory is default_stream_factory else factory,
            content_length=content_length,
            upload_name=upload_filename,
            make_file=uploaded_file,
        )
        fields, files = parser.parse(stream)
        return stream, self.cls(fields), self.cls(files)

    def _parse_multipart_upstream(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> ParseResult:
        """werkzeug's parser, with erlen's 400 for a malformed body and bare upload names."""
        try:
            stream, form, files = super()._parse_multipart(
                stream, mimetype, content_length, options
            )
        except ValueError as error:
            raise BadRequest("The multipart body is malformed.") from error
        uploads = []
        for name, file in files.items(multi=True):
            sent = file.filename or ""
            uploads.append(
                (name, uploaded_file(file.stream, upload_filename(sent), name, file.headers, sent))
            )
        return stream, form, self.cls(uploads)


class UploadedFile(FileStorage):
    """A file of a multipart body (in ``request.files``): werkzeug's ``FileStorage`` whose
    ``filename`` is a bare name (see :func:`upload_filename`), so that a client cannot point
    it into another folder; ``raw_filename`` is the name as the client sent it.

    The name is still the client's choice: to store the file under it, pass it through
    ``werkzeug.utils.secure_filename`` (or, better, store it under a name of your own).
    """

    raw_filename: str | None = None


def upload_filename(sent: str) -> str:
    """The name an uploaded file gets from the ``filename`` a client sent: its last path
    segment (after ``/`` or ``\\``), without control characters (NUL included), a Windows
    drive (``C:``) or trailing dots and spaces (Windows drops them, so ``..`` or ``x.txt.``
    would name something else there).

    ``../../etc/cron.d/evil`` becomes ``evil``, ``C:\\x\\evil.txt`` becomes ``evil.txt``, and
    ``.``, ``..`` or nothing become ``""``: the same as a form sent without a file, which
    ``if not file.filename`` catches. Letters of any script and inner dots are kept.
    """
    name = _CONTROL_CHARACTERS.sub("", sent)
    name = name[max(name.rfind("/"), name.rfind("\\")) + 1 :]
    if _DRIVE.match(name):
        name = name[2:]
    return name.rstrip(". ")


def _parse_urlencoded_upstream(data: bytes, max_parts: int | None) -> list[tuple[str, str]]:
    """The fields as werkzeug's parser reads them (``parse_qsl``), with erlen's limit."""
    try:
        return parse_qsl(
            data.decode("utf-8", "replace"),
            keep_blank_values=True,
            errors="werkzeug.url_quote",
            max_num_fields=max_parts,
        )
    except ValueError as error:  # more fields than max_num_fields
        raise RequestEntityTooLarge(f"Too many form fields (the limit is {max_parts}).") from error


def uploaded_file(
    stream: t.IO[bytes], filename: str, name: str, headers: Headers, sent: str
) -> UploadedFile:
    """The :class:`UploadedFile` of a file part: its data, its bare name, the field's name, the
    part's headers and the name as sent."""
    file = UploadedFile(stream, filename, name, headers=headers)
    file.raw_filename = sent
    return file


#: Control characters (C0, DEL, C1), which an uploaded file's name loses.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: A Windows drive at the start of a name (``C:evil.txt`` is relative to drive C's folder).
_DRIVE = re.compile(r"[A-Za-z]:")
