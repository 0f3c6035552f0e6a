"""The session signer (``erlen._speedups.signing``) writes and reads exactly what itsdangerous'
``URLSafeTimedSerializer`` does, for any session, keys and tampering."""

from __future__ import annotations

import hashlib
import typing as t
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import BadData, URLSafeTimedSerializer

from erlen._speedups.signing import CookieSigner
from erlen.sessions import session_json_serializer

NOW = 1_790_000_000.0
keys = st.text(min_size=1, max_size=20)
sessions = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.binary(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=8,
    ),
    max_size=5,
)


def _pair(signing_key: str, fallbacks: list[str]) -> tuple[CookieSigner, URLSafeTimedSerializer]:
    serializer = URLSafeTimedSerializer(
        [*fallbacks, signing_key],
        salt="cookie-session",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    return CookieSigner(serializer, hashlib.sha1), serializer


def _opened(open_: t.Callable[[str, int], t.Any], value: str, max_age: int) -> t.Any:
    try:
        return ("ok", open_(value, max_age))
    except (BadData, ValueError, TypeError):
        return ("refused",)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(session=sessions, signing_key=keys, fallbacks=st.lists(keys, max_size=2))
def test_writes_what_itsdangerous_writes_and_each_reads_the_other(
    session: dict[str, t.Any], signing_key: str, fallbacks: list[str]
) -> None:
    ours, theirs = _pair(signing_key, fallbacks)
    with mock.patch("time.time", return_value=NOW):
        written = ours.dumps(session)
        assert written == theirs.dumps(session)
        assert ours.loads(written, max_age=60) == theirs.loads(written, max_age=60) == session


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    session=sessions,
    signing_key=keys,
    other_key=keys,
    position=st.integers(0, 200),
    replacement=st.sampled_from(list("AZaz09-_.")),
    age=st.integers(-5, 120),
)
def test_refuses_what_itsdangerous_refuses(
    session: dict[str, t.Any],
    signing_key: str,
    other_key: str,
    position: int,
    replacement: str,
    age: int,
) -> None:
    ours, theirs = _pair(signing_key, [])
    stranger, _ = _pair(other_key, [])
    with mock.patch("time.time", return_value=NOW):
        written = theirs.dumps(session)
    index = position % len(written)
    tampered = written[:index] + replacement + written[index + 1 :]
    with mock.patch("time.time", return_value=NOW + age):
        for value in (written, tampered, stranger.dumps(session)):
            assert _opened(ours.loads, value, 60) == _opened(
                lambda v, m: theirs.loads(v, max_age=m), value, 60
            )


@pytest.mark.parametrize("value", ["", ".", "a.b", "a.b.c", "...", "x" * 50])
def test_malformed_values_are_refused_by_both(value: str) -> None:
    ours, theirs = _pair("key", [])
    assert _opened(ours.loads, value, 60) == ("refused",)
    assert _opened(lambda v, m: theirs.loads(v, max_age=m), value, 60) == ("refused",)
