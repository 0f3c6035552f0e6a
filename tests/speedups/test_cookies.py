"""The session cookie's ``Set-Cookie`` (``erlen._speedups.cookies``) is, byte for byte, what
werkzeug's ``dump_cookie`` writes for any attributes, value and expiry."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.http import dump_cookie

from erlen._speedups.cookies import CookieFormat

names = st.sampled_from(["session", "s", "__Host-session", "my_cookie"])
cookie_values = st.text(st.sampled_from("abcXYZ019-_.~"), max_size=30)
expiries = (
    st.none()
    | st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1))
    | st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30))]),
    )
    | st.integers(0, 2**33)
    | st.sampled_from(["Thu, 01 Jan 2026 00:00:00 GMT", "soon"])
)
attributes = st.fixed_dictionaries(
    {
        "domain": st.sampled_from([None, "example.com", ".example.com", "localhost", "a.b.c"]),
        "path": st.sampled_from([None, "/", "/app", "/a b", "/ü"]),
        "secure": st.booleans(),
        "httponly": st.booleans(),
        "samesite": st.sampled_from([None, "Lax", "Strict", "None"]),
        "partitioned": st.booleans(),
    }
)


@settings(max_examples=300, derandomize=True)
@given(name=names, value=cookie_values, expires=expiries, options=attributes)
def test_same_header_as_dump_cookie(
    name: str, value: str, expires: t.Any, options: dict[str, t.Any]
) -> None:
    expected = dump_cookie(name, value, expires=expires, max_size=0, **options)
    assert CookieFormat(name, options).header(value, expires) == expected
