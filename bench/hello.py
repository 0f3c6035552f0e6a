"""Per-request overhead of a hello app, in-process, erlen against Flask and the raw callables.

Each app is called directly (a WSGI environ or an ASGI scope; no server, no socket). Timing runs
in interleaved slices: every slice times each app once, so drift of the machine's speed hits
all of them alike; the figure is the median over slices of microseconds per request and of the
ratio to the raw callable in the same slice.

    python bench/hello.py [--slices 15] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
import typing as t
from collections.abc import Callable

from erlen import Erlen

Run = Callable[[int], None]


def wsgi_environ(path: str = "/") -> dict[str, t.Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def asgi_scope(path: str = "/") -> dict[str, t.Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"bench"),
            (b"accept", b"*/*"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def wsgi_runner(app: t.Any, expected: bytes) -> Run:
    environ = wsgi_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> None:
        statuses.append(status)

    def once() -> bytes:
        body = app(dict(environ), start_response)
        data = b"".join(body)
        close = getattr(body, "close", None)
        if close is not None:
            close()
        return data

    assert once() == expected and statuses[-1].startswith("200"), (app, statuses)

    def run(n: int) -> None:
        for _ in range(n):
            body = app(dict(environ), start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return run


def asgi_runner(app: t.Any, expected: bytes, loop: asyncio.AbstractEventLoop) -> Run:
    scope = asgi_scope()
    request_message = {"type": "http.request", "body": b"", "more_body": False}
    sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        return request_message

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    loop.run_until_complete(app(dict(scope), receive, send))
    assert sent[0]["status"] == 200 and sent[-1]["body"] == expected, (app, sent)

    async def many(n: int) -> None:
        for _ in range(n):
            sent.clear()
            await app(dict(scope), receive, send)

    def run(n: int) -> None:
        loop.run_until_complete(many(n))

    return run


# --- the apps -----------------------------------------------------------------------------------

BODY = b"Hello, World!"


def raw_wsgi(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [BODY]


async def raw_asgi(scope: t.Any, receive: t.Any, send: t.Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def erlen_app() -> Erlen:
    app = Erlen(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def erlen_async_app() -> Erlen:
    app = Erlen(__name__)

    @app.get("/")
    async def hello() -> str:
        return "Hello, World!"

    return app


def flask_app() -> t.Any:
    from flask import Flask

    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def measure(runners: dict[str, Run], floor: str, slices: int, requests: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in runners}
    ratios: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(slices):
        slice_times = {}
        for name, run in runners.items():
            start = time.perf_counter()
            run(requests)
            slice_times[name] = (time.perf_counter() - start) / requests * 1e6
        for name, us in slice_times.items():
            times[name].append(us)
            ratios[name].append(us / slice_times[floor])
    print(f"| app | median us/request | ratio to {floor} |")
    print("|---|---|---|")
    for name in runners:
        print(
            f"| {name} | {statistics.median(times[name]):.2f} |"
            f" {statistics.median(ratios[name]):.1f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]}, {args.slices} slices of {args.requests} requests\n")
    print("WSGI, hello (sync view):\n")
    wsgi = {"raw WSGI": wsgi_runner(raw_wsgi, BODY), "erlen": wsgi_runner(erlen_app(), BODY)}
    try:
        wsgi["Flask"] = wsgi_runner(flask_app(), BODY)
    except ImportError:
        print("(Flask not installed: pip install -e '.[bench]')")
    measure(wsgi, "raw WSGI", args.slices, args.requests)

    print("\nASGI, hello (async view):\n")
    loop = asyncio.new_event_loop()
    asgi = {
        "raw ASGI": asgi_runner(raw_asgi, BODY, loop),
        "erlen": asgi_runner(erlen_async_app(), BODY, loop),
        "erlen (sync view, worker thread)": asgi_runner(erlen_app(), BODY, loop),
    }
    measure(asgi, "raw ASGI", args.slices, args.requests)
    loop.close()


if __name__ == "__main__":
    main()
