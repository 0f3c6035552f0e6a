"""In-process per-request overhead: erlen against Flask, Bottle and Falcon (WSGI) and Starlette,
Quart and Falcon ASGI (ASGI), with raw WSGI/ASGI callables as the floor.

Each app is called directly (an environ or a scope; no server, no socket), one app per framework
and scenario, every answer checked (status and body) before timing. Timing runs in interleaved
slices: each slice times every app once for every scenario (in a rotated order), so drift of
the machine's speed hits all alike. The figure is the median over slices of the ratio to the raw
callable timed in the same slice; the median microseconds per request are shown too. The raw
callables do each scenario's essential work by hand (stdlib json, Jinja2 directly, an
itsdangerous-signed cookie, a minimal multipart split), so a ratio is the framework's overhead
on top of that work. ASGI apps run on a plain asyncio loop.

    python bench/inprocess.py [--slices 15] [--quick] [--scenarios hello,param]
                              [--apps raw,erlen] [--markdown FILE] [--no-import-time]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import typing as t

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness
import report
from apps import common as c
from apps import registry


@dataclasses.dataclass
class Cell:
    run: harness.Run | None = None
    n: int = 0
    reason: str = ""  # why n/a
    around: t.Any = None
    times: list[float] = dataclasses.field(default_factory=list)  # us per request, per slice
    ratios: list[float] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Table:
    interface: str
    entries: list[registry.Entry]
    scenarios: list[str]
    cells: dict[tuple[str, str], Cell]  # (entry key, scenario)


def prepare(
    interface: str,
    entries: list[registry.Entry],
    scenarios: list[str],
    target: float,
    loop: asyncio.AbstractEventLoop | None,
    log: t.Callable[[str], None],
) -> Table:
    cells: dict[tuple[str, str], Cell] = {}
    for entry in entries:
        for scenario in scenarios:
            if entry.only and scenario not in entry.only:
                continue
            cell = Cell()
            cells[entry.key, scenario] = cell
            if interface == "wsgi" and scenario == "ws":
                cell.reason = "WSGI has no WebSockets"
                continue
            try:
                app = entry.build(scenario)
            except c.NotSupported as error:
                cell.reason = str(error)
                continue
            except ImportError as error:
                cell.reason = f"not installed ({error.name})"
                continue
            around = getattr(app, "bench_around", None) or contextlib.nullcontext
            try:
                with around():
                    if interface == "wsgi":
                        run = harness.wsgi_case(app, scenario)
                    else:
                        assert loop is not None
                        run = harness.asgi_case(app, scenario, loop)
                    cell.n = harness.calibrate(run, target)
            except Exception as error:  # a wrong answer or a crash: shown, not timed
                cell.reason = f"check failed: {type(error).__name__}: {error}"[:160]
                log(f"  {interface} {entry.label} {scenario}: {cell.reason}")
                continue
            cell.run, cell.around = run, around
            log(f"  verified {interface} {entry.label} {scenario}: OK (n={cell.n})")
    return Table(interface, entries, scenarios, cells)


def time_slices(tables: list[Table], slices: int, log: t.Callable[[str], None]) -> None:
    """Every slice times every (app, scenario) once; the order rotates between slices."""
    for index in range(slices):
        gc.collect()
        for table in tables:
            floor = table.entries[0].key
            for scenario in table.scenarios:
                keys = [e.key for e in table.entries if (e.key, scenario) in table.cells]
                shift = index % max(1, len(keys))
                keys = keys[shift:] + keys[:shift]
                slice_us: dict[str, float] = {}
                for key in keys:
                    cell = table.cells[key, scenario]
                    if cell.run is None:
                        continue
                    with cell.around():
                        slice_us[key] = cell.run(cell.n) / cell.n * 1e6
                    cell.times.append(slice_us[key])
                base = slice_us.get(floor)
                for key, us in slice_us.items():
                    if base:
                        table.cells[key, scenario].ratios.append(us / base)
        log(f"  slice {index + 1}/{slices} done")


def fmt_ratio(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    if cell.run is None:
        return "n/a"
    return f"{statistics.median(cell.ratios):.2f}x" if cell.ratios else "?"


def fmt_us(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    if cell.run is None:
        return "n/a"
    us = statistics.median(cell.times)
    return f"{us:.1f}" if us < 1000 else f"{us:,.0f}"


def render_table(table: Table, title: str) -> str:
    head = "| app | " + " | ".join(c.SCENARIO_TITLES[s] for s in table.scenarios) + " |"
    rule = "|---|" + "---:|" * len(table.scenarios)
    lines = [f"#### {title}: ratio to the raw callable (median over slices)", "", head, rule]
    for entry in table.entries:
        cells = [fmt_ratio(table.cells.get((entry.key, s))) for s in table.scenarios]
        lines.append(f"| {entry.label} | " + " | ".join(cells) + " |")
    lines += ["", f"#### {title}: median µs per request", "", head, rule]
    for entry in table.entries:
        cells = [fmt_us(table.cells.get((entry.key, s))) for s in table.scenarios]
        lines.append(f"| {entry.label} | " + " | ".join(cells) + " |")
    reasons = []
    for entry in table.entries:
        for scenario in table.scenarios:
            cell = table.cells.get((entry.key, scenario))
            if cell is not None and cell.run is None:
                reasons.append(f"- n/a {entry.label}, {c.SCENARIO_TITLES[scenario]}: {cell.reason}")
    if reasons:
        lines += ["", *reasons]
    lines += ["", pay_for_what_you_use(table)]
    return "\n".join(line for line in lines if line is not None).rstrip() + "\n"


def pay_for_what_you_use(table: Table) -> str:
    """The erlen hello variants as a ratio to plain erlen hello, slice by slice."""
    base = table.cells.get(("erlen", "hello"))
    variants = [e for e in table.entries if e.kind == "variant"]
    if base is None or base.run is None or not variants:
        return ""
    lines = [
        "Pay for what you use (hello; ratio to plain erlen hello, same slice; 1.00x = free):",
        "",
    ]
    for entry in variants:
        cell = table.cells.get((entry.key, "hello"))
        if cell is None or cell.run is None:
            lines.append(f"- {entry.label}: n/a")
            continue
        ratios = [v / b for v, b in zip(cell.times, base.times, strict=True)]
        lines.append(f"- {entry.label}: {statistics.median(ratios):.3f}x")
    return "\n".join(lines) + "\n"


# --- import time ------------------------------------------------------------------------------

IMPORT_PROBE = """
import sys, time, json
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
names = set(sys.modules)
print(json.dumps({{
    "ms": elapsed * 1000,
    "jinja2": "jinja2" in names,
    "click": "click" in names,
    "multipart": sorted(n for n in names if "multipart" in n),
    "modules": len(names),
}}))
"""


def _probe(module: str) -> tuple[float, dict[str, t.Any]]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE.format(module=module)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    wall = (time.perf_counter() - start) * 1000
    if out.returncode != 0:
        return wall, {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return wall, json.loads(out.stdout)


def import_times(runs: int) -> str:
    """Fresh interpreters, erlen and flask alternating (after one untimed run each, which also
    writes any stale bytecode), so drift and caches hit both alike."""
    modules = ("erlen", "flask")
    samples: dict[str, list[float]] = {m: [] for m in modules}
    walls: dict[str, list[float]] = {m: [] for m in modules}
    infos: dict[str, dict[str, t.Any]] = {m: {} for m in modules}
    for module in modules:
        _probe(module)
    for _ in range(runs):
        for module in modules:
            wall, info = _probe(module)
            infos[module] = info
            if "error" not in info:
                samples[module].append(info["ms"])
                walls[module].append(wall)
    rows = []
    for module in modules:
        info = infos[module]
        if not samples[module]:
            rows.append(f"| `import {module}` | n/a ({info.get('error')}) | | | | | |")
            continue

        def yes(flag: bool) -> str:
            return "yes" if flag else "no"

        multipart = ", ".join(info["multipart"]) or "no"
        rows.append(
            f"| `import {module}` | {statistics.median(samples[module]):.1f} |"
            f" {statistics.median(walls[module]):.0f} | {info['modules']} |"
            f" {yes(info['jinja2'])} | {yes(info['click'])} | {multipart} |"
        )
    return "\n".join(
        [
            f"#### Import time (median of {runs} fresh interpreters)",
            "",
            "| import | ms in `import` | ms whole process | modules loaded | jinja2 | click |"
            " multipart modules |",
            "|---|---:|---:|---:|---|---|---|",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--slices", type=int, default=15)
    parser.add_argument("--target-ms", type=float, default=12.0, help="time per cell per slice")
    parser.add_argument("--quick", action="store_true", help="3 short slices (CI smoke)")
    parser.add_argument("--scenarios", default=",".join(c.SCENARIOS))
    parser.add_argument("--apps", default="", help="app keys to keep, e.g. raw,erlen")
    parser.add_argument("--interfaces", default="wsgi,asgi")
    parser.add_argument("--import-runs", type=int, default=15)
    parser.add_argument("--no-import-time", action="store_true")
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.slices, args.target_ms, args.import_runs = 3, 2.0, 3
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(c.SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    keep = {k for k in args.apps.split(",") if k}

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def select(entries: list[registry.Entry]) -> list[registry.Entry]:
        return [e for e in entries if not keep or e.key in keep]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    tables = []
    interfaces = args.interfaces.split(",")
    if "wsgi" in interfaces:
        log("checking the WSGI apps")
        wsgi_scenarios = [s for s in scenarios if s != "ws"]
        entries = select(registry.wsgi_entries())
        tables.append(prepare("wsgi", entries, wsgi_scenarios, args.target_ms / 1000, None, log))
    if "asgi" in interfaces:
        log("checking the ASGI apps")
        entries = select(registry.asgi_entries())
        tables.append(prepare("asgi", entries, scenarios, args.target_ms / 1000, loop, log))
    log(f"timing {args.slices} slices")
    time_slices(tables, args.slices, log)
    loop.close()

    titles = {"wsgi": "WSGI (sync views)", "asgi": "ASGI (async def views)"}
    parts = [
        f"In-process: {args.slices} interleaved slices, about {args.target_ms:g} ms per app and"
        " scenario in each; Python"
        f" {sys.version.split()[0]}.",
        "",
    ]
    for table in tables:
        parts.append(render_table(table, titles[table.interface]))
    if not args.no_import_time:
        parts.append(import_times(args.import_runs))
    report.emit("\n".join(parts), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
