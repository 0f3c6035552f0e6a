"""``make bench``: run bench/inprocess.py, bench/instructions.py, bench/servers.py,
bench/memory.py, bench/channels.py and bench/speedups.py, and write bench/RESULTS.md with the
machine, the library versions, the date and their tables.

    python bench/run_all.py [--output bench/RESULTS.md] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from apps.registry import version  # noqa: E402

LIBRARIES = [
    "erlen", "werkzeug", "jinja2", "flask", "bottle", "falcon", "starlette", "quart", "litestar",
    "itsdangerous", "python-multipart", "granian", "uvicorn", "uvloop", "httptools", "gunicorn",
]  # fmt: skip


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return (out.stdout or out.stderr).split("Copyright")[0].strip() or "unknown"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def header(load_before: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {version(name)}" for name in LIBRARIES)
    return "\n".join(
        [
            "# erlen benchmarks",
            "",
            "Written by `make bench` (bench/run_all.py); numbers from one run on one machine:"
            " compare rows within a table, not across machines.",
            "",
            f"- Date: {now}",
            f"- Machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()}"
            f" {platform.release()}",
            f"- Python: {sys.version.split()[0]} ({platform.python_implementation()})",
            f"- Libraries: {versions}",
            f"- Load generator: {wrk_version()}",
            f"- Load average (1, 5, 15 min) before / after the run: {load_before} /"
            f" {load_average()} (other work on the machine adds noise, mostly to the server"
            " figures)",
            "",
        ]
    )


def run(script: str, args: list[str], out: str) -> str:
    command = [sys.executable, os.path.join(HERE, script), *args, "--markdown", out]
    print("$", " ".join(command), file=sys.stderr, flush=True)
    result = subprocess.run(command, timeout=1800, check=False)
    if result.returncode != 0 or not os.path.exists(out):
        return f"({script} failed with exit code {result.returncode})\n"
    with open(out, encoding="utf-8") as file:
        return file.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--quick", action="store_true", help="short runs, to try the pipeline")
    args = parser.parse_args()
    quick = ["--quick"] if args.quick else []
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        inprocess = run("inprocess.py", quick, os.path.join(tmp, "inprocess.md"))
        instructions = run(
            "instructions.py",
            ["--scenarios", "hello", "--requests", "50"] if args.quick else [],
            os.path.join(tmp, "instructions.md"),
        )
        servers = run(
            "servers.py", ["--duration", "1"] if args.quick else [], os.path.join(tmp, "s.md")
        )
        memory = run(
            "memory.py", ["--requests", "20000"] if args.quick else [], os.path.join(tmp, "m.md")
        )
        channels = run(
            "channels.py", ["--messages", "200"] if args.quick else [], os.path.join(tmp, "c.md")
        )
        speedups = run("speedups.py", quick, os.path.join(tmp, "speedups.md"))
    text = "\n".join(
        [
            header(load_before),
            "## In-process (bench/inprocess.py)",
            "",
            inprocess,
            "## Instructions per request (bench/instructions.py)",
            "",
            instructions,
            "## Real servers (bench/servers.py)",
            "",
            servers,
            "## Memory (bench/memory.py)",
            "",
            memory,
            "## Channels (bench/channels.py)",
            "",
            channels,
            "## Speedups (bench/speedups.py)",
            "",
            speedups,
        ]
    )
    with open(args.output, "w", encoding="utf-8") as file:
        file.write(text.rstrip() + "\n")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
