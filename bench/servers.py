"""Real servers over loopback: requests/s of the hello app under granian (WSGI with one blocking
thread, and ASGI), uvicorn and gunicorn (1 sync worker), each with the raw callable, erlen and
the peers; the figure is requests/s and the share of the raw callable under the same server in
the same run.

Each server is a subprocess on 127.0.0.1 with a free port, one worker, checked with one GET
(status and body), warmed up, loaded for a fixed duration and connection count, and stopped by
its PID. With two CPUs or more (and ``taskset``), the server runs on one CPU and the load
generator on another: left to the scheduler, the two share the CPUs differently from run to run,
which moves the figures by a third on a 2-CPU machine (``--no-pin`` turns this off).
The load generator is ``wrk`` when installed (``apt-get install wrk``), otherwise a
small asyncio HTTP/1.1 keep-alive client in this file (slower, so its figures are lower).

    python bench/servers.py [--duration 5] [--connections 50] [--only granian-wsgi,uvicorn]
                            [--no-pin] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import http.client
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import typing as t

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import report  # noqa: E402
from apps import common as c  # noqa: E402
from apps.registry import version  # noqa: E402

BIN = os.path.dirname(sys.executable)


@dataclasses.dataclass
class Server:
    key: str
    title: str
    interface: str
    apps: list[tuple[str, str]]  # (label, target name in apps.targets)

    def command(self, target: str, port: int) -> list[str]:
        spec = f"apps.targets:{target}"
        if self.key == "granian-wsgi":
            return [
                f"{BIN}/granian", "--interface", "wsgi", "--workers", "1",
                "--blocking-threads", "1", "--host", "127.0.0.1", "--port", str(port),
                "--working-dir", HERE, "--no-ws", "--log-level", "warning", spec,
            ]  # fmt: skip
        if self.key == "granian-asgi":
            return [
                f"{BIN}/granian", "--interface", "asgi", "--workers", "1",
                "--host", "127.0.0.1", "--port", str(port), "--working-dir", HERE,
                "--log-level", "warning", spec,
            ]  # fmt: skip
        if self.key == "uvicorn":
            return [
                f"{BIN}/uvicorn", spec, "--app-dir", HERE, "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--no-access-log",
                "--log-level", "warning", *uvicorn_extras(),
            ]  # fmt: skip
        if self.key == "gunicorn":
            return [
                f"{BIN}/gunicorn", "--workers", "1", "--worker-class", "sync",
                "--bind", f"127.0.0.1:{port}", "--chdir", HERE, "--log-level", "warning",
                spec,
            ]  # fmt: skip
        raise ValueError(self.key)


@dataclasses.dataclass(frozen=True)
class Pinning:
    """The CPU of the server and the CPU of the load generator (``None``: not pinned)."""

    server: int | None = None
    load: int | None = None

    @staticmethod
    def choose(enabled: bool) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if not enabled or len(cpus) < 2 or shutil.which("taskset") is None:
            return Pinning()
        return Pinning(cpus[0], cpus[1])

    def describe(self) -> str:
        if self.server is None:
            return "server and load generator not pinned to CPUs"
        return f"server pinned to CPU {self.server}, load generator to CPU {self.load}"


def on_cpu(cpu: int | None) -> list[str]:
    """The command prefix that runs a command on ``cpu`` (none for ``None``)."""
    return [] if cpu is None else ["taskset", "-c", str(cpu)]


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def uvicorn_extras() -> list[str]:
    extras = []
    if has("uvloop"):
        extras += ["--loop", "uvloop"]
    if has("httptools"):
        extras += ["--http", "httptools"]
    return extras


def uvicorn_title() -> str:
    parts = [name for name in ("uvloop", "httptools") if has(name)]
    how = " + ".join(parts) if parts else "asyncio + h11"
    return f"uvicorn {version('uvicorn')} ({how})"


def servers() -> list[Server]:
    return [
        Server(
            "granian-wsgi",
            f"granian {version('granian')} WSGI (1 worker, 1 blocking thread)",
            "wsgi",
            [
                ("raw WSGI", "raw_wsgi"),
                ("erlen", "erlen_wsgi"),
                ("Falcon", "falcon_wsgi"),
                ("Bottle", "bottle_wsgi"),
                ("Flask", "flask_wsgi"),
                ("erlen, SECURITY_HEADERS = {} (info)", "erlen_bare_wsgi"),
            ],
        ),
        Server(
            "granian-asgi",
            f"granian {version('granian')} ASGI (1 worker)",
            "asgi",
            [
                ("raw ASGI", "raw_asgi"),
                ("erlen", "erlen_asgi"),
                ("Starlette", "starlette_asgi"),
                ("Falcon ASGI", "falcon_asgi"),
                ("Litestar", "litestar_asgi"),
                ("Quart", "quart_asgi"),
            ],
        ),
        Server(
            "uvicorn",
            uvicorn_title() + ", 1 worker",
            "asgi",
            [
                ("raw ASGI", "raw_asgi"),
                ("erlen", "erlen_asgi"),
                ("Falcon ASGI", "falcon_asgi"),
                ("Starlette", "starlette_asgi"),
                ("Quart", "quart_asgi"),
                # A ported Flask app keeps its def views: each runs in a worker thread.
                ("erlen, def view", "erlen_def_asgi"),
                ("Starlette, def endpoint", "starlette_def_asgi"),
                # uvicorn handles each response header in Python; erlen sends three by default.
                ("erlen, SECURITY_HEADERS = {} (info)", "erlen_bare_asgi"),
            ],
        ),
        Server(
            "gunicorn",
            f"gunicorn {version('gunicorn')} (1 sync worker)",
            "wsgi",
            [
                ("raw WSGI", "raw_wsgi"),
                ("erlen", "erlen_wsgi"),
                ("Falcon", "falcon_wsgi"),
                ("Bottle", "bottle_wsgi"),
                ("Flask", "flask_wsgi"),
            ],
        ),
    ]


MODULE_OF = {
    "flask": "flask",
    "bottle": "bottle",
    "falcon": "falcon",
    "starlette": "starlette",
    "quart": "quart",
    "litestar": "litestar",
}


def missing_module(target: str) -> str | None:
    module = MODULE_OF.get(target.split("_")[0])
    return module if module is not None and not has(module) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, process: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            status, body = get(port)
        except OSError:
            time.sleep(0.1)
            continue
        if status != 200 or body != c.HELLO.encode():
            raise RuntimeError(f"wrong answer: {status} {body[:60]!r}")
        return
    raise RuntimeError(f"not ready after {limit:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's PID; SIGKILL to its process group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group this script started
            process.wait(timeout=10)


# --- load generators --------------------------------------------------------------------------


def wrk(port: int, duration: float, connections: int, cpu: int | None) -> tuple[float, str]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", f"http://127.0.0.1:{port}/"]
    out = subprocess.run(
        [*on_cpu(cpu), *command],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if not match:
        raise RuntimeError(f"wrk printed no rate: {out.stdout[-200:]} {out.stderr[-200:]}")
    note = ""
    errors = re.search(r"Socket errors:.*", out.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if non2xx:
        note = f"{non2xx.group(1)} non-2xx"
    if errors:
        note = (note + "; " if note else "") + errors.group(0).replace("Socket errors: ", "")
    return float(match.group(1)), note


async def _client(port: int, deadline: float, counts: list[int], errors: list[int]) -> None:
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\n\r\n"
    reader = writer = None
    while time.monotonic() < deadline:  # bounded by the duration
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if match is None:
                raise ValueError("no Content-Length")
            await reader.readexactly(int(match.group(1)))
            if not head.startswith(b"HTTP/1.1 200"):
                errors[0] += 1
            counts[0] += 1
            if re.search(rb"(?i)connection:\s*close", head):
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors[0] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def pyload(port: int, duration: float, connections: int, cpu: int | None) -> tuple[float, str]:
    """The fallback load generator: ``connections`` keep-alive clients for ``duration`` s."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # this process: the load generator from now on

    async def main() -> tuple[int, int]:
        counts, errors = [0], [0]
        deadline = time.monotonic() + duration
        await asyncio.gather(*(_client(port, deadline, counts, errors) for _ in range(connections)))
        return counts[0], errors[0]

    start = time.monotonic()
    done, errors = asyncio.run(main())
    rate = done / (time.monotonic() - start)
    return rate, f"{errors} errors" if errors else ""


def measure(
    server: Server,
    target: str,
    duration: float,
    connections: int,
    load: t.Callable[..., t.Any],
    pinning: Pinning,
) -> tuple[float | None, str]:
    missing = missing_module(target)
    if missing:
        return None, f"n/a: {missing} not installed"
    port = free_port()
    env = dict(os.environ, PYTHONPATH=HERE, PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(
        [*on_cpu(pinning.server), *server.command(target, port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        try:
            wait_ready(port, process)
        except RuntimeError as error:
            stop(process)
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            tail = stderr.strip().splitlines()[-1:] or [""]
            return None, f"n/a: {error} {tail[0][:120]}"
        load(port, min(1.0, duration), connections, pinning.load)  # warm-up
        rate, note = load(port, duration, connections, pinning.load)
        if process.poll() is not None:
            return None, "n/a: the server died under load"
        return rate, note
    finally:
        stop(process)
        if process.stderr:
            process.stderr.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="rounds, in rotated app order")
    parser.add_argument("--only", default="", help="server keys, e.g. granian-wsgi,uvicorn")
    parser.add_argument("--python-load", action="store_true", help="never use wrk")
    parser.add_argument("--no-pin", action="store_true", help="leave CPUs to the scheduler")
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args(argv)
    pinning = Pinning.choose(not args.no_pin)
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    load = wrk if use_wrk else pyload
    keep = {k for k in args.only.split(",") if k}
    lines = [
        f"Servers: hello app over loopback, load generator"
        f" {'wrk 1 thread' if use_wrk else 'asyncio Python client (wrk not installed)'},"
        f" {args.connections} connections, {args.duration:g} s each after a 1 s warm-up, in"
        f" {args.rounds} rounds (app order rotated); requests/s is the median over rounds and"
        " the share is the median of each round's ratio to the raw callable. Every server runs"
        f" one worker process, started afresh for each measurement; {pinning.describe()}.",
        "",
    ]
    for server in servers():
        if keep and server.key not in keep:
            continue
        rates: dict[str, list[float]] = {label: [] for label, _ in server.apps}
        shares: dict[str, list[float]] = {label: [] for label, _ in server.apps}
        notes: dict[str, list[str]] = {label: [] for label, _ in server.apps}
        floor_label = server.apps[0][0]
        for round_index in range(args.rounds):
            order = (
                server.apps[round_index % len(server.apps) :]
                + server.apps[: round_index % len(server.apps)]
            )  # rotated, so no app always goes first
            got: dict[str, float] = {}
            for label, target in order:
                print(f"  {server.key} round {round_index + 1}: {label}", file=sys.stderr)
                rate, note = measure(server, target, args.duration, args.connections, load, pinning)
                if note:
                    notes[label].append(note)
                if rate is not None:
                    got[label] = rate
                    rates[label].append(rate)
            for label, rate in got.items():
                if got.get(floor_label):
                    shares[label].append(rate / got[floor_label])
        lines += [f"#### {server.title}", "", "| app | requests/s | share of raw | note |"]
        lines.append("|---|---:|---:|---|")
        for label, _ in server.apps:
            note = "; ".join(dict.fromkeys(notes[label]))
            if not rates[label]:
                lines.append(f"| {label} | n/a | | {note} |")
                continue
            share = f"{statistics.median(shares[label]):.0%}" if shares[label] else "?"
            spread = ", ".join(f"{r:,.0f}" for r in rates[label])
            lines.append(
                f"| {label} | {statistics.median(rates[label]):,.0f} | {share} |"
                f" rounds: {spread}{'; ' + note if note else ''} |"
            )
        lines.append("")
    report.emit("\n".join(lines), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
