"""Litestar (ASGI): the hello app only, for bench/servers.py."""

from __future__ import annotations

import typing as t

from . import common as c


def build(scenario: str) -> t.Any:
    from litestar import Litestar, MediaType, get

    if scenario != "hello":
        raise c.NotSupported("only the hello scenario is written for Litestar")

    @get("/", media_type=MediaType.TEXT)
    async def hello() -> str:
        return c.HELLO

    return Litestar(route_handlers=[hello], debug=False)
