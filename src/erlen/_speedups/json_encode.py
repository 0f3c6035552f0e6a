"""Compact JSON text from the standard library's C encoder, built once.

Upstream: ``json.JSONEncoder(default=default, ensure_ascii=ensure_ascii, sort_keys=sort_keys,
separators=(",", ":")).encode(obj)``. The standard library builds its C encoder again on every
``encode`` call, with a dict that tracks the containers being encoded to detect a reference
cycle; for a small document that costs more than the encoding. Here the C encoder is built once,
without the dict (it would be shared by the threads encoding at once). A document the C encoder
gives up on because it nests too deeply (a cycle, or real depth) is encoded again by the standard
library, which raises what it raises for it: ``ValueError`` for a cycle, ``RecursionError``
otherwise.
"""

from __future__ import annotations

import json
import typing as t
from json.encoder import encode_basestring, encode_basestring_ascii

from . import ENABLED

c_make_encoder: t.Any
try:
    from _json import make_encoder as c_make_encoder
except ImportError:  # (an interpreter without the C accelerator)
    c_make_encoder = None


Encode = t.Callable[[t.Any], str]


def upstream_encoder(
    default: t.Callable[[t.Any], t.Any], ensure_ascii: bool, sort_keys: bool
) -> Encode:
    """Upstream's ``encode``, for these settings."""
    encoder = json.JSONEncoder(
        default=default, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=(",", ":")
    )
    return encoder.encode


def fast_encoder(
    default: t.Callable[[t.Any], t.Any], ensure_ascii: bool, sort_keys: bool
) -> Encode:
    """A function equal to :func:`upstream_encoder`'s, for these settings."""
    upstream = upstream_encoder(default, ensure_ascii, sort_keys)
    if c_make_encoder is None:
        return upstream
    try:
        c_encode = c_make_encoder(
            None,  # no cycle tracking: a cycle ends in RecursionError, handled below
            default,
            encode_basestring_ascii if ensure_ascii else encode_basestring,
            None,  # no indent
            ":",
            ",",
            sort_keys,
            False,  # skipkeys
            True,  # allow_nan
        )
    except TypeError:  # (an interpreter whose encoder takes other arguments)
        return upstream
    join = "".join

    def encode(obj: t.Any) -> str:
        try:
            return join(c_encode(obj, 0))
        except RecursionError:
            return upstream(obj)

    return encode


#: The encoder of compact JSON for the given settings (upstream's with ``ERLEN_SPEEDUPS=0``).
compact_encoder = fast_encoder if ENABLED else upstream_encoder
