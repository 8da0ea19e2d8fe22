"""Parsing published dates from the many shapes news metadata uses, normalised to aware UTC."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

_FORMATS = (
    "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%Y/%m/%d", "%d.%m.%Y",
    "%Y%m%d",
)
_ISO_IN_TEXT = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def parse_date(value: object) -> datetime | None:
    """A timezone-aware UTC datetime from an ISO / RFC 822 / "April 2, 2025" string or a number.

    Returns None when the value is empty or not a date; naive values are taken as UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _FORMATS:
        try:
            return _utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def date_in_name(name: str) -> datetime | None:
    """A date written as YYYY-MM-DD inside a file name (e.g. 2025-04-02-russia.txt)."""
    m = _ISO_IN_TEXT.search(name)
    if not m:
        return None
    return parse_date("-".join(m.groups()))


def to_epoch(dt: datetime | None) -> int | None:
    """Seconds since the epoch, the integer form Chroma filters on."""
    return int(dt.timestamp()) if dt is not None else None


def from_epoch(value: object) -> datetime | None:
    """The inverse of to_epoch; None for missing values."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)
