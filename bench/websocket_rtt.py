"""WebSocket echo round trips per second: erlen next to Starlette, in one run.

In-process: the ASGI app is called with a websocket scope and in-memory queues, so the figure is
the framework's own cost per message. Under uvicorn: each app runs as a server subprocess on
127.0.0.1 and one client (the ``websockets`` package) sends a message and waits for the echo,
sequentially, for a fixed number of messages.

    python bench/websocket_rtt.py [--messages 20000] [--server-messages 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent

APPS = {
    "erlen": "bench_ws_apps:erlen_app",
    "starlette": "bench_ws_apps:starlette_app",
}

APP_MODULE = """
from erlen import Erlen, websocket

erlen_app = Erlen(__name__)


@erlen_app.websocket("/echo")
async def echo():
    await websocket.accept()
    async for message in websocket:
        await websocket.send(message)


try:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocketDisconnect

    async def starlette_echo(ws):
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    starlette_app = Starlette(routes=[WebSocketRoute("/echo", starlette_echo)])
except ImportError:
    starlette_app = None
"""


def load_apps(folder: Path) -> dict[str, t.Any]:
    (folder / "bench_ws_apps.py").write_text(APP_MODULE)
    sys.path.insert(0, str(folder))
    import bench_ws_apps  # type: ignore[import-not-found]

    apps = {"erlen": bench_ws_apps.erlen_app}
    if bench_ws_apps.starlette_app is not None:
        apps["starlette"] = bench_ws_apps.starlette_app
    return apps


async def in_process_rate(app: t.Any, messages: int) -> float:
    """Messages per second through the ASGI app, with no server and no socket."""
    inbox: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "subprotocols": [],
    }
    await inbox.put({"type": "websocket.connect"})
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    accepted = await asyncio.wait_for(outbox.get(), 5)
    assert accepted["type"] == "websocket.accept", accepted
    start = time.perf_counter()
    for number in range(messages):
        await inbox.put({"type": "websocket.receive", "text": str(number)})
        reply = await outbox.get()
        if reply.get("text") != str(number):
            raise AssertionError(f"bad echo {reply!r}")
    elapsed = time.perf_counter() - start
    await inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 5)
    return messages / elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("the server did not start")


async def client_rate(port: int, messages: int) -> float:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/echo") as ws:
        start = time.perf_counter()
        for number in range(messages):
            await ws.send(str(number))
            if await ws.recv() != str(number):
                raise AssertionError("bad echo")
        return messages / (time.perf_counter() - start)


def server_rate(name: str, folder: Path, messages: int) -> float:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            APPS[name],
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(folder)},
        start_new_session=True,
    )
    try:
        wait_for_port(port, process)
        asyncio.run(client_rate(port, messages // 10))  # warm-up
        return asyncio.run(client_rate(port, messages))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--server-messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"erlen-ws-bench-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    apps = load_apps(folder)

    rates: dict[str, list[float]] = {name: [] for name in apps}
    loop = asyncio.new_event_loop()
    for _ in range(args.rounds):  # interleaved rounds
        for name, app in apps.items():
            rates[name].append(loop.run_until_complete(in_process_rate(app, args.messages)))
    loop.close()
    print("WebSocket echo, in-process (messages/s, median of rounds):\n")
    print("| app | messages/s | share of the fastest |")
    print("|---|---|---|")
    best = max(statistics.median(values) for values in rates.values())
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"| {name} | {median:,.0f} | {median / best:.2f} |")

    served: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(max(1, args.rounds // 2)):
        for name in apps:
            served[name].append(server_rate(name, folder, args.server_messages))
    print("\nWebSocket echo under uvicorn, one client (round trips/s, median):\n")
    print("| app | round trips/s |")
    print("|---|---|")
    for name, values in served.items():
        print(f"| {name} | {statistics.median(values):,.0f} |")


if __name__ == "__main__":
    main()
