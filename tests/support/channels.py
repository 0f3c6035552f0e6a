"""Reading channel subscriptions in the tests."""

from __future__ import annotations

import asyncio
import typing as t

from erlen.channels import Message


async def take(subscription: t.AsyncIterator[Message], count: int, wait: float) -> list[Message]:
    """The next ``count`` messages of ``subscription``, within ``wait`` seconds."""
    taken: list[Message] = []

    async def read() -> None:
        async for message in subscription:
            taken.append(message)
            if len(taken) == count:
                break

    await asyncio.wait_for(read(), wait)
    return taken
