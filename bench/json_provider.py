"""JSON providers side by side: the standard library (``DefaultJSONProvider``), orjson
(``OrjsonProvider``) and a msgspec candidate, on a realistic ~2 KB nested document.

Three operations per provider: ``app.json.dumps(obj)``, ``app.json.loads(data)`` and the JSON
response path ``app.json.response(obj)`` (what returning a dict from a view costs). Two documents:
``plain`` (ASCII, only JSON types) and ``rich`` (with datetimes, UUIDs, Decimals and non-ASCII
text, so the provider's extra rules and ``ensure_ascii`` are exercised). Timing runs in
interleaved slices (each slice times every provider once); the figure is the median over slices
of microseconds per call.

The msgspec candidate cannot keep the default rules: msgspec writes datetimes natively as
ISO 8601 and gives no hook to change that, so its ``rich`` numbers are for different output.
Needs ``pip install -e ".[fast,bench]"`` (a missing library's provider is skipped).

    python bench/json_provider.py [--slices 15] [--calls 2000]
"""

from __future__ import annotations

import argparse
import decimal
import statistics
import sys
import time
import typing as t
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/src")

from erlen import Erlen
from erlen.json.provider import (
    DefaultJSONProvider,
    JSONProvider,
    OrjsonProvider,
    _ascii_only,
    _may_hold_big_int,
)
from erlen.wrappers import Response


class MsgspecCandidate(DefaultJSONProvider):
    """What a msgspec provider would look like (datetimes stay ISO 8601: see the module doc)."""

    def __init__(self, app: Erlen) -> None:
        super().__init__(app)
        import msgspec

        self._msgspec = msgspec
        self._encoder = msgspec.json.Encoder(enc_hook=self.default, order="sorted")
        self._decoder = msgspec.json.Decoder()

    def _encode(self, obj: t.Any, indent: bool = False) -> bytes:
        data: bytes = self._encoder.encode(obj)
        if indent:
            data = self._msgspec.json.format(data, indent=2)
        return _ascii_only(data) if self.ensure_ascii else data

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        return self._encode(obj).decode()

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        if _may_hold_big_int(s):  # the same guard as OrjsonProvider's, for a fair comparison
            return super().loads(s)
        return self._decoder.decode(s)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self._encode(obj) + b"\n", mimetype=self.mimetype)


def plain_document() -> dict[str, t.Any]:
    """An API answer: a user, their recent orders and paging metadata (ASCII, JSON types)."""
    return {
        "user": {
            "id": 48213,
            "name": "Jane Appleseed",
            "email": "jane@example.com",
            "active": True,
            "roles": ["customer", "beta"],
            "address": {"street": "12 Orchard Lane", "city": "Springfield", "zip": "49007"},
        },
        "orders": [
            {
                "id": 90000 + n,
                "status": ("shipped", "pending", "delivered")[n % 3],
                "total": round(19.99 * (n + 1), 2),
                "currency": "EUR",
                "gift": n % 2 == 0,
                "note": None,
                "items": [
                    {"sku": f"SKU-{n}{k:03d}", "qty": k + 1, "price": 4.5 + k} for k in range(3)
                ],
            }
            for n in range(6)
        ],
        "meta": {"page": 1, "per_page": 6, "total": 214, "next": "/api/orders?page=2"},
    }


def rich_document() -> dict[str, t.Any]:
    """The same shape with the types the default provider converts, and non-ASCII text."""
    doc = plain_document()
    doc["user"]["name"] = "Jöns Åkesson"
    doc["user"]["address"]["city"] = "Malmö"
    doc["user"]["id"] = uuid.UUID(int=48213)
    for n, order in enumerate(doc["orders"]):
        order["created"] = datetime(2024, 3, n + 1, 12, 30, tzinfo=timezone.utc)
        order["total"] = decimal.Decimal(f"{19.99 * (n + 1):.2f}")
        order["note"] = "Livraison rapide, s'il vous plaît" if n % 2 else None
    return doc


PROVIDERS: dict[str, type[JSONProvider]] = {
    "stdlib": DefaultJSONProvider,
    "orjson": OrjsonProvider,
    "msgspec": MsgspecCandidate,
}


def operations(app: Erlen, doc: dict[str, t.Any]) -> dict[str, Callable[[], object]]:
    provider = app.json
    data = provider.dumps(doc).encode()
    return {
        "dumps": lambda: provider.dumps(doc),
        "loads": lambda: provider.loads(data),
        "response": lambda: provider.response(doc),
    }


def time_calls(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    apps = {}
    for name, cls in PROVIDERS.items():
        app = Erlen(f"bench_{name}")
        try:
            app.json = cls(app)
        except ImportError as error:
            print(f"{name}: skipped ({error})")
            continue
        apps[name] = app
    docs = {"plain": plain_document(), "rich": rich_document()}
    stdlib = apps["stdlib"].json
    for doc_name, doc in docs.items():
        size = len(stdlib.dumps(doc, separators=(",", ":")))
        print(f"{doc_name}: {size} bytes compact JSON")

    results: dict[tuple[str, str, str], list[float]] = {}
    contexts = {name: app.app_context() for name, app in apps.items()}
    for _ in range(args.slices):
        for doc_name, doc in docs.items():
            for name, app in apps.items():
                with contexts[name]:
                    for op_name, call in operations(app, doc).items():
                        call()  # warm up
                        micros = time_calls(call, args.calls)
                        results.setdefault((doc_name, op_name, name), []).append(micros)

    names = list(apps)
    header = f"{'document':9} {'operation':9} " + " ".join(f"{n:>16}" for n in names)
    print()
    print("median microseconds per call (speed-up over stdlib)")
    print(header)
    for doc_name in docs:
        for op_name in ("dumps", "loads", "response"):
            base = statistics.median(results[(doc_name, op_name, "stdlib")])
            cells = []
            for name in names:
                value = statistics.median(results[(doc_name, op_name, name)])
                cells.append(f"{value:8.2f} ({base / value:4.1f}x)")
            print(f"{doc_name:9} {op_name:9} " + " ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()
