"""Dates in HTTP's format (``Sun, 06 Nov 1994 08:49:37 GMT``), formatted directly.

Upstream: ``werkzeug.http.http_date``, for a ``date`` or ``datetime`` (a naive one is UTC).
werkzeug goes through ``email.utils.format_datetime``; this formats the fields itself, which
counts where every session cookie and JSON date is formatted.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(value: date) -> str:
    """``value`` as an HTTP date; an aware datetime is converted to UTC first."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(timezone.utc)
    return (
        f"{_WEEKDAYS[value.weekday()]}, {value.day:02d} {_MONTHS[value.month - 1]}"
        f" {value.year:04d} {value.hour:02d}:{value.minute:02d}:{value.second:02d} GMT"
    )
