"""Which apps are benchmarked, per interface, with a label and a builder per scenario."""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import typing as t

from . import bottle_app, falcon_app, flasklike, litestar_app, quart_app, raw, starlette_app

Builder = t.Callable[[str], t.Any]


@dataclasses.dataclass(frozen=True)
class Entry:
    key: str  # short name for --apps
    label: str
    build: Builder
    kind: str  # "floor", "erlen", "peer", "info" (erlen for information), "variant"
    only: tuple[str, ...] = ()  # scenarios it is in (empty: all)


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _variant_entries(async_views: bool) -> list[Entry]:
    return [
        Entry(
            f"erlen-{name}",
            f"erlen {text}",
            functools.partial(flasklike.build, "erlen", async_views=async_views, variant=name),  # type: ignore[arg-type]
            "variant",
            ("hello",),
        )
        for name, text in flasklike.VARIANTS.items()
    ]


def _lean_entry(async_views: bool) -> Entry:
    return Entry(
        "erlen-lean",
        "erlen without its security defaults and sorted JSON keys (info)",
        functools.partial(flasklike.build_lean, async_views=async_views),
        "info",
    )


def wsgi_entries() -> list[Entry]:
    return [
        Entry("raw", "raw WSGI callable", functools.partial(raw.build, interface="wsgi"), "floor"),
        Entry("erlen", "erlen (def views)", functools.partial(flasklike.build, "erlen"), "erlen"),
        _lean_entry(async_views=False),
        Entry(
            "flask",
            f"Flask {version('flask')}",
            functools.partial(flasklike.build, "flask"),
            "peer",
        ),
        Entry("bottle", f"Bottle {version('bottle')}", bottle_app.build, "peer"),
        Entry("falcon", f"Falcon {version('falcon')}", falcon_app.build_wsgi, "peer"),
        *_variant_entries(async_views=False),
    ]


def asgi_entries() -> list[Entry]:
    return [
        Entry("raw", "raw ASGI callable", functools.partial(raw.build, interface="asgi"), "floor"),
        Entry(
            "erlen",
            "erlen (async def views)",
            functools.partial(flasklike.build, "erlen", async_views=True),
            "erlen",
        ),
        _lean_entry(async_views=True),
        Entry(
            "erlen-def",
            "erlen (def views, worker thread; info)",
            functools.partial(flasklike.build, "erlen"),
            "info",
        ),
        Entry(
            "raw-round-trip",
            "raw ASGI callable + one run_in_executor round trip (info)",
            functools.partial(raw.build, interface="asgi", round_trip="executor"),
            "info",
            ("hello",),
        ),
        Entry(
            "raw-erlen-workers",
            "raw ASGI callable + one round trip through erlen's worker threads (the floor of"
            " def views; info)",
            functools.partial(raw.build, interface="asgi", round_trip="erlen"),
            "info",
            ("hello",),
        ),
        Entry("starlette", f"Starlette {version('starlette')}", starlette_app.build, "peer"),
        Entry(
            "starlette-def",
            f"Starlette {version('starlette')} (def endpoints; info)",
            starlette_app.build_sync,
            "info",
            ("hello", "hooks", "stream"),
        ),
        Entry("quart", f"Quart {version('quart')}", quart_app.build, "peer"),
        Entry("falcon", f"Falcon ASGI {version('falcon')}", falcon_app.build_asgi, "peer"),
        *_variant_entries(async_views=True),
    ]


def litestar_build(scenario: str) -> t.Any:
    return litestar_app.build(scenario)
