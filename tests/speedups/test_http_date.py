"""HTTP dates (``erlen._speedups.http_date``) are werkzeug's ``http_date`` for any date."""

from __future__ import annotations

from datetime import date, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.http import http_date as werkzeug_http_date

from erlen._speedups.http_date import http_date

offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.dates() | st.datetimes() | st.datetimes(timezones=offsets)


@settings(max_examples=500, derandomize=True)
@given(value=moments)
def test_same_text_as_werkzeug(value: date) -> None:
    try:
        expected = werkzeug_http_date(value)
    except OverflowError:  # werkzeug cannot convert a date near year 1 or 9999 to UTC
        return
    assert http_date(value) == expected
