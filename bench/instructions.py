"""Instructions per request, counted by valgrind: the in-process scenarios of bench/inprocess.py
with a small part of the noise of timing.

A shared or virtual machine's speed drifts by tens of percent between runs; the number of CPU
instructions a request executes does not (runs agree within about 2 %). Each figure comes from
two runs of a child process under ``valgrind --tool=cachegrind`` that build the app, check its
answer, warm it up, and then make no request or ``--requests`` more: the difference of their
instruction counts, divided by that number. Instructions are not time (cache misses, branch
mispredictions and memory are left out), so this complements the timed tables: it is the
measure to compare two versions of erlen with, and a second view of the gap to a peer.

    python bench/instructions.py [--scenarios hello,json] [--apps raw,erlen]
                                 [--requests 500] [--jobs 2] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import report  # noqa: E402
from apps import common as c  # noqa: E402
from apps import registry  # noqa: E402

DEFAULT_SCENARIOS = ("hello", "param", "routes50", "json", "form", "session", "404", "hooks")
DEFAULT_APPS = {
    "wsgi": ("raw", "erlen", "erlen-lean", "bottle", "falcon"),
    "asgi": ("raw", "erlen", "erlen-lean", "erlen-def", "starlette", "falcon"),
}
WARM_UP = 200
_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def child(interface: str, scenario: str, key: str, requests: int) -> None:
    """Build ``key``'s app, check it on ``scenario``, warm it up, make ``requests`` requests."""
    import harness

    entries = registry.wsgi_entries() if interface == "wsgi" else registry.asgi_entries()
    entry = next(entry for entry in entries if entry.key == key)
    app = entry.build(scenario)
    if interface == "wsgi":
        run = harness.wsgi_case(app, scenario)
    else:
        run = harness.asgi_case(app, scenario, asyncio.new_event_loop())
    run(WARM_UP)
    gc.collect()
    if requests:
        run(requests)


def count(interface: str, scenario: str, key: str, requests: int) -> int | None:
    """The instructions of one child run, or ``None`` if it failed (not installed...)."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        interface,
        scenario,
        key,
        str(requests),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts in every run
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    found = _TOTAL.search(done.stderr)
    if done.returncode != 0 or found is None:
        return None
    return int(found.group(1).replace(",", ""))


def per_request(interface: str, scenario: str, key: str, requests: int) -> float | None:
    base = count(interface, scenario, key, 0)
    more = count(interface, scenario, key, requests)
    if base is None or more is None:
        return None
    return (more - base) / requests


def render(interface: str, scenarios: list[str], apps: list[str], figures: dict) -> str:
    labels = {
        entry.key: entry.label
        for entry in (registry.wsgi_entries() if interface == "wsgi" else registry.asgi_entries())
    }
    titles = " | ".join(c.SCENARIO_TITLES[s] for s in scenarios)
    lines = [
        f"#### {interface.upper()}: thousands of instructions per request (ratio to raw)",
        "",
        f"| app | {titles} |",
        "|---|" + "---:|" * len(scenarios),
    ]
    for key in apps:
        cells = []
        for scenario in scenarios:
            value = figures.get((interface, scenario, key))
            floor = figures.get((interface, scenario, "raw"))
            if value is None:
                cells.append("n/a")
            elif floor:
                cells.append(f"{value / 1000:,.1f}k ({value / floor:.2f}x)")
            else:
                cells.append(f"{value / 1000:,.1f}k")
        lines.append(f"| {labels.get(key, key)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS))
    parser.add_argument("--apps", default="", help="app keys, e.g. raw,erlen (default: peers)")
    parser.add_argument("--interfaces", default="wsgi,asgi")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        interface, scenario, key, requests = args.child
        child(interface, scenario, key, int(requests))
        return 0
    scenarios = [s for s in args.scenarios.split(",") if s]
    if shutil.which("valgrind") is None:
        text = "valgrind is not installed (apt-get install valgrind): no instruction counts.\n"
    else:
        jobs = []
        plan: dict[str, list[str]] = {}
        for interface in args.interfaces.split(","):
            apps = [k for k in args.apps.split(",") if k] or list(DEFAULT_APPS[interface])
            plan[interface] = apps
            jobs += [(interface, s, k) for s in scenarios for k in apps]
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = pool.map(lambda job: per_request(*job, args.requests), jobs)
            figures = dict(zip(jobs, results, strict=True))
        parts = [
            f"Instructions per request: valgrind (cachegrind) over {args.requests} requests"
            f" after {WARM_UP} to warm up, Python {sys.version.split()[0]}; counted, not timed:"
            " runs agree within about 2 %.",
            "",
        ]
        for interface, apps in plan.items():
            parts.append(render(interface, scenarios, apps, figures))
        text = "\n".join(parts)
    report.emit(text, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
