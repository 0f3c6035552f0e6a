"""Memory: RSS of a process serving the param scenario (GET /users/<int:id> JSON) for 100,000
requests in-process, erlen against Flask (and erlen under ASGI). Each app runs in its own fresh
subprocess; RSS is read from /proc/self/status (VmRSS, and VmHWM for the peak) after a warm-up
of 1,000 requests and then every 20,000 requests. "Flat" means the end RSS is within 1 MiB
of the RSS after warm-up.

    python bench/memory.py [--requests 100000] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import report

HERE = os.path.dirname(os.path.abspath(__file__))

WORKER = r"""
import asyncio, json, resource, sys
sys.path.insert(0, {here!r})
import harness
from apps import flasklike

def rss_kib():
    fields = {{}}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    if not fields:  # not Linux: the peak only
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fields = {{"VmRSS": peak, "VmHWM": peak}}
    return fields

framework, interface, total = {framework!r}, {interface!r}, {total}
loop = asyncio.new_event_loop()
if interface == "wsgi":
    run = harness.wsgi_case(flasklike.build(framework, "param"), "param")
else:
    app = flasklike.build(framework, "param", async_views=True)
    run = harness.asgi_case(app, "param", loop)
warmup, step = 1000, 20000
run(warmup)
samples = [(warmup, rss_kib())]
done = warmup
while done < total:  # bounded: total requests
    batch = min(step, total - done)
    run(batch)
    done += batch
    samples.append((done, rss_kib()))
print(json.dumps(samples))
"""

CASES = [("erlen", "wsgi"), ("flask", "wsgi"), ("erlen", "asgi")]


def measure(framework: str, interface: str, total: int) -> list[tuple[int, dict[str, int]]]:
    code = WORKER.format(here=HERE, framework=framework, interface=interface, total=total)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    return [(n, fields) for n, fields in json.loads(out.stdout)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    rows = []
    for framework, interface in CASES:
        label = f"{'erlen' if framework == 'erlen' else 'Flask'} ({interface.upper()})"
        print(f"  memory: {label}...", file=sys.stderr, flush=True)
        try:
            samples = measure(framework, interface, args.requests)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
            rows.append(f"| {label} | n/a | | | | {error} |")
            continue
        warm = samples[0][1]["VmRSS"]
        end = samples[-1][1]["VmRSS"]
        peak = max(fields["VmHWM"] for _, fields in samples)
        trail = " → ".join(f"{fields['VmRSS'] / 1024:.1f}" for _, fields in samples)
        growth = end - warm
        verdict = "flat" if growth <= 1024 else f"grows {growth / 1024:.1f} MiB"
        rows.append(
            f"| {label} | {warm / 1024:.1f} | {end / 1024:.1f} | {peak / 1024:.1f} | {verdict} |"
            f" {trail} |"
        )
    text = "\n".join(
        [
            f"#### Memory: param scenario, {args.requests:,} requests in one process",
            "",
            "| app | RSS after warm-up (MiB) | RSS at end (MiB) | peak RSS (MiB) | verdict |"
            " RSS every 20,000 requests (MiB) |",
            "|---|---:|---:|---:|---|---|",
            *rows,
        ]
    )
    report.emit(text, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
