"""Form bodies parsed fast: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Upstream: ``werkzeug.formparser.FormDataParser.parse`` (with ``silent=False``), that is
``werkzeug.urls``-style decoding of url-encoded bodies (``urllib.parse.parse_qsl`` with
``keep_blank_values``) and ``werkzeug.formparser.MultiPartParser``. Both formats are parsed here
several times faster than upstream (bench/RESULTS.md): the body is read in large chunks,
boundaries are found with ``bytes.find``, and data is sliced rather than scanned. Limits give a
413 and a malformed body a 400 with a short message; every loop consumes input or stops, so no
body can make it hang.

:mod:`erlen.formparser` is the public side (the parser class, upload names).
"""

from __future__ import annotations

import codecs
import io
import re
import tempfile
import typing as t
from collections.abc import Callable
from urllib.parse import quote, unquote, unquote_plus

from werkzeug.datastructures import FileStorage, Headers
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

Fields = list[tuple[str, str]]
Files = list[tuple[str, FileStorage]]


class StreamFactory(t.Protocol):
    """Makes the file an upload is written to (werkzeug's ``stream_factory`` signature)."""

    def __call__(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None,
        content_length: int | None = None,
    ) -> t.IO[bytes]: ...


#: File data a request keeps in memory (all its files together); the rest goes to a temporary
#: file, which costs far more per byte (bench/RESULTS.md, "Speedups"). 1 MiB keeps a typical
#: upload off the disk and bounds what one request holds.
SPOOL_SIZE = 1024 * 1024
#: Bytes read from the body at a time (the fastest size in bench/RESULTS.md, "Speedups"):
#: larger chunks keep two large buffers alive at once, which makes the allocator return memory
#: to the system, and taking it back costs page faults.
CHUNK_SIZE = 256 * 1024
#: The largest header section of one part (a browser sends about 150 bytes).
MAX_PART_HEADER_SIZE = 16 * 1024
#: The longest boundary accepted (RFC 2046 allows 70 characters).
MAX_BOUNDARY_LENGTH = 200
#: Spaces or tabs allowed after a boundary, before its line break (RFC 2046 transport padding).
MAX_PADDING = 256

_CLOSE = -1  # the delimiter was the closing one
_NOT_A_DELIMITER = -2  # a line that only starts like a delimiter
_TRUNCATED = "The multipart body ended before its closing boundary."
#: A parameter of a header value: name, then a quoted string or a token.
_PARAM = re.compile(r';\s*([^\s;=]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))', re.S)
_QUOTED_PAIR = re.compile(r"\\(.)", re.S)
#: What browsers send, parsed without the general rules (no escapes or RFC 2231 values in it).
_SIMPLE_DISPOSITION = re.compile(r'form-data; name="([^"\\%]*)"(?:; filename="([^"\\%]*)")?')
#: Charsets of a text field's ``Content-Type`` that are honoured (werkzeug's list).
_FIELD_CHARSETS = frozenset({"ascii", "us-ascii", "utf-8", "iso-8859-1"})
#: Charsets of an RFC 2231 ``filename*`` value, by the codec that decodes them.
_EXT_CHARSETS = {"utf-8": "utf-8", "iso-8859-1": "latin-1", "us-ascii": "ascii"}


def _requote(error: UnicodeError) -> tuple[str, int]:
    """Decoding error handler: bytes that are not UTF-8 stay %-encoded, as sent (like werkzeug
    and :attr:`Request.args`)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return quote(error.object[error.start : error.end], safe=""), error.end


codecs.register_error("erlen.requote", _requote)


class MakeFile(t.Protocol):
    """Makes the object of an uploaded file: its data, the name it gets, the field's name, the
    part's headers and the name as sent."""

    def __call__(
        self, stream: t.IO[bytes], filename: str, name: str, headers: Headers, sent: str
    ) -> FileStorage: ...


def _file_storage(
    stream: t.IO[bytes], filename: str, name: str, headers: Headers, sent: str
) -> FileStorage:
    return FileStorage(stream, filename, name, headers=headers)


# --- urlencoded -------------------------------------------------------------------------------


def read_body(
    stream: t.IO[bytes], length: int | None, max_length: int | None, limit: int | None
) -> bytes:
    """The whole body; 413 when it is longer than ``max_length`` or ``limit``."""
    bounds = [bound for bound in (max_length, limit) if bound is not None]
    bound = min(bounds) if bounds else None
    if length is not None:
        if bound is not None and length > bound:
            raise RequestEntityTooLarge()
        return _read_upto(stream.read, length)
    if bound is None:
        return stream.read()
    data = _read_upto(stream.read, bound + 1)
    if len(data) > bound:
        raise RequestEntityTooLarge()
    return data


def _read_upto(read: Callable[[int], bytes], size: int) -> bytes:
    """``size`` bytes, or fewer at the end of the stream (a raw stream may return less)."""
    data = read(size)
    if len(data) >= size or not data:
        return data
    pieces = [data]
    got = len(data)
    while got < size:
        more = read(size - got)
        if not more:
            break
        pieces.append(more)
        got += len(more)
    return b"".join(pieces)


def parse_urlencoded(data: bytes, max_parts: int | None = None) -> Fields:
    """The fields of a url-encoded body, in order; more than ``max_parts`` is a 413.

    Like ``urllib.parse.parse_qsl(keep_blank_values=True)`` as werkzeug calls it: ``+`` is a
    space, %-escapes that are not UTF-8 stay as sent; raw bytes that are not UTF-8 become U+FFFD.
    """
    text = data.decode("utf-8", "replace")
    plain = "%" not in text  # then nothing needs unquoting but "+"
    if plain and "+" in text:
        text = text.replace("+", " ")
    pairs = text.split("&")
    if max_parts is not None and len(pairs) > max_parts and sum(map(bool, pairs)) > max_parts:
        raise RequestEntityTooLarge(f"Too many form fields (the limit is {max_parts}).")
    items: Fields = []
    for pair in pairs:
        if pair:
            key, _, value = pair.partition("=")
            if not plain:
                key, value = _unquote_plus(key), _unquote_plus(value)
            items.append((key, value))
    return items


def _unquote_plus(text: str) -> str:
    if "%" in text:
        return unquote_plus(text, errors="erlen.requote")
    return text.replace("+", " ") if "+" in text else text


# --- multipart --------------------------------------------------------------------------------


def boundary_from(options: dict[str, str]) -> bytes:
    """The boundary of a multipart ``Content-Type``'s parameters; 400 when missing or invalid."""
    boundary = options.get("boundary", "")
    if not boundary:
        raise BadRequest("The multipart body has no boundary.")
    if len(boundary) > MAX_BOUNDARY_LENGTH or not boundary.isascii():
        raise BadRequest("The multipart boundary is invalid.")
    return boundary.encode("ascii")


class _Part(t.NamedTuple):
    name: str | None
    filename: str | None
    content_type: str | None
    headers: list[tuple[str, str]]


class MultipartParser:
    """One ``multipart/form-data`` body (RFC 7578), parsed as it is read.

    Text fields are decoded into ``fields``; file parts become :class:`FileStorage` objects,
    kept in memory up to ``spool_size`` bytes for all files together and in a temporary file
    beyond, or written to ``stream_factory``'s file when one is given. Parts without a name are
    read and dropped.

    The body is read into one reused buffer; ``_pos`` and ``_end`` delimit the unconsumed bytes.
    """

    def __init__(
        self,
        boundary: bytes,
        *,
        max_content_length: int | None = None,
        max_form_memory_size: int | None = None,
        max_form_parts: int | None = None,
        stream_factory: StreamFactory | None = None,
        content_length: int | None = None,
        chunk_size: int = CHUNK_SIZE,
        spool_size: int = SPOOL_SIZE,
        upload_name: Callable[[str], str] = str,
        make_file: MakeFile = _file_storage,
    ) -> None:
        self.upload_name = upload_name
        self.make_file = make_file
        self.boundary = boundary
        self.max_form_memory_size = max_form_memory_size
        self.max_form_parts = max_form_parts
        self.stream_factory = stream_factory
        self.content_length = content_length
        self.memory_left = spool_size
        self._readinto: Callable[[memoryview], int | None] = _no_data
        if max_content_length is not None and (content_length or 0) > max_content_length:
            raise RequestEntityTooLarge()
        #: Bytes left to read: the length, else one more than the limit (to tell when it is
        #: exceeded), else -1 for "until the stream ends".
        self._remaining = -1 if max_content_length is None else max_content_length + 1
        if content_length is not None:
            self._remaining = content_length
        size = chunk_size if content_length is None else min(chunk_size, content_length)
        self._buf = bytearray(max(size, 1))
        self._pos = self._end = 0
        self._newline = b""
        self._delimiter = b""
        self._upload: _Upload | None = None  # the file being read

    def parse(self, stream: t.IO[bytes]) -> tuple[Fields, Files]:
        """Parse the body read from ``stream``; ``(fields, files)`` in order."""
        readinto = getattr(stream, "readinto", None)
        self._readinto = readinto if readinto is not None else _reader(stream)
        fields: Fields = []
        files: Files = []
        try:
            self._parts(fields, files)
        except BaseException:
            for _, storage in files:  # temporary files go now, not when collected
                storage.close()
            if self._upload is not None:
                self._upload.close()
            raise
        return fields, files

    def _parts(self, fields: Fields, files: Files) -> None:
        closed = self._first_delimiter()
        parts = 0
        limit = self.max_form_parts
        while not closed:
            part = self._headers()
            parts += 1
            if limit is not None and parts > limit:
                raise RequestEntityTooLarge(f"Too many form parts (the limit is {limit}).")
            if part.filename is None:
                field = _Field(self.max_form_memory_size, part.content_type)
                closed = self._data(field)
                if part.name is not None:
                    fields.append((part.name, field.value()))
            elif part.name is None:
                closed = self._data(_Discard())
            else:
                filename = self.upload_name(part.filename)
                upload = self._upload = _Upload(self, part, filename)
                closed = self._data(upload)
                self._upload = None
                storage = self.make_file(
                    upload.file(), filename, part.name, Headers(part.headers), part.filename
                )
                files.append((part.name, storage))

    def unread(self) -> int | None:
        """Body bytes not consumed yet (``None`` when the length is unknown)."""
        return None if self._remaining < 0 else self._remaining + self._end - self._pos

    # --- reading --------------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Read more after the unconsumed bytes (moved to the front); False at the end."""
        remaining = self._remaining
        if remaining == 0:
            return False
        buf, pos, end = self._buf, self._pos, self._end
        kept = end - pos
        if pos:
            buf[:kept] = buf[pos:end]
            self._pos, self._end = 0, kept
        if kept == len(buf):
            buf.extend(bytes(len(buf)))  # only when more is kept than a chunk (never in practice)
        size = len(buf) - kept if remaining < 0 else min(len(buf) - kept, remaining)
        with memoryview(buf) as view:
            got = self._readinto(view[kept : kept + size])
        if not got:
            self._remaining = 0
            return False
        if remaining > 0:
            self._remaining = remaining - got
            if self._remaining == 0 and self.content_length is None:
                raise RequestEntityTooLarge()  # read one more byte than the limit
        self._end = kept + got
        return True

    def _ensure(self, size: int) -> None:
        """Buffer at least ``size`` bytes from ``_pos`` (fewer at the end of the body)."""
        while self._end - self._pos < size and self._fill():
            pass

    # --- structure ------------------------------------------------------------------------------

    def _first_delimiter(self) -> bool:
        """Skip the preamble and the first delimiter line; True if it closes the body."""
        dash = b"--" + self.boundary
        self._ensure(len(dash))
        if not self._end:
            return True  # an empty body: no fields (as werkzeug treats it)
        if self._buf.startswith(dash):
            after = self._after_delimiter(len(dash))
            if after != _NOT_A_DELIMITER:
                return self._part_after(after)
        line = b"\n" + dash  # elsewhere a delimiter starts a line
        search = self._pos
        while True:
            at = self._buf.find(line, search, self._end)
            if at < 0:
                self._pos = max(self._pos, self._end - len(line) + 1)  # drop the preamble
                if not self._fill():
                    raise BadRequest("The multipart body has no boundary line.")
                search = self._pos
                continue
            self._pos = at + 1
            after = self._after_delimiter(len(dash))
            if after != _NOT_A_DELIMITER:
                return self._part_after(after)
            search = self._pos + 1

    def _part_after(self, after: int) -> bool:
        if after == _CLOSE:
            return True
        self._pos = after
        return False

    def _after_delimiter(self, size: int) -> int:
        """For a delimiter of ``size`` bytes at ``_pos``: where the next part starts, ``_CLOSE``
        after the closing one, or ``_NOT_A_DELIMITER``. The first delimiter sets the line break
        (CRLF, or LF alone as some clients send)."""
        self._ensure(size + 2)
        buf, end = self._buf, self._end
        at = self._pos + size
        if buf.startswith(b"--", at, end):
            return _CLOSE
        if at < end and buf[at] in b" \t":
            self._ensure(size + MAX_PADDING + 2)
            buf, end = self._buf, self._end
            at = self._pos + size
            stop = min(end, at + MAX_PADDING)
            while at < stop and buf[at] in b" \t":
                at += 1
        newline = self._newline
        if not newline:
            newline = b"\r\n" if buf.startswith(b"\r\n", at, end) else b"\n"
            if not buf.startswith(newline, at, end):
                return _NOT_A_DELIMITER
            self._newline = newline
            self._delimiter = newline + b"--" + self.boundary
            return at + len(newline)
        return at + len(newline) if buf.startswith(newline, at, end) else _NOT_A_DELIMITER

    def _headers(self) -> _Part:
        """Read the header section of the part at ``_pos``, up to the line break of the blank
        line that ends it (which may also begin the next delimiter, when the data is empty)."""
        newline = self._newline
        self._ensure(len(newline))
        if self._buf.startswith(newline, self._pos, self._end):
            return _Part(None, None, None, [])
        end_mark = newline + newline
        search = self._pos
        while (at := self._buf.find(end_mark, search, self._end)) < 0:
            if self._end - self._pos > MAX_PART_HEADER_SIZE:
                raise BadRequest("The headers of a multipart part are too large.")
            searched = max(self._end - self._pos - len(end_mark) + 1, 0)
            if not self._fill():
                raise BadRequest("The multipart body ended inside the headers of a part.")
            search = self._pos + searched
        pos = self._pos
        if at - pos > MAX_PART_HEADER_SIZE:
            raise BadRequest("The headers of a multipart part are too large.")
        self._pos = at + len(newline)
        return _parse_part_headers(bytes(self._buf[pos:at]))

    def _data(self, sink: _Sink) -> bool:
        """Feed the part's data to ``sink`` up to the next delimiter; True if it is the last."""
        delimiter = self._delimiter
        size = len(delimiter)
        self._ensure(size)
        if self._buf.startswith(delimiter, self._pos, self._end):  # no data at all
            after = self._after_delimiter(size)
            if after != _NOT_A_DELIMITER:
                return self._part_after(after)
        self._pos += len(self._newline)  # the blank line's
        search = self._pos
        while True:
            buf, pos, end = self._buf, self._pos, self._end
            at = buf.find(delimiter, search, end)
            if at < 0:
                stop = _partial_match_at(buf, delimiter, max(pos, end - size + 1), end)
                if stop > pos:
                    sink.write(buf, pos, stop, True)
                    self._pos = stop
                if not self._fill():
                    raise BadRequest(_TRUNCATED)
                search = self._pos
                continue
            if at > pos:
                sink.write(buf, pos, at, False)
                self._pos = at
            after = self._after_delimiter(size)
            if after != _NOT_A_DELIMITER:
                return self._part_after(after)
            search = self._pos + 1  # data that looks like a boundary: keep it


def _partial_match_at(buf: bytearray, delimiter: bytes, start: int, end: int) -> int:
    """Where, from ``start``, the bytes up to ``end`` begin a ``delimiter`` (``end`` if nowhere),
    so that the bytes before it can be passed on before reading more."""
    first = delimiter[:1]
    while (start := buf.find(first, start, end)) >= 0:
        if delimiter.startswith(buf[start:end]):
            return start
        start += 1
    return end


def _no_data(view: memoryview) -> int:
    return 0


def _reader(stream: t.IO[bytes]) -> Callable[[memoryview], int]:
    """``readinto`` for a stream that only has ``read``."""

    def readinto(view: memoryview) -> int:
        data = stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    return readinto


# --- part headers -----------------------------------------------------------------------------


def _parse_part_headers(block: bytes) -> _Part:
    """A part's headers, with the name and filename of its ``Content-Disposition``."""
    headers: list[tuple[str, str]] = []
    disposition = content_type = None
    for line in block.splitlines():  # CRLF, and a bare CR or LF as werkzeug does
        if line and line[0] in b" \t" and headers:  # obsolete line folding
            key, value = headers.pop()
            line = f"{key}: {value} {line.strip().decode('utf-8', 'replace')}".encode()
        key_bytes, colon, value_bytes = line.partition(b":")
        if not colon:
            continue
        key = key_bytes.strip().decode("latin-1")
        value = value_bytes.strip(b" \t").decode("utf-8", "replace")
        headers.append((key, value))
        lowered = key.lower()
        if lowered == "content-disposition":
            disposition = value
        elif lowered == "content-type":
            content_type = value
    if disposition is None:
        return _Part(None, None, content_type, headers)
    simple = _SIMPLE_DISPOSITION.fullmatch(disposition)
    if simple is not None:
        return _Part(simple[1], simple[2], content_type, headers)
    params = header_params(disposition)
    return _Part(params.get("name"), params.get("filename"), content_type, headers)


def header_params(value: str) -> dict[str, str]:
    """The parameters of a header value (``form-data; name="a"; filename*=UTF-8''%C3%A9``).

    Names are lower-cased; a quoted value is unescaped (``\\"``, and ``%22`` as browsers send a
    quote); an RFC 2231 ``name*`` value (UTF-8, ISO-8859-1 or US-ASCII) wins over ``name``.
    """
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for match in _PARAM.finditer(value):
        key, quoted, token = match.groups()
        key = key.lower()
        if quoted is not None:
            if "\\" in quoted:
                quoted = _QUOTED_PAIR.sub(r"\1", quoted)
            if "%22" in quoted:
                quoted = quoted.replace("%22", '"')
            text = quoted
        else:
            text = token
        if key.endswith("*"):
            charset, _, rest = text.partition("'")
            encoded = rest.partition("'")[2]
            codec = _EXT_CHARSETS.get(charset.lower())
            if codec is not None and rest:
                extended[key[:-1]] = unquote(encoded, codec, "replace")
        else:
            params[key] = text
    params.update(extended)
    return params


def _field_charset(content_type: str | None) -> str:
    """The charset a text field is decoded with: its ``Content-Type``'s if safe, else UTF-8."""
    if content_type and "charset" in content_type.lower():
        charset = header_params(content_type).get("charset", "").lower()
        if charset in _FIELD_CHARSETS:
            return charset
    return "utf-8"


# --- where part data goes ---------------------------------------------------------------------


class _Sink(t.Protocol):
    def write(self, buf: bytearray, start: int, end: int, more: bool) -> None:
        """Take ``buf[start:end]``; ``more`` tells that the part goes on after it."""


class _Discard:
    """The data of a part without a name."""

    def write(self, buf: bytearray, start: int, end: int, more: bool) -> None:
        pass


class _Field:
    """A text field: its bytes, limited to ``max_form_memory_size``."""

    __slots__ = ("content_type", "limit", "pieces", "size")

    def __init__(self, limit: int | None, content_type: str | None) -> None:
        self.limit = limit
        self.content_type = content_type
        self.pieces: list[bytearray] = []
        self.size = 0

    def write(self, buf: bytearray, start: int, end: int, more: bool) -> None:
        self.size += end - start
        if self.limit is not None and self.size > self.limit:
            raise RequestEntityTooLarge(f"A form field is larger than {self.limit} bytes.")
        self.pieces.append(buf[start:end])

    def value(self) -> str:
        pieces = self.pieces
        data = pieces[0] if len(pieces) == 1 else bytearray().join(pieces)
        return data.decode(_field_charset(self.content_type), "replace")


class _Upload:
    """A file part: in memory while the request's budget lasts, then in a temporary file (or in
    the file of the parser's ``stream_factory``).

    Data that arrived whole is one slice of the chunk. Data over several chunks goes to a buffer
    sized once for the rest of the body: growing a large buffer step by step reallocates it,
    and memory returned to the system costs page faults when it is taken again.
    """

    __slots__ = ("capacity", "data", "memory", "parser", "spooled")

    def __init__(self, parser: MultipartParser, part: _Part, filename: str) -> None:
        self.parser = parser
        self.data = b""
        self.memory: io.BytesIO | None = None
        self.capacity = 0  # of memory, reserved from the parser's budget
        self.spooled: t.IO[bytes] | None = None
        factory = parser.stream_factory
        if factory is not None:
            length = None
            for key, value in part.headers:
                if key.lower() == "content-length" and value.isdigit():
                    length = int(value)
            self.spooled = factory(
                total_content_length=parser.content_length,
                content_type=part.content_type,
                filename=filename,
                content_length=length or 0,
            )

    def write(self, buf: bytearray, start: int, end: int, more: bool) -> None:
        parser = self.parser
        first = self.spooled is None and self.memory is None and not self.data
        if first and not more and end - start <= parser.memory_left:  # the whole file, likely
            parser.memory_left -= end - start
            with memoryview(buf) as view:
                self.data = view[start:end].tobytes()
            return
        with memoryview(buf) as view:
            self._target(end - start).write(view[start:end])

    def _target(self, size: int) -> t.IO[bytes]:
        """Where the next ``size`` bytes go: memory while it lasts, else a temporary file."""
        if self.spooled is not None:
            return self.spooled
        parser = self.parser
        written = len(self.data)
        if self.memory is None:
            unread = parser.unread()
            wanted = parser.memory_left + written if unread is None else written + unread
            capacity = min(wanted, parser.memory_left + written)
            if written + size <= capacity:
                parser.memory_left += written - capacity
                self.capacity = capacity
                self.memory = memory = _presized(capacity)
                memory.write(self.data)
                self.data = b""
                return memory
        elif self.memory.tell() + size <= self.capacity:
            return self.memory
        spooled = self.spooled = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the request)
        parser.memory_left += written + self.capacity  # moved to disk: the budget is free again
        if self.memory is not None:
            with self.memory.getbuffer() as view:
                spooled.write(view[: self.memory.tell()])
        spooled.write(self.data)
        self.memory = None
        self.data = b""
        return spooled

    def file(self) -> t.IO[bytes]:
        """The data, positioned at its start."""
        if self.spooled is not None:
            self.spooled.seek(0)
            return self.spooled
        memory = self.memory
        if memory is None:
            return io.BytesIO(self.data)  # shares the bytes: read() returns them uncopied
        self.parser.memory_left += self.capacity - memory.tell()
        memory.truncate()
        memory.getvalue()  # trims the buffer to its size, so that read() shares it
        memory.seek(0)
        return memory

    def close(self) -> None:
        for file in (self.spooled, self.memory):
            if file is not None:
                file.close()


def _presized(size: int) -> io.BytesIO:
    """An empty ``BytesIO`` whose buffer holds ``size`` bytes (truncate it when done)."""
    memory = io.BytesIO()
    if size > 0:
        memory.seek(size - 1)
        memory.write(b"\0")
        memory.seek(0)
    return memory
