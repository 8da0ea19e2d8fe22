"""Parsing published dates from the many shapes news metadata uses, normalised to aware UTC."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

_FORMATS = (
    "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d", "%d.%m.%Y",
    "%Y%m%d", "%d %B %Y %H:%M", "%d %b %Y %H:%M", "%B %d, %Y %H:%M", "%b %d, %Y %H:%M",
    "%B %d, %Y %I:%M %p", "%b %d, %Y %I:%M %p", "%Y-%m-%d %H:%M", "%B %Y", "%b %Y",
)
_ISO_IN_TEXT = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
# "28th November 2026", "Nov. 28, 2026", "Saturday, 28 November 2026": noise around the formats above.
_ORDINAL = re.compile(r"(?<=\d)(st|nd|rd|th)\b", re.I)
_WEEKDAY_PREFIX = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.I)
_UNITS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400,
          "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}
_AGO = re.compile(r"^(?:about\s+|around\s+)?(\d+|an?|one)\s+(second|sec|minute|min|hour|hr|day|week|month|year)s?\s+ago$",
                  re.I)


def parse_date(value: object, now: datetime | None = None) -> datetime | None:
    """A timezone-aware UTC datetime from a datetime, a date (its midnight), an ISO / RFC 822 /
    "28 November 2026" string, a number,
    or a relative phrase ("2 hours ago", "yesterday", "today", "just now") counted back from `now`
    (default: the current time; tests pass a fixed clock).

    Returns None when the value is empty or not a date; naive values are taken as UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):  # a Python caller's as_of=date(2023, 1, 5)
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
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
    # The raw text first ("28.11.2026" needs its dots), then without weekday, ordinals and "Nov." dots.
    cleaned = " ".join(_WEEKDAY_PREFIX.sub("", _ORDINAL.sub("", text)).replace(".", "").split())
    for candidate in dict.fromkeys((text, cleaned)):
        for fmt in _FORMATS:
            try:
                return _utc(datetime.strptime(candidate, fmt))
            except ValueError:
                continue
    # RFC 822 (feeds, e-mail) after the exact formats: its parser is lenient and would drop a "PM".
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    return relative_date(text, now)


def relative_date(text: str, now: datetime | None = None) -> datetime | None:
    """A relative phrase as a datetime before `now`: "3 days ago", "an hour ago", "yesterday", "today".

    Days ("today", "yesterday") give the start of that day; "N units ago" keeps the time of day,
    months count 30 days and years 365 (the phrase is approximate to begin with).
    """
    now = _utc(now) if now is not None else datetime.now(timezone.utc)
    t = " ".join(text.lower().split())
    if t in ("now", "just now", "moments ago", "a moment ago"):
        return now
    if t == "today":
        return start_of_day(now)
    if t == "yesterday":
        return start_of_day(now - timedelta(days=1))
    m = _AGO.match(t)
    if not m:
        return None
    n = 1 if m.group(1) in ("a", "an", "one") else int(m.group(1))
    try:
        return now - timedelta(seconds=n * _UNITS[m.group(2)])
    except OverflowError:
        return None


def start_of_day(dt: datetime) -> datetime:
    """Midnight UTC of the day `dt` falls on."""
    return _utc(dt).replace(hour=0, minute=0, second=0, microsecond=0)


def end_of_day(dt: datetime) -> datetime:
    """The last second of the day `dt` falls on (filters compare whole seconds)."""
    return _utc(dt).replace(hour=23, minute=59, second=59, microsecond=0)


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
