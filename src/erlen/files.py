"""Sending files: ``send_file``, ``send_from_directory`` and the static files' safety check.

werkzeug sets the headers and answers conditional and single-range requests; erlen adds the
path checks and ``multipart/byteranges`` answers to requests for several ranges. The body is the
open file, read in chunks while it is sent (by the server's ``sendfile`` where it has one).
"""

from __future__ import annotations

import os
import posixpath
import secrets
import stat
import typing as t
from collections.abc import Iterator
from datetime import datetime

from werkzeug.exceptions import NotFound, RequestedRangeNotSatisfiable
from werkzeug.http import is_resource_modified, parse_range_header
from werkzeug.utils import send_file as _wz_send_file

from .globals import current_app, request

if t.TYPE_CHECKING:
    from .wrappers import Response

#: Largest number of ranges answered in one multipart response (more is a 416).
MAX_RANGES = 16


def send_file(
    path_or_file: os.PathLike[str] | str | t.BinaryIO,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | t.Callable[[str | None], int | None] | None = None,
) -> Response:
    """A response with a file's contents, read in chunks as it is sent.

    Sets ``Content-Type`` (guessed from the name), ``ETag`` and ``Last-Modified``, answers
    ``If-None-Match``/``If-Modified-Since`` with 304 and ``Range`` with 206 (one range, or
    several as ``multipart/byteranges``) or 416 when ``conditional``; ``as_attachment`` makes it
    a download named ``download_name`` (non-ASCII names included). A relative path is relative
    to the app's root folder. Never pass a path that came from the user: use
    :func:`send_from_directory` for those.
    """
    from werkzeug.wrappers import Response as WerkzeugResponse  # its import loads multipart

    app = current_app
    environ = request.environ
    ranges = _multiple_ranges(environ) if conditional else None
    if ranges is not None:  # werkzeug would refuse several ranges: let it see none
        environ = {key: value for key, value in environ.items() if key != "HTTP_RANGE"}
    rv = _wz_send_file(
        path_or_file,
        environ,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=download_name,
        conditional=conditional,
        etag=etag,
        last_modified=last_modified,
        max_age=app.get_send_file_max_age if max_age is None else max_age,
        use_x_sendfile=app.config["USE_X_SENDFILE"],
        response_class=WerkzeugResponse,
        _root_path=app.root_path,
    )
    response = app.make_response(rv)
    if response.status_code in (304, 412):  # a conditional answer has no body: not the file
        response.close()
        response.response = []
        response.headers.remove("Content-Length")
    if ranges is not None and response.status_code == 200 and _if_range_matches(response):
        _answer_ranges(response, ranges)
    return response


def _multiple_ranges(environ: t.Mapping[str, t.Any]) -> list[tuple[int, int | None]] | None:
    parsed = parse_range_header(environ.get("HTTP_RANGE"))
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) < 2:
        return None
    return list(parsed.ranges)


def _if_range_matches(response: Response) -> bool:
    if_range = request.headers.get("If-Range")
    if if_range is None:
        return True
    etag, _weak = response.get_etag()
    return not is_resource_modified(
        request.environ, etag=etag, last_modified=response.last_modified, ignore_if_range=False
    )


def _answer_ranges(response: Response, ranges: list[tuple[int, int | None]]) -> None:
    length = response.content_length
    file = _file_of(response.response)
    if length is None or file is None:
        return  # not a seekable file of known size: the full 200 stands
    spans = []
    for start, stop in ranges:
        if start < 0:  # a suffix range: the last -start bytes
            start, stop = max(length + start, 0), length
        stop = length if stop is None else min(stop, length)
        if start < stop:
            spans.append((start, stop))
    if not spans or len(spans) > MAX_RANGES:
        response.close()
        raise RequestedRangeNotSatisfiable(length=length)
    boundary = secrets.token_hex(16)
    content_type = response.headers.get("Content-Type", "application/octet-stream")
    parts = [
        (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{stop - 1}/{length}\r\n\r\n"
        ).encode("latin-1")
        for start, stop in spans
    ]
    closing = f"--{boundary}--\r\n".encode("latin-1")
    pieces = list(zip(parts, spans, strict=True))
    total = sum(len(head) + (stop - start) + 2 for head, (start, stop) in pieces)
    response.response = _byteranges(file, pieces, closing)
    response.status_code = 206
    response.headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
    response.headers["Content-Length"] = str(total + len(closing))


def _file_of(body: t.Any) -> t.BinaryIO | None:
    # werkzeug's, the server's or erlen's file wrapper: each keeps the open file.
    for name in ("file", "filelike"):
        file = getattr(body, name, None)
        if file is not None and hasattr(file, "seek"):
            return t.cast(t.BinaryIO, file)
    return None


def _byteranges(
    file: t.BinaryIO, parts: list[tuple[bytes, tuple[int, int]]], closing: bytes
) -> Iterator[bytes]:
    try:
        for head, (start, stop) in parts:
            yield head
            file.seek(start)
            remaining = stop - start
            while remaining > 0:
                data = file.read(min(remaining, 64 * 1024))
                if not data:
                    break
                remaining -= len(data)
                yield data
            yield b"\r\n"
        yield closing
    finally:
        file.close()


#: Dot-named folders that stay servable: RFC 8615's ``.well-known`` (ACME challenges,
#: ``security.txt``) is meant to be public and is often served from the static folder.
PUBLIC_DOT_NAMES = frozenset({".well-known"})
#: Segments that name no file (the path is normalized), so they are not dotfiles.
_RELATIVE_SEGMENTS = frozenset({".", ".."})


def safe_file_path(
    directory: os.PathLike[str] | str, path: str, *, allow_dotfiles: bool = False
) -> str:
    """The path of the file ``path`` inside ``directory``, or a 404 for anything that could
    leave it: ``..`` segments, absolute paths, backslashes, drive names, NUL bytes, and symlinks
    to anything outside the folder (symlinks to files inside it are followed). Dotfiles and
    dot-folders (``.env``, ``.git/config``) are a 404 too unless ``allow_dotfiles``;
    ``.well-known`` is always allowed.

    Use it before opening a file named by the client in a folder of your own."""
    if "\x00" in path or "\\" in path or (len(path) > 1 and path[1] == ":"):
        raise NotFound()
    if not allow_dotfiles and _names_a_dotfile(path):
        raise NotFound()
    relative = posixpath.normpath(path)
    if relative in _RELATIVE_SEGMENTS or relative.startswith(("/", "../")):
        raise NotFound()
    folder = os.fspath(directory)
    if not _is_file_inside(folder, relative):
        raise NotFound()
    return os.path.join(folder, relative)


def _names_a_dotfile(path: str) -> bool:
    """Whether a segment of ``path`` is a dotfile or dot-folder (other than ``.well-known``)."""
    if not (path.startswith(".") or "/." in path):  # most paths: two scans, no split
        return False
    return any(
        segment.startswith(".")
        and segment not in _RELATIVE_SEGMENTS
        and segment not in PUBLIC_DOT_NAMES
        for segment in path.split("/")
    )


def _is_file_inside(folder: str, relative: str) -> bool:
    """Whether the normalized ``relative`` path names a regular file inside ``folder``.

    Each segment below the folder is looked at without following it, one ``lstat`` each, which
    costs less than resolving the whole path. Only a path through a symlink is resolved in full
    and compared with the folder. The folder itself may be a symlink (the app's choice, not the
    client's); it is never cached, so a re-pointed folder is seen at once.
    """
    path = folder
    mode = 0
    for segment in relative.split("/"):
        path = os.path.join(path, segment)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode):
            return _links_to_a_file_inside(folder, os.path.join(folder, relative))
    return stat.S_ISREG(mode)


def _links_to_a_file_inside(folder: str, path: str) -> bool:
    real_path = os.path.realpath(path)
    # A real path has no symlink in it, so one that starts with the folder as given is inside
    # it; the folder is resolved only when it is not a real path itself.
    inside = real_path.startswith(os.path.join(folder, "")) or real_path.startswith(
        os.path.join(os.path.realpath(folder), "")
    )
    return inside and os.path.isfile(real_path)


def send_from_directory(
    directory: os.PathLike[str] | str,
    path: str,
    *,
    allow_dotfiles: bool | None = None,
    **kwargs: t.Any,
) -> Response:
    """Send the file at ``path`` (which may come from the URL) inside ``directory``; a path
    outside the folder (also through a symlink), a dotfile or a missing file is a 404 (see
    :func:`safe_file_path`). ``allow_dotfiles`` defaults to the ``SEND_FILE_ALLOW_DOTFILES``
    setting. Takes :func:`send_file`'s options."""
    app = current_app
    if allow_dotfiles is None:
        allow_dotfiles = bool(app.config["SEND_FILE_ALLOW_DOTFILES"])
    folder = os.path.join(app.root_path, directory)
    return send_file(safe_file_path(folder, path, allow_dotfiles=allow_dotfiles), **kwargs)
