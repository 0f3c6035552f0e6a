"""A realistic app and raw drivers for both paths, shared by the property tests and the fuzz
target: requests are built from raw parts (a WSGI environ, an ASGI scope), not by a client
that would clean them first.

The tests import it as ``support.security_harness`` (pytest puts ``tests/`` on ``sys.path``),
the fuzz target after adding ``tests/`` itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import tempfile
import typing as t
from pathlib import Path
from urllib.parse import unquote_to_bytes

from erlen import (
    Blueprint,
    Erlen,
    abort,
    redirect,
    render_template_string,
    request,
    send_from_directory,
    session,
    url_for,
)
from erlen.security import cross_site_exempt, safe_redirect

#: What must never appear in a response body: signs of a traceback or of the source tree.
REPO_ROOT = str(Path(__file__).resolve().parents[1])
LEAKS = (b"Traceback (most recent call last)", b'File "/', REPO_ROOT.encode())
#: The most the harness sends or reads for one request.
MAX_BODY = 64 * 1024
#: Longest an ASGI request may take in the harness (a hang is a failure, not a wait).
ASGI_TIMEOUT = 10.0
#: What the admin view behind a ``before_request`` check on ``request.path`` answers: no
#: request may see it.
ADMIN_BODY = b"admin area"
#: Request targets that a server may hand on as they are, each meant to reach ``/admin/panel``
#: past the check (repeated slashes, encoded separators, dot segments, case).
PATH_TRICKS = [
    b"//admin/panel",
    b"///admin/panel",
    b"/%2Fadmin/panel",
    b"/%2fadmin%2fpanel",
    b"//%2F/admin/panel",
    b"/./admin/panel",
    b"/.//admin/panel",
    b"/%2e/admin/panel",
    b"/x/../admin/panel",
    b"/x/..//admin/panel",
    b"/x/%2E%2E/admin/panel",
    b"/public/../admin/panel",
    b"/files/../admin/panel",
    b"/files/..%2Fadmin/panel",
    b"/admin/./panel",
    b"/admin//panel",
    b"/admin/panel/",
    b"/admin/panel/.",
    b"/admin/panel.",
    b"/admin/panel%2F",
    b"/admin/panel/..",
    b"/admin",
    b"//admin",
    b"/ADMIN/panel",
    b"/Admin/Panel",
    b"//ADMIN/panel",
]
TEMPLATE = """<!doctype html><title>{{ title }}</title>
<p>Hello {{ name }}!</p><p>{{ request.args | length }} args</p>
<form method=post action="{{ url_for('form') }}"><input name=csrf value="{{ csrf_token() }}">
<script nonce="{{ csp_nonce() }}">var n = {{ name | tojson }};</script></form>"""


def build_app() -> Erlen:
    """A production-mode app with converters, JSON, forms, uploads, sessions and templates."""
    app = Erlen("security_harness")
    static_dir = tempfile.mkdtemp(prefix="erlen-harness-")
    Path(static_dir, "hello.txt").write_text("hello file\n")
    app.config.update(
        TESTING=False,
        DEBUG=False,
        PROPAGATE_EXCEPTIONS=False,
        SECRET_KEY="harness-" + "k" * 40,
        MAX_CONTENT_LENGTH=MAX_BODY,
        CONTENT_SECURITY_POLICY="script-src 'self' 'nonce-{nonce}'",
        HSTS="max-age=60",
        TRUSTED_PROXIES=1,
        # Absolute URLs (/where) need a host the app vouches for; others get a 400.
        TRUSTED_HOSTS=["localhost", ".example"],
    )
    app.logger.disabled = True  # 500s would be logged; the tests count them instead

    @app.get("/")
    def index() -> str:
        return "index ok"

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> dict[str, t.Any]:
        return {"id": user_id}

    @app.get("/items/<slug>/<float:price>")
    def item(slug: str, price: float) -> dict[str, t.Any]:
        return {"slug": slug, "price": price}

    @app.get("/files/<path:name>")
    def files(name: str) -> t.Any:
        return send_from_directory(static_dir, name)

    @app.route("/json", methods=["POST", "PUT"])
    def echo_json() -> dict[str, t.Any]:
        return {"json": request.get_json()}

    @app.post("/async-json")
    async def async_echo_json() -> dict[str, t.Any]:
        return {"json": request.get_json(silent=True)}

    @app.route("/form", methods=["GET", "POST"])
    def form() -> dict[str, t.Any]:
        return {"form": request.form.to_dict(flat=False), "args": request.args.to_dict()}

    @app.post("/upload")
    def upload() -> t.Any:
        uploaded = request.files.get("file")
        if uploaded is None:
            abort(400, "no file")
        return {"name": uploaded.filename, "size": len(uploaded.read()), "n": len(request.form)}

    @app.route("/session", methods=["GET", "POST"])
    def counter() -> dict[str, t.Any]:
        session["count"] = int(session.get("count", 0)) + 1
        return {"count": session["count"], "keys": sorted(session.keys())}

    @app.get("/page")
    def page() -> str:
        name = request.args.get("name", "world")
        return render_template_string(TEMPLATE, title=request.path, name=name)

    @app.get("/next")
    def next_page() -> t.Any:
        return safe_redirect(request.args.get("next"))

    @app.get("/where")
    def where() -> t.Any:
        return redirect(url_for("index", _external=True, q=request.args.get("q", "")))

    @app.before_request
    def guard_admin() -> None:
        if request.path.startswith("/admin"):
            abort(403)

    @app.get(ECHO_HEADER_PATH.decode())
    def echo_header() -> t.Any:
        return "echoed", {"X-Echo": request.args.get("v", "")}

    @app.get("/redirect-to")
    def redirect_to() -> t.Any:
        return redirect(request.args.get("target", "/"))

    @app.get("/admin/panel")
    def admin_panel() -> bytes:
        return ADMIN_BODY

    hooks = cross_site_exempt(Blueprint("hooks", __name__, url_prefix="/hooks"))

    @hooks.post("/<name>")
    def hook(name: str) -> dict[str, t.Any]:
        return {"hook": name, "size": len(request.get_data())}

    app.register_blueprint(hooks)
    return app


#: A view that sets a header from the query string (``?v=``): a 500 is its bug, not unsafe.
ECHO_HEADER_PATH = b"/echo-header"


@dataclasses.dataclass
class Result:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def leaks(self) -> list[bytes]:
        """The leak markers found in the body."""
        return [marker for marker in LEAKS if marker in self.body]


Headers = list[tuple[str, str]]


def wsgi_environ(
    method: str, target: bytes, query: bytes, headers: Headers, body: bytes
) -> dict[str, t.Any]:
    """The environ a WSGI server (gunicorn-like) builds for the request."""
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(target).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def call_wsgi(
    app: Erlen, method: str, target: bytes, query: bytes, headers: Headers, body: bytes
) -> Result:
    environ = wsgi_environ(method, target, query, headers, body)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc: t.Any = None
    ) -> t.Any:
        started.append((status, response_headers))
        return lambda data: None

    app_iter = app.wsgi_app(environ, start_response)
    try:
        chunks = []
        size = 0
        for chunk in app_iter:
            chunks.append(chunk)
            size += len(chunk)
            if size > 4 * MAX_BODY:
                break
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    status, response_headers = started[0]
    return Result(int(status.split(" ", 1)[0]), response_headers, b"".join(chunks))


_loop: asyncio.AbstractEventLoop | None = None


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


def call_asgi(
    app: Erlen, method: str, target: bytes, query: bytes, headers: Headers, body: bytes
) -> Result:
    """Drive ``app.asgi_app`` as an ASGI server (uvicorn-like) would, the body in 2 chunks."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote_to_bytes(target).decode("utf-8", "replace"),
        "raw_path": target,
        "query_string": query,
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("localhost", 80),
        "extensions": {},
    }
    half = len(body) // 2
    messages = [
        {"type": "http.request", "body": body[:half], "more_body": True},
        {"type": "http.request", "body": body[half:], "more_body": False},
    ]
    sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(ASGI_TIMEOUT)  # only a finished request asks again
        return {"type": "http.disconnect"}

    async def send(message: t.MutableMapping[str, t.Any]) -> None:
        sent.append(dict(message))

    async def run() -> None:
        await asyncio.wait_for(app.asgi_app(scope, receive, send), ASGI_TIMEOUT)

    _event_loop().run_until_complete(run())
    start = sent[0]
    assert start["type"] == "http.response.start", start
    response_headers = [
        (key.decode("latin-1"), value.decode("latin-1")) for key, value in start["headers"]
    ]
    body_out = b"".join(message.get("body", b"") for message in sent[1:])
    return Result(start["status"], response_headers, body_out)


CALLERS = {"wsgi": call_wsgi, "asgi": call_asgi}


def both(
    app: Erlen, method: str, target: bytes, query: bytes, headers: Headers, body: bytes
) -> dict[str, Result]:
    """The request sent through both paths."""
    return {
        name: caller(app, method, target, query, headers, body) for name, caller in CALLERS.items()
    }


GOOD_HEADERS: Headers = [("Host", "localhost")]


def check_good_request(app: Erlen) -> None:
    """The app still answers good requests correctly on both paths."""
    for name, result in both(app, "GET", b"/", b"", GOOD_HEADERS, b"").items():
        assert (result.status, result.body) == (200, b"index ok"), (name, result)
    json_headers = [*GOOD_HEADERS, ("Content-Type", "application/json"), ("Content-Length", "8")]
    for name, result in both(app, "POST", b"/json", b"", json_headers, b'{"a": 1}').items():
        assert (result.status, result.body) == (200, b'{"json":{"a":1}}\n'), (name, result)


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def assert_headers_safe(results: dict[str, Result], what: object) -> None:
    """Every header sent is a token and a value without control characters (RFC 9110)."""
    for name, result in results.items():
        assert result.status < 500 or b"Traceback" not in result.body, (name, what)
        for header, value in result.headers:
            assert _HEADER_NAME.fullmatch(header), (name, what, header)
            assert _HEADER_VALUE.fullmatch(value), (name, what, header, value)


def assert_sane(results: dict[str, Result], what: object) -> None:
    """No 5xx, no leak, no view behind the admin check, no unsafe header, on either path."""
    assert_headers_safe(results, what)
    for name, result in results.items():
        assert result.body != ADMIN_BODY, (name, what)
        assert result.status < 500, (name, what, result.status, result.body[:300])
        assert result.status >= 100, (name, what, result.status)
        assert not result.leaks(), (name, what, result.body[:500])
