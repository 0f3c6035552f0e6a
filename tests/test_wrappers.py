"""Request and Response behaviour, through the WSGI and the ASGI path (the ``client`` fixture)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import io
import json
import typing as t
from collections.abc import AsyncIterator, Iterator

import pytest
from support.responses import json_body
from werkzeug.exceptions import BadRequest

from erlen import Erlen, Response, request
from erlen.testing import ErlenClient
from erlen.testing.environ import ASGI_CHUNK_SIZE

# --- helpers ------------------------------------------------------------------------------------


def _body_text(client_response: t.Any) -> str:
    return t.cast(str, client_response.get_data(as_text=True))


def _add_view(app: Erlen, rule: str, kind: str, read: t.Callable[[], t.Any]) -> None:
    """Register ``read`` as a sync or an async view on ``rule`` (POST and GET)."""
    if kind == "sync":

        def sync_view() -> t.Any:
            return read()

        app.add_url_rule(rule, f"sync_{rule}", sync_view, methods=["GET", "POST"])
    else:

        async def async_view() -> t.Any:
            await asyncio.sleep(0)
            return read()

        app.add_url_rule(rule, f"async_{rule}", async_view, methods=["GET", "POST"])


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- query string, form, files ------------------------------------------------------------------


def test_args(app: Erlen, client: ErlenClient) -> None:
    @app.route("/args")
    def args() -> t.Any:
        return {
            "a": request.args.getlist("a"),
            "b": request.args["b"],
            "missing": request.args.get("missing"),
            "typed": request.args.get("n", type=int),
        }

    rv = client.get("/args?a=1&a=2&b=x%20y&n=7")
    assert rv.status_code == 200
    assert rv.json == {"a": ["1", "2"], "b": "x y", "missing": None, "typed": 7}


def test_missing_arg_is_400(app: Erlen, client: ErlenClient) -> None:
    @app.route("/need")
    def need() -> str:
        return request.args["absent"]

    assert client.get("/need").status_code == 400


def test_form_urlencoded(app: Erlen, client: ErlenClient) -> None:
    @app.route("/form", methods=["POST"])
    def form() -> t.Any:
        return {
            "name": request.form["name"],
            "tags": request.form.getlist("tag"),
            "files": len(request.files),
            "mimetype": request.mimetype,
        }

    rv = client.post("/form", data={"name": "érlen", "tag": ["a", "b"]})
    assert rv.json == {
        "name": "érlen",
        "tags": ["a", "b"],
        "files": 0,
        "mimetype": "application/x-www-form-urlencoded",
    }


def test_form_multipart_and_files(app: Erlen, client: ErlenClient) -> None:
    @app.route("/upload", methods=["POST"])
    def upload() -> t.Any:
        upload = request.files["doc"]
        return {
            "field": request.form["field"],
            "filename": upload.filename,
            "content": upload.read().decode(),
            "content_type": upload.content_type,
            "form_keys": sorted(request.form),
            "file_keys": sorted(request.files),
        }

    rv = client.post(
        "/upload",
        data={"field": "value", "doc": (io.BytesIO(b"file body\n"), "notes.txt", "text/plain")},
    )
    assert rv.status_code == 200
    assert rv.json == {
        "field": "value",
        "filename": "notes.txt",
        "content": "file body\n",
        "content_type": "text/plain",
        "form_keys": ["field"],
        "file_keys": ["doc"],
    }


@pytest.mark.parametrize("read", ["files", "stream", "nothing"])
def test_what_a_view_opened_of_the_body_is_closed_after_the_request(
    app: Erlen, client: ErlenClient, read: str
) -> None:
    opened: list[t.Any] = []

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        if read == "files":
            opened.append(request.files["doc"].stream)
        elif read == "stream":
            opened.append(request.stream)
        return "ok" if all(not file.closed for file in opened) else "closed early"

    data = {"field": "value", "doc": (io.BytesIO(b"file body\n"), "notes.txt", "text/plain")}
    assert client.post("/upload", data=data).text == "ok"
    assert len(opened) == (0 if read == "nothing" else 1)
    assert all(file.closed for file in opened)


def test_values_combines_args_and_form(app: Erlen, client: ErlenClient) -> None:
    @app.route("/values", methods=["GET", "POST"])
    def values() -> t.Any:
        return {key: request.values.getlist(key) for key in sorted(request.values)}

    assert client.post("/values?q=1&both=arg", data={"f": "2", "both": "form"}).json == {
        "both": ["arg", "form"],
        "f": ["2"],
        "q": ["1"],
    }
    # For GET, the form is not part of values.
    assert client.get("/values?q=1").json == {"q": ["1"]}


# --- JSON ---------------------------------------------------------------------------------------


def test_json_and_get_json(app: Erlen, client: ErlenClient) -> None:
    @app.route("/json", methods=["POST"])
    def json_view() -> t.Any:
        return {"json": request.json, "get_json": request.get_json(), "is_json": request.is_json}

    rv = client.post("/json", json={"a": [1, 2], "b": None})
    expected = {"a": [1, 2], "b": None}
    assert rv.json == {"json": expected, "get_json": expected, "is_json": True}


CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    " application/json",
    "application/json ",
    "application/problem+json",
    "application/jsonx",
    "text/json",
    "application/x-www-form-urlencoded",
    "",
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_is_json_answers_as_werkzeug(app: Erlen, client: ErlenClient, content_type: str) -> None:
    """``is_json`` answers ``application/json`` without werkzeug's parse, and anything else
    as werkzeug's own property does."""
    from werkzeug.wrappers import Request as WerkzeugRequest

    @app.post("/is-json")
    def is_json() -> dict[str, bool]:
        upstream = WerkzeugRequest({"CONTENT_TYPE": content_type}).is_json
        return {"ours": request.is_json, "upstream": upstream}

    answer = client.post("/is-json", data=b"{}", headers={"Content-Type": content_type}).json
    assert answer is not None
    assert answer["ours"] is answer["upstream"]
    assert answer["ours"] is (content_type.strip().lower().partition(";")[0] in _JSON_TYPES)


_JSON_TYPES = {"application/json", "application/problem+json"}


def test_get_json_force_and_silent(app: Erlen, client: ErlenClient) -> None:
    @app.route("/force", methods=["POST"])
    def force() -> t.Any:
        return {
            "silent": request.get_json(silent=True),
            "forced": request.get_json(force=True),
        }

    rv = client.post("/force", data='{"x": 1}', content_type="text/plain")
    assert rv.status_code == 200
    assert rv.json == {"silent": None, "forced": {"x": 1}}


def test_get_json_silent_on_invalid_json(app: Erlen, client: ErlenClient) -> None:
    @app.route("/silent", methods=["POST"])
    def silent() -> t.Any:
        return {"value": request.get_json(silent=True)}

    rv = client.post("/silent", data="{not json", content_type="application/json")
    assert rv.status_code == 200
    assert rv.json == {"value": None}


def test_get_json_cache(app: Erlen, client: ErlenClient) -> None:
    @app.route("/cache", methods=["POST"])
    def cache() -> t.Any:
        first = request.get_json()
        second = request.get_json()
        uncached = request.get_json(cache=False)
        first["mutated"] = True  # the cached object is returned as is
        return {
            "same_object": first is second,
            "uncached_equal": uncached == {"k": "v"},
            "uncached_new": uncached is not first,
            "again": request.get_json(),
        }

    rv = client.post("/cache", json={"k": "v"})
    assert rv.json == {
        "same_object": True,
        "uncached_equal": True,
        "uncached_new": True,
        "again": {"k": "v", "mutated": True},
    }


def test_json_wrong_content_type_is_415(app: Erlen, client: ErlenClient) -> None:
    @app.route("/needs-json", methods=["POST"])
    def needs_json() -> t.Any:
        return {"got": request.json}

    rv = client.post("/needs-json", data="a=1", content_type="application/x-www-form-urlencoded")
    assert rv.status_code == 415
    text = _body_text(rv)
    assert "Content-Type was not" in text
    assert "application/json" in text
    assert "Traceback" not in text
    assert len(text) < 500


def test_invalid_json_is_400_without_traceback(app: Erlen, client: ErlenClient) -> None:
    @app.route("/needs-json", methods=["POST"])
    def needs_json() -> t.Any:
        return {"got": request.get_json()}

    rv = client.post("/needs-json", data='{"unterminated": ', content_type="application/json")
    assert rv.status_code == 400
    text = _body_text(rv)
    assert "not valid JSON" in text
    assert "Traceback" not in text
    assert "Expecting" not in text  # the parser's details are not sent outside debug mode
    assert len(text) < 500


def test_invalid_json_details_in_debug_mode(app: Erlen, client: ErlenClient) -> None:
    app.config.update(DEBUG=True, PROPAGATE_EXCEPTIONS=False)

    @app.route("/needs-json", methods=["POST"])
    def needs_json() -> t.Any:
        return {"got": request.get_json()}

    rv = client.post("/needs-json", data="[1,", content_type="application/json")
    assert rv.status_code == 400
    assert "Failed to decode JSON object" in _body_text(rv)


# --- raw body -----------------------------------------------------------------------------------


def test_get_data_and_data(app: Erlen, client: ErlenClient) -> None:
    @app.route("/raw", methods=["POST"])
    def raw() -> t.Any:
        return {
            "get_data": request.get_data().decode(),
            "as_text": request.get_data(as_text=True),
            "data": request.data.decode(),
            "length": request.content_length,
            "form": len(request.form),
        }

    rv = client.post("/raw", data=b"raw \xc3\xa9 bytes", content_type="application/octet-stream")
    assert rv.json == {
        "get_data": "raw é bytes",
        "as_text": "raw é bytes",
        "data": "raw é bytes",
        "length": 12,
        "form": 0,
    }


def test_stream(app: Erlen, client: ErlenClient) -> None:
    @app.route("/stream", methods=["POST"])
    def stream() -> t.Any:
        head = request.stream.read(4)
        rest = request.stream.read()
        return {"head": head.decode(), "rest": rest.decode()}

    rv = client.post("/stream", data=b"0123456789", content_type="application/octet-stream")
    assert rv.json == {"head": "0123", "rest": "456789"}


def test_data_is_empty_for_form_bodies(app: Erlen, client: ErlenClient) -> None:
    @app.route("/form-data", methods=["POST"])
    def form_data() -> t.Any:
        return {"data": request.data.decode(), "form": request.form["a"]}

    assert client.post("/form-data", data={"a": "1"}).json == {"data": "", "form": "1"}


def test_form_after_get_data(app: Erlen, client: ErlenClient) -> None:
    @app.route("/both", methods=["POST"])
    def both() -> t.Any:
        raw = request.get_data(as_text=True)
        return {"raw": raw, "form": request.form.to_dict()}

    rv = client.post("/both", data={"a": "1", "b": "2"})
    assert rv.json == {"raw": "a=1&b=2", "form": {"a": "1", "b": "2"}}


def test_empty_body(app: Erlen, client: ErlenClient) -> None:
    @app.route("/empty", methods=["POST"])
    def empty() -> t.Any:
        return {"data": request.get_data().decode(), "form": len(request.form)}

    assert client.post("/empty").json == {"data": "", "form": 0}


# --- sync and async views read the body the same way ---------------------------------------------


def test_body_in_sync_and_async_views(app: Erlen, client: ErlenClient, kind: str) -> None:
    def read() -> t.Any:
        if request.is_json:
            return {"json": request.get_json()}
        if request.mimetype == "application/octet-stream":
            return {"data": request.get_data(as_text=True)}
        upload = request.files.get("f")
        return {
            "form": request.form.to_dict(),
            "file": upload.read().decode() if upload else None,
            "filename": upload.filename if upload else None,
        }

    _add_view(app, "/read", kind, read)

    assert client.post("/read", json={"n": 1}).json == {"json": {"n": 1}}
    assert client.post("/read", data=b"bytes!", content_type="application/octet-stream").json == {
        "data": "bytes!"
    }
    assert client.post("/read", data={"a": "b"}).json == {
        "form": {"a": "b"},
        "file": None,
        "filename": None,
    }
    rv = client.post("/read", data={"a": "c", "f": (io.BytesIO(b"up"), "u.bin")})
    assert rv.json == {"form": {"a": "c"}, "file": "up", "filename": "u.bin"}


def test_json_errors_in_sync_and_async_views(app: Erlen, client: ErlenClient, kind: str) -> None:
    _add_view(app, "/json", kind, lambda: {"v": request.json})

    assert client.post("/json", data="x", content_type="text/plain").status_code == 415
    assert client.post("/json", data="{", content_type="application/json").status_code == 400


def test_large_multipart_upload(app: Erlen, client: ErlenClient, kind: str) -> None:
    payload = bytes(range(256)) * (6 * 1024 + 7)  # about 1.5 MiB, over the ASGI spool size
    assert len(payload) > 1024 * 1024
    assert len(payload) > 4 * ASGI_CHUNK_SIZE  # the ASGI path receives it in several chunks

    def read() -> t.Any:
        upload = request.files["blob"]
        content = upload.read()
        return {
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "name": upload.filename,
            "note": request.form["note"],
        }

    _add_view(app, "/big", kind, read)
    rv = client.post(
        "/big",
        data={"note": "big one", "blob": (io.BytesIO(payload), "big.bin")},
    )
    assert rv.status_code == 200
    assert rv.json == {
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "name": "big.bin",
        "note": "big one",
    }


def test_asgi_body_received_in_many_messages(app: Erlen) -> None:
    """The ASGI adapter assembles a (spooled) body from many ``http.request`` messages."""
    payload = b"0123456789abcdef" * (80 * 1024)  # 1.25 MiB

    @app.route("/sum", methods=["POST"])
    def checksum() -> t.Any:
        return {"size": len(request.get_data()), "sha": hashlib.sha256(request.data).hexdigest()}

    step = 100_003
    pieces = [payload[i : i + step] for i in range(0, len(payload), step)]
    received: list[int] = []
    sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        if len(received) < len(pieces):
            index = len(received)
            received.append(index)
            await asyncio.sleep(0)
            return {
                "type": "http.request",
                "body": pieces[index],
                "more_body": index < len(pieces) - 1,
            }
        await asyncio.sleep(30)
        return {"type": "http.disconnect"}

    async def send(message: t.MutableMapping[str, t.Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/sum",
        "raw_path": b"/sum",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("localhost", 80),
    }
    asyncio.run(asyncio.wait_for(app.asgi_app(scope, receive, send), timeout=20))
    assert len(received) == len(pieces) > 10
    assert sent[0]["status"] == 200
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert json.loads(body) == {"size": len(payload), "sha": hashlib.sha256(payload).hexdigest()}


# --- limits -------------------------------------------------------------------------------------


def test_body_over_max_content_length_is_413(app: Erlen, client: ErlenClient, kind: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    _add_view(app, "/limited", kind, lambda: {"size": len(request.get_data())})

    assert client.post("/limited", data=b"x" * 100).json == {"size": 100}
    assert client.post("/limited", data=b"x" * 101).status_code == 413


def test_max_content_length_applies_to_form_and_json(
    app: Erlen, client: ErlenClient, kind: str
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64

    def read() -> t.Any:
        return {"json": request.get_json()} if request.is_json else {"form": dict(request.form)}

    _add_view(app, "/limited", kind, read)
    assert client.post("/limited", data={"f": "y" * 100}).status_code == 413
    assert client.post("/limited", json={"f": "y" * 100}).status_code == 413
    assert client.post("/limited", json={"f": "small"}).json == {"json": {"f": "small"}}


def test_sync_view_not_reading_body_is_not_limited(app: Erlen, client: ErlenClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/ignore", methods=["POST"])
    def ignore() -> str:
        return "ignored"

    rv = client.post("/ignore", data=b"z" * 1000)
    assert rv.status_code == 200
    assert rv.data == b"ignored"


def test_form_field_over_max_form_memory_size_is_413(
    app: Erlen, client: ErlenClient, kind: str
) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 1000
    _add_view(app, "/form", kind, lambda: {"len": len(request.form["f"])})

    # The limit is on multipart text fields (werkzeug checks what it buffers of a field).
    ok = {"f": "a" * 30, "file": (io.BytesIO(b"b" * 10), "f.txt")}
    assert client.post("/form", data=ok).json == {"len": 30}
    over = {"f": "a" * 5000, "file": (io.BytesIO(b"b" * 10), "f.txt")}
    assert client.post("/form", data=over).status_code == 413
    only_field = {"f": "a" * 5000, "g": (io.BytesIO(b""), "")}
    assert client.post("/form", data=only_field).status_code == 413


def test_too_many_multipart_parts_is_413(app: Erlen, client: ErlenClient, kind: str) -> None:
    app.config["MAX_FORM_PARTS"] = 3
    _add_view(app, "/parts", kind, lambda: {"n": len(request.form) + len(request.files)})

    two = {"a": "1", "f": (io.BytesIO(b"x"), "x.txt")}
    assert client.post("/parts", data=two).json == {"n": 2}
    many = {f"field{i}": str(i) for i in range(6)}
    many["f"] = (io.BytesIO(b"x"), "x.txt")  # type: ignore[assignment]
    assert client.post("/parts", data=many).status_code == 413


def test_per_request_max_content_length(app: Erlen, client: ErlenClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000

    @app.route("/lower", methods=["POST"])
    def lower() -> t.Any:
        request.max_content_length = 10
        return {"size": len(request.get_data())}

    @app.route("/raise", methods=["POST"])
    def raise_limit() -> t.Any:
        request.max_content_length = 5000
        return {"size": len(request.get_data()), "limit": request.max_content_length}

    assert client.post("/lower", data=b"x" * 10).json == {"size": 10}
    assert client.post("/lower", data=b"x" * 50).status_code == 413
    assert client.post("/raise", data=b"x" * 3000).json == {"size": 3000, "limit": 5000}
    assert client.post("/raise", data=b"x" * 6000).status_code == 413


# --- cookies, headers, URL parts, routing info, environ ----------------------------------------


def test_cookies(app: Erlen, client: ErlenClient) -> None:
    @app.route("/cookies")
    def cookies() -> t.Any:
        return dict(request.cookies)

    client.set_cookie("flavour", "chocolate")
    client.set_cookie("size", "large")
    assert client.get("/cookies").json == {"flavour": "chocolate", "size": "large"}


def test_headers(app: Erlen, client: ErlenClient) -> None:
    @app.route("/headers")
    def headers() -> t.Any:
        return {
            "custom": request.headers["x-custom-header"],
            "case": request.headers.get("X-CUSTOM-HEADER"),
            "missing": request.headers.get("X-Missing"),
            "agent": request.user_agent.string,
            "accept": request.accept_mimetypes.best,
        }

    rv = client.get("/headers", headers={"X-Custom-Header": "value 1", "Accept": "text/plain"})
    assert rv.json == {
        "custom": "value 1",
        "case": "value 1",
        "missing": None,
        "agent": f"Werkzeug/{importlib.metadata.version('werkzeug')}",
        "accept": "text/plain",
    }


def test_method_path_url_host(app: Erlen, client: ErlenClient) -> None:
    @app.route("/some/path", methods=["GET", "PUT"])
    def where() -> t.Any:
        return {
            "method": request.method,
            "path": request.path,
            "full_path": request.full_path,
            "url": request.url,
            "base_url": request.base_url,
            "host": request.host,
            "host_url": request.host_url,
            "scheme": request.scheme,
            "query_string": request.query_string.decode(),
        }

    rv = client.put("/some/path?x=1&y=z")
    assert rv.json == {
        "method": "PUT",
        "path": "/some/path",
        "full_path": "/some/path?x=1&y=z",
        "url": "http://localhost/some/path?x=1&y=z",
        "base_url": "http://localhost/some/path",
        "host": "localhost",
        "host_url": "http://localhost/",
        "scheme": "http",
        "query_string": "x=1&y=z",
    }
    assert json_body(client.get("/some/path"))["full_path"] == "/some/path?"


def test_connection_fields_are_read_on_first_use_and_settable(
    app: Erlen, client: ErlenClient
) -> None:
    # What a proxy-handling hook does: set one field before any other is read.
    from erlen._speedups import ENABLED as _SPEEDUPS
    from erlen.protocols import asgi_request, wsgi

    reads: list[t.Any] = []

    def counting(read: t.Callable[[t.Any], t.Any]) -> t.Callable[[t.Any], t.Any]:
        def counted(request: t.Any) -> t.Any:
            reads.append(request)
            return read(request)

        return counted

    @app.route("/untouched")
    def untouched() -> str:
        return "ok"

    @app.route("/fields")
    def fields() -> t.Any:
        request.scheme = "https"
        request.remote_addr = "203.0.113.9"
        return {
            "scheme": request.scheme,
            "client": request.remote_addr,
            "server": list(request.server or ()),
            "root": request.root_path,
            "query": request.query_string.decode(),
            "url": request.url,
        }

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wsgi, "_environ_connection", counting(wsgi._environ_connection))
        patch.setattr(asgi_request, "scope_connection", counting(asgi_request.scope_connection))
        assert client.get("/untouched").text == "ok"
        if _SPEEDUPS:  # (werkzeug's own URL matcher, with them off, reads them all)
            assert reads == []  # a request that reads none computes none
        answer = client.get("/fields?a=1").json
        if _SPEEDUPS:
            assert len(reads) == 1  # all five at once, when the view first reads one
    assert answer == {
        "scheme": "https",
        "client": "203.0.113.9",
        "server": ["localhost", 80],
        "root": "",
        "query": "a=1",
        "url": "https://localhost/fields?a=1",
    }


def test_host_from_header(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return {"host": request.host, "url": request.url}

    rv = client.get("/", base_url="https://example.org:8443")
    assert rv.json == {"host": "example.org:8443", "url": "https://example.org:8443/"}


def test_endpoint_view_args_url_rule(app: Erlen, client: ErlenClient) -> None:
    @app.route("/user/<int:uid>/<name>", endpoint="user_page")
    def user(uid: int, name: str) -> t.Any:
        assert request.url_rule is not None
        return {
            "endpoint": request.endpoint,
            "view_args": request.view_args,
            "rule": request.url_rule.rule,
            "blueprint": request.blueprint,
            "blueprints": request.blueprints,
            "uid_is_int": isinstance(uid, int) and name == "ann",
        }

    rv = client.get("/user/42/ann")
    assert rv.json == {
        "endpoint": "user_page",
        "view_args": {"uid": 42, "name": "ann"},
        "rule": "/user/<int:uid>/<name>",
        "blueprint": None,
        "blueprints": [],
        "uid_is_int": True,
    }


def test_routing_info_on_404(app: Erlen, client: ErlenClient) -> None:
    seen: dict[str, t.Any] = {}

    @app.errorhandler(404)
    def not_found(error: Exception) -> t.Any:
        seen.update(endpoint=request.endpoint, rule=request.url_rule, args=request.view_args)
        return "nope", 404

    assert client.get("/nowhere").status_code == 404
    assert seen == {"endpoint": None, "rule": None, "args": None}


def test_environ(app: Erlen, client: ErlenClient) -> None:
    @app.route("/env", methods=["POST"])
    def env() -> t.Any:
        environ = request.environ
        return {
            "remote_addr": environ["REMOTE_ADDR"],
            "request_remote_addr": request.remote_addr,
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "header": environ["HTTP_X_TRACE"],
            "content_type": environ["CONTENT_TYPE"],
            "input": environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])).decode(),
        }

    rv = client.post(
        "/env?a=b",
        data=b"body",
        content_type="text/plain",
        headers={"X-Trace": "t-1"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert rv.json == {
        "remote_addr": "10.1.2.3",
        "request_remote_addr": "10.1.2.3",
        "method": "POST",
        "path": "/env",
        "query": "a=b",
        "header": "t-1",
        "content_type": "text/plain",
        "input": "body",
    }


def test_default_remote_addr(app: Erlen, client: ErlenClient) -> None:
    @app.route("/ip")
    def ip() -> t.Any:
        return {"environ": request.environ["REMOTE_ADDR"], "attr": request.remote_addr}

    assert client.get("/ip").json == {"environ": "127.0.0.1", "attr": "127.0.0.1"}


# --- Response -----------------------------------------------------------------------------------


def test_response_set_data_get_data() -> None:
    response = Response("initial")
    assert response.get_data() == b"initial"
    assert response.headers["Content-Length"] == "7"
    response.set_data("héllo")
    assert response.get_data() == "héllo".encode()
    assert response.get_data(as_text=True) == "héllo"
    assert response.headers["Content-Length"] == "6"
    response.data = b"xyz"
    assert response.data == b"xyz"
    assert response.content_length == 3


def test_response_data_through_client(app: Erlen, client: ErlenClient) -> None:
    @app.route("/resp")
    def resp() -> Response:
        response = Response("first")
        response.set_data(b"second body")
        return response

    rv = client.get("/resp")
    assert rv.data == b"second body"
    assert rv.headers["Content-Length"] == str(len(b"second body"))


def test_response_mimetype_and_content_type(app: Erlen, client: ErlenClient) -> None:
    @app.route("/plain")
    def plain() -> Response:
        return Response("text", mimetype="text/plain")

    @app.route("/xml")
    def xml() -> Response:
        return Response("<a/>", content_type="application/xml; charset=utf-8")

    @app.route("/default")
    def default() -> str:
        return "html"

    @app.route("/changed")
    def changed() -> Response:
        response = Response("{}")
        response.mimetype = "application/json"
        return response

    assert client.get("/plain").content_type == "text/plain; charset=utf-8"
    assert client.get("/plain").mimetype == "text/plain"
    assert client.get("/xml").content_type == "application/xml; charset=utf-8"
    assert client.get("/default").content_type == "text/html; charset=utf-8"
    rv = client.get("/changed")
    assert rv.mimetype == "application/json"
    assert rv.json == {}


def test_response_status(app: Erlen, client: ErlenClient) -> None:
    @app.route("/created")
    def created() -> Response:
        response = Response("made")
        response.status_code = 201
        return response

    @app.route("/teapot")
    def teapot() -> Response:
        response = Response("tea")
        response.status = "418 I'M A TEAPOT"
        return response

    @app.route("/tuple")
    def as_tuple() -> t.Any:
        return "accepted", 202

    @app.route("/custom")
    def custom() -> t.Any:
        return Response("odd", status=299)

    rv = client.get("/created")
    assert (rv.status_code, rv.status) == (201, "201 CREATED")
    rv = client.get("/teapot")
    assert rv.status_code == 418
    assert rv.status.startswith("418")
    assert client.get("/tuple").status_code == 202
    assert client.get("/custom").status_code == 299

    response = Response()
    response.status_code = 404
    assert response.status == "404 NOT FOUND"
    response.status = "204 NO CONTENT"
    assert response.status_code == 204


def test_response_set_cookie_and_delete_cookie(app: Erlen, client: ErlenClient) -> None:
    @app.route("/set")
    def set_cookie() -> Response:
        response = Response("set")
        response.set_cookie("token", "abc", max_age=60, httponly=True, samesite="Strict")
        return response

    @app.route("/delete")
    def delete_cookie() -> Response:
        response = Response("deleted")
        response.delete_cookie("token")
        return response

    @app.route("/read")
    def read() -> t.Any:
        return {"token": request.cookies.get("token")}

    rv = client.get("/set")
    header = rv.headers["Set-Cookie"]
    assert header.startswith("token=abc;")
    assert "Max-Age=60" in header
    assert "HttpOnly" in header
    assert "SameSite=Strict" in header
    cookie = client.get_cookie("token")
    assert cookie is not None and cookie.value == "abc"
    assert client.get("/read").json == {"token": "abc"}

    rv = client.get("/delete")
    assert "token=;" in rv.headers["Set-Cookie"]
    assert client.get_cookie("token") is None
    assert client.get("/read").json == {"token": None}


def test_response_headers(app: Erlen, client: ErlenClient) -> None:
    @app.route("/h")
    def headers() -> Response:
        response = Response("h")
        response.headers["X-One"] = "1"
        response.headers.add("X-Many", "a")
        response.headers.add("X-Many", "b")
        return response

    @app.route("/tuple-headers")
    def tuple_headers() -> t.Any:
        return "t", 201, {"X-From-Tuple": "yes"}

    rv = client.get("/h")
    assert rv.headers["X-One"] == "1"
    assert rv.headers.getlist("X-Many") == ["a", "b"]
    rv = client.get("/tuple-headers")
    assert rv.status_code == 201
    assert rv.headers["X-From-Tuple"] == "yes"


def test_call_on_close_runs_after_response_sent(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.route("/close")
    def close_view() -> Response:
        response = Response("body")
        response.call_on_close(lambda: events.append("closed"))
        events.append("view")
        return response

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        return response

    rv = client.get("/close", buffered=True)
    assert rv.data == b"body"
    assert events == ["view", "after_request", "closed"]


def test_call_on_close_with_streamed_body(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.route("/close-stream")
    def close_stream() -> Response:
        def generate() -> Iterator[str]:
            events.append("chunk")
            yield "data"

        response = Response(generate())
        response.call_on_close(lambda: events.append("closed"))
        return response

    rv = client.get("/close-stream", buffered=True)
    assert rv.data == b"data"
    assert events == ["chunk", "closed"]


def test_response_is_streamed() -> None:
    assert Response("x").is_streamed is False
    assert Response(["a", "b"]).is_streamed is False
    assert Response(iter(["a"])).is_streamed is True

    async def agen() -> AsyncIterator[str]:
        yield "a"

    assert Response(agen()).is_streamed is True


def test_is_streamed_seen_by_after_request(app: Erlen, client: ErlenClient) -> None:
    seen: dict[str, bool] = {}

    @app.route("/gen")
    def gen() -> t.Any:
        return (c for c in ["a", "b"])

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    @app.after_request
    def after(response: Response) -> Response:
        seen[request.path] = response.is_streamed
        return response

    assert client.get("/gen").data == b"ab"
    assert client.get("/plain").data == b"plain"
    assert seen == {"/gen": True, "/plain": False}


def test_response_json() -> None:
    response = Response('{"a": [1, 2]}', mimetype="application/json")
    assert response.is_json
    assert response.json == {"a": [1, 2]}
    assert response.get_json() == {"a": [1, 2]}

    text = Response('{"b": 1}', mimetype="text/plain")
    assert text.get_json(silent=True) is None
    assert text.get_json(force=True) == {"b": 1}
    with pytest.raises(BadRequest):
        text.get_json()

    broken = Response("{", mimetype="application/json")
    assert broken.get_json(silent=True) is None


def test_json_responses_through_client(app: Erlen, client: ErlenClient) -> None:
    @app.route("/dict")
    def as_dict() -> t.Any:
        return {"k": "v"}

    @app.route("/list")
    def as_list() -> t.Any:
        return [1, "two"]

    rv = client.get("/dict")
    assert rv.mimetype == "application/json"
    assert rv.json == {"k": "v"}
    assert client.get("/list").get_json() == [1, "two"]


# --- streaming ----------------------------------------------------------------------------------


def test_sync_generator_streams_in_order(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.route("/stream")
    def stream() -> t.Any:
        def generate() -> Iterator[str]:
            for i in range(5):
                events.append(f"chunk {i}")
                yield f"<{i}>"

        return generate()

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        return response

    rv = client.get("/stream", buffered=True)
    assert rv.status_code == 200
    assert [c for c in rv.iter_encoded() if c] == [b"<0>", b"<1>", b"<2>", b"<3>", b"<4>"]
    assert rv.data == b"<0><1><2><3><4>"
    # Streamed: the generator runs after the view returned and the response was finalized.
    assert events == ["after_request", *(f"chunk {i}" for i in range(5))]


def test_async_generator_streams_in_order(app: Erlen, client: ErlenClient) -> None:
    events: list[str] = []

    @app.route("/astream")
    async def astream() -> t.Any:
        async def generate() -> AsyncIterator[bytes]:
            for i in range(5):
                await asyncio.sleep(0)
                events.append(f"chunk {i}")
                yield f"[{i}]".encode()

        return generate()

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        return response

    rv = client.get("/astream", buffered=True)
    assert rv.status_code == 200
    assert [c for c in rv.iter_encoded() if c] == [b"[0]", b"[1]", b"[2]", b"[3]", b"[4]"]
    assert events == ["after_request", *(f"chunk {i}" for i in range(5))]


def test_async_generator_from_sync_view(app: Erlen, client: ErlenClient) -> None:
    @app.route("/mixed")
    def mixed() -> t.Any:
        async def generate() -> AsyncIterator[str]:
            for word in ("one", "two"):
                await asyncio.sleep(0)
                yield word

        return Response(generate(), mimetype="text/plain")

    rv = client.get("/mixed", buffered=True)
    assert rv.data == b"onetwo"
    assert rv.mimetype == "text/plain"


def test_head_on_streamed_route_has_no_body(app: Erlen, client: ErlenClient) -> None:
    @app.route("/stream")
    def stream() -> t.Any:
        def generate() -> Iterator[str]:
            yield "should"
            yield "not be sent"

        return Response(generate(), mimetype="text/plain", headers={"X-Streamed": "1"})

    @app.route("/astream")
    async def astream() -> t.Any:
        async def generate() -> AsyncIterator[str]:
            yield "nope"

        return generate()

    rv = client.head("/stream", buffered=True)
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["X-Streamed"] == "1"
    assert rv.mimetype == "text/plain"
    rv = client.head("/astream", buffered=True)
    assert rv.status_code == 200
    assert rv.data == b""
    # GET still streams the body.
    assert client.get("/stream", buffered=True).data == b"shouldnot be sent"
