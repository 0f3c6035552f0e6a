"""Static files and send_file: the static route, headers, conditional and range requests, caching,
path safety, large files and how file bodies are handed to the server."""

from __future__ import annotations

import asyncio
import io
import os
import random
import typing as t
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.http import parse_date

from erlen import Erlen, request, send_file, send_from_directory, url_for
from erlen.files import safe_file_path
from erlen.testing import ErlenClient
from erlen.wrappers import Response

TEXT = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
SECRET = b"top secret, outside the static folder"


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Erlen:
    """An app rooted in a temporary folder with ``static/text.txt`` and secret files next to the
    static folder and in ``static/C:/``. Indirect parametrization passes ``Erlen`` arguments."""
    options: dict[str, t.Any] = getattr(request, "param", {})
    for folder in ("static", "assets"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "text.txt").write_bytes(TEXT)
        (tmp_path / folder / "sub").mkdir()
        (tmp_path / folder / "sub" / "page.html").write_bytes(b"<p>sub</p>")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    # a folder named like a Windows drive: must not be reachable, whatever the platform
    (tmp_path / "static" / "C:").mkdir()
    (tmp_path / "static" / "C:" / "secret.txt").write_bytes(SECRET)
    app = Erlen("test_files", root_path=str(tmp_path), **options)
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-with-enough-entropy-0123")
    return app


def root(app: Erlen) -> Path:
    return Path(app.root_path)


# --- the static route ---------------------------------------------------------------------------


def test_static_route(app: Erlen, client: ErlenClient) -> None:
    response = client.get("/static/text.txt")
    assert response.status_code == 200
    assert response.data == TEXT
    assert response.mimetype == "text/plain"
    response = client.get("/static/sub/page.html")
    assert response.data == b"<p>sub</p>"
    assert response.mimetype == "text/html"
    assert client.get("/static/missing.txt").status_code == 404
    assert client.get("/static/sub").status_code == 404  # a folder is not a file


def test_static_url_for(app: Erlen) -> None:
    with app.test_request_context("/"):
        assert url_for("static", filename="sub/page.html") == "/static/sub/page.html"


def test_static_head(app: Erlen, client: ErlenClient) -> None:
    response = client.head("/static/text.txt")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len(TEXT))


@pytest.mark.parametrize("app", [{"static_url_path": "/files"}], indirect=True)
def test_custom_static_url_path(app: Erlen, client: ErlenClient) -> None:
    assert client.get("/files/text.txt").data == TEXT
    assert client.get("/static/text.txt").status_code == 404


@pytest.mark.parametrize("app", [{"static_folder": "assets"}], indirect=True)
def test_custom_static_folder(app: Erlen, client: ErlenClient) -> None:
    (root(app) / "assets" / "only-here.txt").write_bytes(b"assets folder")
    assert app.static_url_path == "/assets"
    assert client.get("/assets/only-here.txt").data == b"assets folder"
    assert client.get("/static/text.txt").status_code == 404


@pytest.mark.parametrize(
    "app", [{"static_folder": "assets", "static_url_path": "/s"}], indirect=True
)
def test_custom_static_folder_and_url_path(app: Erlen, client: ErlenClient) -> None:
    (root(app) / "assets" / "only-here.txt").write_bytes(b"assets folder")
    assert client.get("/s/only-here.txt").data == b"assets folder"


@pytest.mark.parametrize("app", [{"static_folder": None}], indirect=True)
def test_no_static_folder_no_route(app: Erlen, client: ErlenClient) -> None:
    assert "static" not in {rule.endpoint for rule in app.url_map.iter_rules()}
    assert client.get("/static/text.txt").status_code == 404


@pytest.mark.parametrize(
    "app", [{"host_matching": True, "static_host": "static.example.com"}], indirect=True
)
def test_static_host(app: Erlen, client: ErlenClient) -> None:
    @app.route("/", host="example.com")
    def index() -> str:
        return "main site"

    response = client.get("/static/text.txt", base_url="http://static.example.com")
    assert response.status_code == 200
    assert response.data == TEXT
    assert client.get("/static/text.txt", base_url="http://example.com").status_code == 404
    assert client.get("/", base_url="http://example.com").data == b"main site"
    with app.test_request_context("/", base_url="http://example.com"):
        assert url_for("static", filename="text.txt") == "http://static.example.com/static/text.txt"


def test_static_host_needs_host_matching(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="static_host"):
        Erlen("x", root_path=str(tmp_path), static_host="static.example.com")
    with pytest.raises(ValueError, match="static_host"):
        Erlen("x", root_path=str(tmp_path), host_matching=True)


# --- send_file ----------------------------------------------------------------------------------


def test_send_file_path(app: Erlen, client: ErlenClient) -> None:
    (root(app) / "report.json").write_bytes(b'{"a": 1}')

    @app.route("/absolute")
    def absolute() -> Response:
        return send_file(root(app) / "report.json")

    @app.route("/relative")
    def relative() -> Response:
        return send_file("report.json")  # relative to the app's root folder

    @app.route("/string")
    def string() -> Response:
        return send_file(str(root(app) / "static" / "text.txt"))

    for url in ("/absolute", "/relative"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.data == b'{"a": 1}'
        assert response.mimetype == "application/json"
        assert response.headers["Content-Length"] == "8"
    assert client.get("/string").data == TEXT


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [("a.png", "image/png"), ("a.css", "text/css"), ("a.pdf", "application/pdf")],
)
def test_send_file_guesses_mimetype(
    app: Erlen, client: ErlenClient, name: str, mimetype: str
) -> None:
    (root(app) / name).write_bytes(b"data")

    @app.route("/")
    def index() -> Response:
        return send_file(name)

    assert client.get("/").mimetype == mimetype


def test_send_file_explicit_mimetype(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> Response:
        return send_file(root(app) / "static" / "text.txt", mimetype="application/x-custom")

    assert client.get("/").mimetype == "application/x-custom"


def test_send_file_object(app: Erlen, client: ErlenClient) -> None:
    @app.route("/named")
    def named() -> Response:
        return send_file(io.BytesIO(b"a,b\n1,2\n"), download_name="table.csv")

    @app.route("/typed")
    def typed() -> Response:
        return send_file(io.BytesIO(b"\x00\x01"), mimetype="application/octet-stream")

    @app.route("/open")
    def opened() -> Response:
        return send_file((root(app) / "static" / "text.txt").open("rb"), mimetype="text/plain")

    response = client.get("/named")
    assert response.data == b"a,b\n1,2\n"
    assert response.mimetype == "text/csv"
    response = client.get("/typed")
    assert response.data == b"\x00\x01"
    assert response.mimetype == "application/octet-stream"
    assert client.get("/open").data == TEXT


def test_send_file_object_without_a_type_is_an_error(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> Response:
        return send_file(io.BytesIO(b"?"))

    with pytest.raises(TypeError):
        client.get("/")


def test_as_attachment(app: Erlen, client: ErlenClient) -> None:
    @app.route("/ascii")
    def ascii_name() -> Response:
        return send_file("static/text.txt", as_attachment=True, download_name="notes.txt")

    @app.route("/unicode")
    def unicode_name() -> Response:
        return send_file("static/text.txt", as_attachment=True, download_name="résumé 2024.txt")

    @app.route("/inline")
    def inline() -> Response:
        return send_file("static/text.txt")

    disposition = client.get("/ascii").headers["Content-Disposition"]
    assert disposition == "attachment; filename=notes.txt"
    response = client.get("/unicode")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%202024.txt" in disposition
    assert 'filename="resume 2024.txt"' in disposition  # an ASCII fallback
    assert response.data == TEXT
    assert client.get("/inline").headers["Content-Disposition"] == "inline; filename=text.txt"


# --- conditional requests -----------------------------------------------------------------------


def test_etag_and_last_modified(app: Erlen, client: ErlenClient) -> None:
    response = client.get("/static/text.txt")
    assert response.headers["ETag"].startswith('"')
    last_modified = parse_date(response.headers["Last-Modified"])
    assert last_modified is not None
    mtime = (root(app) / "static" / "text.txt").stat().st_mtime
    assert int(last_modified.timestamp()) == int(mtime)
    assert response.headers["Accept-Ranges"] == "bytes"


def test_if_none_match_gives_304(app: Erlen, client: ErlenClient) -> None:
    etag = client.get("/static/text.txt").headers["ETag"]
    response = client.get("/static/text.txt", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    response = client.get("/static/text.txt", headers={"If-None-Match": '"other"'})
    assert response.status_code == 200
    assert response.data == TEXT


def test_if_modified_since_gives_304(app: Erlen, client: ErlenClient) -> None:
    last_modified = client.get("/static/text.txt").headers["Last-Modified"]
    response = client.get("/static/text.txt", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304
    assert response.data == b""
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    response = client.get("/static/text.txt", headers={"If-Modified-Since": old})
    assert response.status_code == 200
    assert response.data == TEXT


def test_etag_can_be_turned_off_or_given(app: Erlen, client: ErlenClient) -> None:
    @app.route("/none")
    def no_etag() -> Response:
        return send_file("static/text.txt", etag=False)

    @app.route("/given")
    def given_etag() -> Response:
        return send_file("static/text.txt", etag="v42")

    assert "ETag" not in client.get("/none").headers
    assert client.get("/given").headers["ETag"] == '"v42"'
    response = client.get("/given", headers={"If-None-Match": '"v42"'})
    assert response.status_code == 304


def test_not_conditional(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> Response:
        return send_file("static/text.txt", conditional=False)

    etag = client.get("/").headers.get("ETag")
    response = client.get("/", headers={"If-None-Match": etag or "*", "Range": "bytes=0-1"})
    assert response.status_code == 200
    assert response.data == TEXT


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [("bytes=2-5", 2, 6), ("bytes=60-", 60, len(TEXT)), ("bytes=-4", len(TEXT) - 4, len(TEXT))],
)
def test_single_range(client: ErlenClient, header: str, start: int, stop: int) -> None:
    response = client.get("/static/text.txt", headers={"Range": header})
    assert response.status_code == 206
    assert response.data == TEXT[start:stop]
    assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(TEXT)}"
    assert response.headers["Content-Length"] == str(stop - start)


def parse_byteranges(response: t.Any) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a ``multipart/byteranges`` body: each part's headers and data."""
    assert response.mimetype == "multipart/byteranges"
    boundary = response.mimetype_params["boundary"].encode()
    body: bytes = response.data
    assert body.endswith(b"--" + boundary + b"--\r\n")
    chunks = body.split(b"--" + boundary)
    assert chunks[0] == b""
    assert chunks[-1] == b"--\r\n"
    parts = []
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n"))
        parts.append((headers, data))
    return parts


def test_multiple_ranges(client: ErlenClient) -> None:
    response = client.get("/static/text.txt", headers={"Range": "bytes=0-3,10-14,-5"})
    assert response.status_code == 206
    assert response.headers["Content-Length"] == str(len(response.data))
    parts = parse_byteranges(response)
    size = len(TEXT)
    expected = [(0, 4), (10, 15), (size - 5, size)]
    assert len(parts) == len(expected)
    for (headers, data), (start, stop) in zip(parts, expected, strict=True):
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert headers["Content-Range"] == f"bytes {start}-{stop - 1}/{size}"
        assert data == TEXT[start:stop]


def test_multiple_ranges_clamped_to_the_file(client: ErlenClient) -> None:
    size = len(TEXT)
    response = client.get("/static/text.txt", headers={"Range": "bytes=5-6,50-1000,2000-3000"})
    assert response.status_code == 206
    parts = parse_byteranges(response)
    # the range past the end is left out, the one overlapping the end is cut at the end
    assert [headers["Content-Range"] for headers, _ in parts] == [
        f"bytes 5-6/{size}",
        f"bytes 50-{size - 1}/{size}",
    ]
    assert [data for _, data in parts] == [TEXT[5:7], TEXT[50:]]


def test_multiple_ranges_of_a_file_object(app: Erlen, client: ErlenClient) -> None:
    data = bytes(range(256))

    @app.route("/")
    def index() -> Response:
        return send_file(io.BytesIO(data), mimetype="application/octet-stream")

    response = client.get("/", headers={"Range": "bytes=0-0,255-255"})
    if response.status_code == 206:  # a file object of unknown size may be sent whole
        assert [part for _, part in parse_byteranges(response)] == [b"\x00", b"\xff"]
    else:
        assert response.status_code == 200
        assert response.data == data


@pytest.mark.parametrize("header", ["bytes=500-600", "bytes=500-600,700-800"])
def test_unsatisfiable_range(client: ErlenClient, header: str) -> None:
    response = client.get("/static/text.txt", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(TEXT)}"
    assert TEXT not in response.data


def test_too_many_ranges(client: ErlenClient) -> None:
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 40, 2))
    response = client.get("/static/text.txt", headers={"Range": header})
    assert response.status_code == 416


@pytest.mark.parametrize("header", ["bytes=2-5", "bytes=0-1,4-5"])
def test_if_range(client: ErlenClient, header: str) -> None:
    first = client.get("/static/text.txt")
    etag = first.headers["ETag"]
    last_modified = first.headers["Last-Modified"]
    response = client.get("/static/text.txt", headers={"Range": header, "If-Range": '"old"'})
    assert response.status_code == 200
    assert response.data == TEXT
    old_date = "Mon, 01 Jan 2001 00:00:00 GMT"
    response = client.get("/static/text.txt", headers={"Range": header, "If-Range": old_date})
    assert response.status_code == 200
    assert response.data == TEXT
    for current in (etag, last_modified):
        response = client.get("/static/text.txt", headers={"Range": header, "If-Range": current})
        assert response.status_code == 206


# --- caching ------------------------------------------------------------------------------------


def test_no_max_age_by_default(client: ErlenClient) -> None:
    cache_control = client.get("/static/text.txt").headers["Cache-Control"]
    assert "max-age" not in cache_control
    assert "no-cache" in cache_control


@pytest.mark.parametrize(("value", "seconds"), [(60, 60), (timedelta(hours=2), 7200)])
def test_send_file_max_age_default(
    app: Erlen, client: ErlenClient, value: int | timedelta, seconds: int
) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = value

    @app.route("/file")
    def file() -> Response:
        return send_file("static/text.txt")

    for url in ("/static/text.txt", "/file"):
        response = client.get(url)
        assert response.cache_control.max_age == seconds
        assert response.cache_control.public
        assert response.expires is not None


def test_explicit_max_age(app: Erlen, client: ErlenClient) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60

    @app.route("/number")
    def number() -> Response:
        return send_file("static/text.txt", max_age=5)

    @app.route("/function")
    def function() -> Response:
        return send_file("static/text.txt", max_age=lambda name: 99)

    assert client.get("/number").cache_control.max_age == 5
    assert client.get("/function").cache_control.max_age == 99


# --- send_from_directory and traversal ----------------------------------------------------------


def test_send_from_directory(app: Erlen, client: ErlenClient) -> None:
    downloads = root(app) / "downloads"
    (downloads / "nested").mkdir(parents=True)
    (downloads / "nested" / "file.txt").write_bytes(b"nested file")

    @app.route("/relative/<path:name>")
    def relative(name: str) -> Response:
        return send_from_directory("downloads", name)

    @app.route("/absolute/<path:name>")
    def absolute(name: str) -> Response:
        return send_from_directory(downloads, name, as_attachment=True)

    assert client.get("/relative/nested/file.txt").data == b"nested file"
    response = client.get("/absolute/nested/file.txt")
    assert response.data == b"nested file"
    assert response.headers["Content-Disposition"] == "attachment; filename=file.txt"
    assert client.get("/relative/missing.txt").status_code == 404


TRAVERSAL_URLS = [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/sub/../../secret.txt",
    "/static/..%5csecret.txt",
    "/static/sub%5c..%5c..%5csecret.txt",
    "/static/text.txt%00.png",
    "/static/C:/secret.txt",
    "/static/c:%5csecret.txt",
]


@pytest.mark.parametrize("url", TRAVERSAL_URLS)
def test_static_traversal_is_404(client: ErlenClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert SECRET not in response.data
    assert TEXT not in response.data


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        "..\\secret.txt",
        "sub\\..\\..\\secret.txt",
        "text.txt\x00",
        "text.txt\x00.png",
        "C:/secret.txt",
        "C:secret.txt",
        "c:\\secret.txt",
        "ABSOLUTE",
        "/etc/passwd",
        "//secret.txt",
        "",
        ".",
        "sub",
    ],
)
def test_send_from_directory_traversal_is_404(app: Erlen, client: ErlenClient, name: str) -> None:
    if name == "ABSOLUTE":
        name = str(root(app) / "secret.txt")

    @app.route("/download")
    def download() -> Response:
        return send_from_directory("static", request.args["name"])

    response = client.get("/download", query_string={"name": name})
    assert response.status_code == 404
    assert SECRET not in response.data


def test_safe_file_path(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_bytes(b"ok")
    assert safe_file_path(tmp_path, "ok.txt") == str(tmp_path / "ok.txt")
    for name in ("../ok.txt", "/ok.txt", "a\\..\\ok.txt", "ok.txt\x00", "C:ok.txt", "missing"):
        with pytest.raises(NotFound):
            safe_file_path(tmp_path, name)


# --- symlinks -------------------------------------------------------------------------------------


def link(at: Path, target: Path | str) -> None:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(target)


def test_symlinks_leaving_the_static_folder_are_404(app: Erlen, client: ErlenClient) -> None:
    static = root(app) / "static"
    link(static / "escape.txt", root(app) / "secret.txt")
    link(static / "relative.txt", "../secret.txt")
    link(static / "up", root(app))
    link(static / "sub" / "chain.txt", "../escape.txt")  # inside, then out
    link(static / "dangling.txt", root(app) / "missing.txt")
    for url in (
        "/static/escape.txt",
        "/static/relative.txt",
        "/static/up/secret.txt",
        "/static/sub/chain.txt",
        "/static/dangling.txt",
        "/static/%65scape.txt",
        "/static/sub/..%2Fescape.txt",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert SECRET not in response.data and TEXT not in response.data, url


def test_symlinks_inside_the_folder_are_followed(app: Erlen, client: ErlenClient) -> None:
    static = root(app) / "static"
    link(static / "alias", static / "text.txt")
    link(static / "page-link.html", "sub/page.html")
    link(static / "sub-link", static / "sub")
    assert client.get("/static/page-link.html").data == b"<p>sub</p>"
    assert client.get("/static/sub-link/page.html").data == b"<p>sub</p>"
    response = client.get("/static/alias")
    assert response.data == TEXT
    # The type and the download name come from the name asked for, not the link's target.
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "inline; filename=alias"


def test_a_symlinked_static_folder_is_served_and_may_be_repointed(tmp_path: Path) -> None:
    for release, body in (("v1", b"one"), ("v2", b"two")):
        (tmp_path / release).mkdir()
        (tmp_path / release / "app.js").write_bytes(body)
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "v1")
    app = Erlen("test_files", root_path=str(tmp_path), static_folder="current")
    for asgi in (False, True):
        current.unlink()
        current.symlink_to(tmp_path / "v1")
        client = app.test_client(asgi=asgi)
        assert client.get("/current/app.js").data == b"one"
        current.unlink()
        current.symlink_to(tmp_path / "v2")  # a deploy, without a restart
        assert client.get("/current/app.js").data == b"two"


def test_send_from_directory_refuses_symlinks_out(app: Erlen, client: ErlenClient) -> None:
    downloads = root(app) / "downloads"
    downloads.mkdir()
    (downloads / "ok.txt").write_bytes(b"ok")
    link(downloads / "escape.txt", root(app) / "secret.txt")
    link(downloads / "alias.txt", "ok.txt")

    @app.get("/download/<path:name>")
    def download(name: str) -> Response:
        return send_from_directory("downloads", name, as_attachment=True)

    assert client.get("/download/escape.txt").status_code == 404
    response = client.get("/download/alias.txt")
    assert response.data == b"ok"
    assert response.headers["Content-Disposition"] == "attachment; filename=alias.txt"


# --- dotfiles -------------------------------------------------------------------------------------

DOTFILES = {
    ".env": b"SECRET_KEY=dotenv",
    ".git/config": b"[remote] url=git@private",
    "sub/.hidden/x.txt": b"hidden in a dot-folder",
    ".well-known/.private": b"a dotfile inside .well-known",
}


@pytest.fixture
def dotfiles(app: Erlen) -> Erlen:
    """The static folder with :data:`DOTFILES` and a public ``.well-known/security.txt``."""
    static = root(app) / "static"
    for name, content in {**DOTFILES, ".well-known/security.txt": b"Contact: x"}.items():
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_bytes(content)
    return app


DOTFILE_URLS = [
    "/static/.env",
    "/static/%2eenv",
    "/static/%2Eenv",
    "/static/sub/../.env",
    "/static/sub/%2e%2e/.env",
    "/static/./.env",
    "/static/.git/config",
    "/static/%2egit%2fconfig",
    "/static/sub/.hidden/x.txt",
    "/static/.well-known/.private",
    "/static/.well-known/../.env",
]


@pytest.mark.parametrize("url", DOTFILE_URLS)
def test_dotfiles_are_404_by_default(dotfiles: Erlen, client: ErlenClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert not any(content in response.data for content in DOTFILES.values())


def test_well_known_is_served(dotfiles: Erlen, client: ErlenClient) -> None:
    response = client.get("/static/.well-known/security.txt")
    assert (response.status_code, response.data) == (200, b"Contact: x")
    assert client.get("/static/text.txt").data == TEXT  # dots inside names are fine


def test_dotfiles_can_be_allowed_by_config(dotfiles: Erlen, client: ErlenClient) -> None:
    dotfiles.config["SEND_FILE_ALLOW_DOTFILES"] = True
    for name, content in DOTFILES.items():
        assert client.get(f"/static/{name}").data == content
    assert client.get("/static/../secret.txt").status_code == 404  # still inside the folder


def test_dotfiles_can_be_allowed_per_call(dotfiles: Erlen, client: ErlenClient) -> None:
    @dotfiles.get("/open/<path:name>")
    def open_(name: str) -> Response:
        return send_from_directory("static", name, allow_dotfiles=True)

    @dotfiles.get("/closed/<path:name>")
    def closed(name: str) -> Response:
        return send_from_directory("static", name, allow_dotfiles=False)

    dotfiles.config["SEND_FILE_ALLOW_DOTFILES"] = True
    assert client.get("/open/.env").data == DOTFILES[".env"]
    assert client.get("/closed/.env").status_code == 404
    assert client.get("/closed/.well-known/security.txt").data == b"Contact: x"


def test_safe_file_path_follows_links_inside_and_refuses_dotfiles(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "real.txt").write_bytes(b"real")
    (folder / ".env").write_bytes(b"secret")
    (tmp_path / "outside.txt").write_bytes(b"outside")
    link(folder / "alias.txt", "real.txt")
    link(folder / "out.txt", tmp_path / "outside.txt")
    link(tmp_path / "folder-link", folder)
    assert safe_file_path(folder, "alias.txt") == str(folder / "alias.txt")
    assert safe_file_path(tmp_path / "folder-link", "alias.txt") == str(
        tmp_path / "folder-link" / "alias.txt"
    )
    assert safe_file_path(folder, ".env", allow_dotfiles=True) == str(folder / ".env")
    for name in (".env", "out.txt", ".", "sub/..", ""):
        with pytest.raises(NotFound):
            safe_file_path(folder, name)


def test_a_path_without_symlinks_is_not_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The common case costs one ``lstat`` per segment, not a full ``realpath``."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "file.txt").write_bytes(b"x")

    def no_realpath(path: str) -> str:
        raise AssertionError(f"realpath({path!r})")

    monkeypatch.setattr(os.path, "realpath", no_realpath)
    assert safe_file_path(tmp_path, "sub/file.txt") == str(tmp_path / "sub" / "file.txt")


# --- large files and how bodies are sent ---------------------------------------------------------

BIG = random.Random(4).randbytes(1024 * 1024 + 123_457)


def test_large_file_intact(app: Erlen, client: ErlenClient) -> None:
    (root(app) / "static" / "big.bin").write_bytes(BIG)

    @app.route("/object")
    def file_object() -> Response:
        return send_file(io.BytesIO(BIG), mimetype="application/octet-stream")

    response = client.get("/static/big.bin")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(BIG))
    assert response.data == BIG
    assert client.get("/object").data == BIG
    response = client.get("/static/big.bin", headers={"Range": "bytes=65530-65545,1048570-"})
    parts = parse_byteranges(response)
    assert [data for _, data in parts] == [BIG[65530:65546], BIG[1048570:]]


def test_wsgi_server_file_wrapper_receives_the_file(app: Erlen) -> None:
    (root(app) / "static" / "big.bin").write_bytes(BIG)
    wrapped: list[t.Any] = []

    class ServerFileWrapper:
        """What a server's ``wsgi.file_wrapper`` does: iterate the file (or sendfile() it)."""

        def __init__(self, file: t.BinaryIO, block_size: int = 8192) -> None:
            self.file = file
            self.block_size = block_size
            wrapped.append(self)

        def __iter__(self) -> t.Iterator[bytes]:
            while data := self.file.read(self.block_size):
                yield data

        def close(self) -> None:
            self.file.close()

    client = app.test_client()
    environ = {"wsgi.file_wrapper": ServerFileWrapper}
    response = client.get("/static/big.bin", environ_base=environ)
    assert response.data == BIG
    assert len(wrapped) == 1
    assert wrapped[0].file.closed


Message = t.MutableMapping[str, t.Any]


def run_asgi_request(app: Erlen, path: str, extensions: dict[str, t.Any]) -> list[Message]:
    """Drive ``app.asgi_app`` with a hand-written scope; return the messages it sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
        "extensions": extensions,
    }
    sent: list[Message] = []

    async def run() -> None:
        done = asyncio.Event()

        async def receive() -> Message:
            if not done.is_set():
                done.set()
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # no disconnect while the response is sent
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            sent.append(message)

        await app.asgi_app(scope, receive, send)

    asyncio.run(run())
    return sent


def test_asgi_pathsend(app: Erlen) -> None:
    path = root(app) / "static" / "big.bin"
    path.write_bytes(BIG)
    messages = run_asgi_request(app, "/static/big.bin", {"http.response.pathsend": {}})
    assert [message["type"] for message in messages] == [
        "http.response.start",
        "http.response.pathsend",
    ]
    assert messages[0]["status"] == 200
    headers = dict(messages[0]["headers"])
    assert headers[b"content-length"] == str(len(BIG)).encode()
    assert Path(messages[1]["path"]).resolve() == path.resolve()
    assert Path(messages[1]["path"]).is_absolute()


def test_asgi_without_pathsend_sends_chunks(app: Erlen) -> None:
    (root(app) / "static" / "big.bin").write_bytes(BIG)
    messages = run_asgi_request(app, "/static/big.bin", {})
    assert messages[0]["type"] == "http.response.start"
    bodies = messages[1:]
    assert all(message["type"] == "http.response.body" for message in bodies)
    assert len(bodies) > 2  # sent in several reads, not loaded whole
    assert all(len(message["body"]) <= 64 * 1024 for message in bodies)
    assert all(message.get("more_body") for message in bodies[:-1])
    assert not bodies[-1].get("more_body", False)
    assert b"".join(message["body"] for message in bodies) == BIG


def test_asgi_pathsend_not_used_for_file_objects(app: Erlen) -> None:
    @app.route("/object")
    def file_object() -> Response:
        return send_file(io.BytesIO(TEXT), mimetype="text/plain")

    messages = run_asgi_request(app, "/object", {"http.response.pathsend": {}})
    assert [message["type"] for message in messages[1:]].count("http.response.pathsend") == 0
    assert b"".join(message.get("body", b"") for message in messages[1:]) == TEXT
