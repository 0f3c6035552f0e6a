"""Channels: fan-out throughput and publish-to-subscriber latency, in memory and on Redis.

Fan-out: ``--messages`` messages published to ``--subscribers`` subscribers of one channel, all
in one process; the figure is deliveries per second until the last subscriber has them all.
Latency: messages published one at a time (each after the previous one arrived), the time from
``publish`` to the subscriber's receipt, p50 and p99. Starlette's ``broadcaster`` (Redis
streams) is measured the same way on the same Redis, when it is installed (the ``bench``
extra). The Redis rows start Debian's ``redis-server`` on 127.0.0.1 with a free port and a
temporary folder, and stop it by its PID.

    python bench/channels.py [--messages 2000] [--subscribers 100] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
import typing as t
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import report  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402

from erlen import Erlen  # noqa: E402
from erlen.channels import Channels, Message  # noqa: E402

LATENCY_SAMPLES = 1000
TIMEOUT = 120.0


def _channels(url: str | None, queue_size: int) -> Channels:
    app = Erlen("bench_channels")
    app.config.update(CHANNELS_QUEUE_SIZE=queue_size, CHANNELS_HISTORY=100_000)
    if url:
        app.config["CHANNELS_URL"] = url
    return Channels(app)


async def fan_out(channels: Channels, messages: int, subscribers: int) -> float:
    """Deliveries per second."""
    start_id = await channels.apublish("fan-out", "start")
    subscriptions = [channels.subscribe("fan-out", last_id=start_id) for _ in range(subscribers)]

    async def drain(subscription: t.AsyncIterator[Message]) -> None:
        count = 0
        async for _message in subscription:
            count += 1
            if count == messages:
                return

    began = time.perf_counter()
    readers = [asyncio.ensure_future(drain(sub)) for sub in subscriptions]
    for index in range(messages):
        await channels.apublish("fan-out", str(index))
    await asyncio.wait_for(asyncio.gather(*readers), TIMEOUT)
    return messages * subscribers / (time.perf_counter() - began)


async def latency(channels: Channels) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    start_id = await channels.apublish("latency", "start")
    subscription = channels.subscribe("latency", last_id=start_id)
    samples = []
    for index in range(LATENCY_SAMPLES):
        sent = time.perf_counter()
        await channels.apublish("latency", str(index))
        await asyncio.wait_for(anext(subscription), TIMEOUT)
        samples.append((time.perf_counter() - sent) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def run(url: str | None, messages: int, subscribers: int) -> tuple[float, float, float]:
    channels = _channels(url, queue_size=messages + 10)

    async def both() -> tuple[float, float, float]:
        rate = await fan_out(channels, messages, subscribers)
        p50, p99 = await latency(channels)
        return rate, p50, p99

    return asyncio.run(both())


def run_broadcaster(url: str, messages: int, subscribers: int) -> tuple[float, float, float]:
    """The same two measures with Starlette's ``broadcaster`` on Redis streams (its
    ``redis-stream://`` backend; its pub/sub one delivers nothing with redis-py 8 here)."""
    from broadcaster import Broadcast

    async def both() -> tuple[float, float, float]:
        broadcast = Broadcast(url.replace("redis://", "redis-stream://", 1))
        await broadcast.connect()
        try:
            async with contextlib.AsyncExitStack() as stack:
                subscribed = [
                    await stack.enter_async_context(broadcast.subscribe("fan-out"))
                    for _ in range(subscribers)
                ]

                async def drain(subscriber: t.Any) -> None:
                    count = 0
                    while count < messages:
                        if (await subscriber.get()).message != "ping":
                            count += 1

                # Its subscribers start at the stream's end: wait until they read it.
                for _ in range(100):
                    await broadcast.publish("fan-out", "ping")
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(subscribed[0].get(), 0.1)
                        break
                began = time.perf_counter()
                readers = [asyncio.ensure_future(drain(sub)) for sub in subscribed]
                for index in range(messages):
                    await broadcast.publish("fan-out", str(index))
                await asyncio.wait_for(asyncio.gather(*readers), TIMEOUT)
                rate = messages * subscribers / (time.perf_counter() - began)
            async with broadcast.subscribe("latency") as subscriber:
                for _ in range(100):
                    await broadcast.publish("latency", "ping")
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(subscriber.get(), 0.1)
                        break
                while not subscriber._queue.empty():  # pings that arrived late
                    subscriber._queue.get_nowait()
                samples = []
                for index in range(LATENCY_SAMPLES):
                    sent = time.perf_counter()
                    await broadcast.publish("latency", str(index))
                    while (await asyncio.wait_for(subscriber.get(), TIMEOUT)).message == "ping":
                        pass
                    samples.append((time.perf_counter() - sent) * 1e6)
            samples.sort()
            return rate, statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
        finally:
            await broadcast.disconnect()

    return asyncio.run(both())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    rows = [("erlen, memory", *run(None, args.messages, args.subscribers))]
    if shutil.which("redis-server") or Path("/usr/bin/redis-server").exists():
        with tempfile.TemporaryDirectory() as folder:
            server = RedisServer(Path(folder))
            server.start()
            try:
                rows.append(
                    ("erlen, Redis streams", *run(server.url, args.messages, args.subscribers))
                )
                if importlib.util.find_spec("broadcaster") is not None:
                    rows.append(
                        (
                            "Starlette's broadcaster, Redis streams",
                            *run_broadcaster(server.url, args.messages, args.subscribers),
                        )
                    )
            finally:
                server.stop()
    else:
        print("redis-server is not installed: no Redis row", file=sys.stderr)
    lines = [
        f"{args.messages} messages to {args.subscribers} subscribers of one channel, one"
        f" process; latency over {LATENCY_SAMPLES} messages published one at a time.",
        "",
        "| backend | deliveries/s | latency p50 (µs) | latency p99 (µs) |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {rate:,.0f} | {p50:,.0f} | {p99:,.0f} |" for name, rate, p50, p99 in rows),
    ]
    report.emit("\n".join(lines), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
