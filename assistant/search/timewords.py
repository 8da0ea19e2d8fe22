"""Relative time in questions ("this week", "yesterday", "since Monday", "in the past 3 days")
resolved to a published-date window against an `as_of` date.

The window is a *preference*, not a filter: the retriever raises briefings inside it (and, less and
less, those near it) in the fused score (retrieve.py), so a question never loses its answer to a
date. "this week" and "recently" are rolling (the last 7 days plus a day's margin): a news reader
asking on Thursday about "this week" means Sunday's story too. `SearchDates` and `search_notes` say
which dates a search used, for the answer's notes.

Only words that speak about *when the news came out* are read. Month and year names ("in 2023",
"in November") are left alone: in a question they usually name when something happened, and a
briefing from 2026 about 2023 must still be found. "latest", "now", "currently" do not narrow the
window; the retriever prefers recent briefings for them (retrieve._RECENCY_WORDS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from ..dates import end_of_day, parse_date, start_of_day

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
_NUM = r"(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)"
_UNIT = r"(day|week|month|year|hour)s?"
_DAY = "(" + "|".join(_WEEKDAYS) + ")"

# Ordered: the first rule that matches decides, the most specific first.
_ROLLING = re.compile(rf"\b(?:in|over|during|within|for)?\s*the\s+(?:last|past|previous)\s+(?:{_NUM}\s+)?{_UNIT}\b", re.I)
_PAST_N = re.compile(rf"\b(?:last|past)\s+{_NUM}\s+{_UNIT}\b", re.I)
_PAST_UNIT = re.compile(r"\bpast\s+(day|week|month|year)\b", re.I)
_SINCE_DAY = re.compile(rf"\bsince\s+(?:last\s+)?{_DAY}\b", re.I)
_SINCE = re.compile(r"\bsince\s+(?!then\b|when\b)([^?!;,]+)", re.I)
_AGO = re.compile(rf"\b{_NUM}\s+(day|week)s?\s+ago\b", re.I)
_ON_DAY = re.compile(rf"\b(?:on|last)\s+{_DAY}\b", re.I)
_CALENDAR = re.compile(r"\b(this|last|previous)\s+(week|month|year)\b", re.I)
_RECENT = re.compile(r"\b(?:recently|lately|in recent days|these past few days|this past week|past few days)\b", re.I)
_RECENT_WEEKS = re.compile(r"\bin recent weeks\b", re.I)
_DAYWORD = re.compile(r"\b(today|tonight|this morning|this afternoon|this evening|yesterday)\b", re.I)


@dataclass(frozen=True)
class TimeWindow:
    """Published-date bounds (inclusive, aware UTC) read from a question, and the words that set them."""

    after: datetime
    before: datetime
    phrase: str


@dataclass(frozen=True)
class TimePrior:
    """The soft date preference a question's time words set: `window` resolved against `now`."""

    window: TimeWindow
    now: datetime
    archive_now: bool = False  # `now` is the newest briefing's date: no as_of given, the library is older


@dataclass(frozen=True)
class SearchDates:
    """Which published dates a search looked at: what the answer's notes can tell the user.

    `after`/`before`/`as_of` were hard limits (the caller's); `preferred` is the window the question's
    time words asked for (a preference only), read against `now`."""

    after: datetime | None = None
    before: datetime | None = None
    as_of: datetime | None = None
    preferred: TimeWindow | None = None
    now: datetime | None = None
    archive_now: bool = False

    @property
    def hard(self) -> bool:
        """True when the caller's dates limited what could be found."""
        return self.after is not None or self.before is not None

    def describe(self) -> str:
        """The hard window in words: 'published 2026-11-01 to 2026-11-05'."""
        lo = self.after.date().isoformat() if self.after else None
        hi = self.before.date().isoformat() if self.before else None
        if lo and hi:
            return f"published {lo} to {hi}" if lo != hi else f"published on {lo}"
        return f"published on or after {lo}" if lo else f"published on or before {hi}"


def search_notes(dates: SearchDates, passages: Sequence[Any]) -> tuple[str, ...]:
    """One-line notes about dates for an answer: the archive's own "now", an empty hard window, a
    preferred window that held nothing."""
    notes: list[str] = []
    if dates.archive_now and dates.preferred is not None and dates.now is not None:
        notes.append(f"The newest briefing is from {dates.now.date().isoformat()}, so \"{dates.preferred.phrase}\" "
                     f"was read as of that date, not today.")
    if not passages and dates.hard:
        notes.append(f"Only briefings {dates.describe()} were searched (the dates you set), and none matched.")
    elif dates.preferred is not None and passages:
        w = dates.preferred
        inside = [p for p in passages if p.published_at is not None and w.after <= p.published_at <= w.before]
        if not inside and any(p.published_at is not None for p in passages):
            notes.append(f"No briefing from {w.after.date().isoformat()} to {w.before.date().isoformat()} "
                         f"(\"{w.phrase}\") matched; the passages shown are from other dates or undated.")
    return tuple(notes)


ROLLING_WEEK_DAYS = 8  # "this week", "recently": the last 7 days and a day's margin


def question_window(question: str, as_of: datetime | None = None) -> TimeWindow | None:
    """The published-date window a question's time words ask for, against `as_of` (default: now).

    "this week" and "recently" are the last 7 days plus a day (rolling, not the calendar week); "today" is as_of's day; "yesterday"
    runs to the end of as_of too, since a day's news is often published the next morning; "last
    week"/"last month" are the previous calendar week/month; "in the past 3 days" and "since Monday"
    run up to as_of. Returns None when the question has no such words.
    """
    now = parse_date(as_of) if as_of is not None else datetime.now(timezone.utc)
    end = end_of_day(now)
    today = start_of_day(now)
    for rule in (_rolling, _since_day, _since_date, _ago, _on_day, _calendar, _recent, _dayword):
        got = rule(question, now, today, end)
        if got is not None:
            after, before, phrase = got
            return TimeWindow(after=after, before=min(before, end), phrase=" ".join(phrase.split()))
    return None


def _count(word: str | None) -> int:
    if not word:
        return 1
    word = " ".join(word.lower().split())
    return int(word) if word.isdigit() else _NUMBERS.get(word, 1)


def _back(now: datetime, n: int, unit: str) -> datetime:
    unit = unit.lower()
    if unit == "hour":
        return now - timedelta(hours=n)
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
    return start_of_day(now - timedelta(days=days))


def _rolling(q: str, now: datetime, today: datetime, end: datetime):
    m = _ROLLING.search(q) or _PAST_N.search(q)
    if m:
        return _back(now, _count(m.group(1)), m.group(2)), end, m.group(0)
    m = _PAST_UNIT.search(q)
    if m:
        return _back(now, 1, m.group(1)), end, m.group(0)
    return None


def _last_weekday(day: str, today: datetime) -> datetime:
    # The most recent such day on or before as_of: on a Monday, "since Monday" means today.
    back = (today.weekday() - _WEEKDAYS.index(day.lower())) % 7
    return today - timedelta(days=back)


def _since_day(q: str, now: datetime, today: datetime, end: datetime):
    m = _SINCE_DAY.search(q)
    return (_last_weekday(m.group(1), today), end, m.group(0)) if m else None


def _since_date(q: str, now: datetime, today: datetime, end: datetime):
    m = _SINCE.search(q)
    if not m:
        return None
    words = m.group(1).split()
    # "since 1 November the talks ..." : try the longest run of leading words that reads as a date.
    for n in range(min(len(words), 5), 0, -1):
        text = " ".join(words[:n]).rstrip(".")
        dt = parse_date(text, now=now) or _without_year(text, now)
        if dt is not None and dt <= end:
            return start_of_day(dt), end, f"since {text}"
    cal = _calendar(" ".join(words[:2]), now, today, end)  # "since last week": from that week's start
    return (cal[0], end, f"since {cal[2]}") if cal else None


def _without_year(text: str, now: datetime) -> datetime | None:
    # "since 1 November": the last such date on or before as_of.
    if not re.search(r"[a-z]", text, re.I) or re.search(r"\d{4}", text):
        return None
    for year in (now.year, now.year - 1):
        dt = parse_date(f"{text} {year}")
        if dt is not None and dt <= end_of_day(now):
            return dt
    return None


def _ago(q: str, now: datetime, today: datetime, end: datetime):
    m = _AGO.search(q)
    if not m:
        return None
    day = _back(now, _count(m.group(1)), m.group(2))
    # "three days ago" as a day (and the morning after, when it was reported); "a week ago" as that week.
    span = timedelta(days=7 if m.group(2).lower() == "week" else 1)
    return day, end_of_day(day + span), m.group(0)


def _on_day(q: str, now: datetime, today: datetime, end: datetime):
    m = _ON_DAY.search(q)
    if not m:
        return None
    day = _last_weekday(m.group(1), today)
    if m.group(0).lower().startswith("last") and day == today:
        day -= timedelta(days=7)
    return day, end_of_day(day + timedelta(days=1)), m.group(0)


def _calendar(q: str, now: datetime, today: datetime, end: datetime):
    m = _CALENDAR.search(q)
    if not m:
        return None
    which, unit = m.group(1).lower(), m.group(2).lower()
    if unit == "week":
        if which == "this":  # rolling: on a Thursday, Sunday's story is "this week" news
            return today - timedelta(days=ROLLING_WEEK_DAYS), end, m.group(0)
        start = today - timedelta(days=today.weekday())
        return start - timedelta(days=7), end_of_day(start - timedelta(days=1)), m.group(0)
    if unit == "month":
        start = today.replace(day=1)
        if which == "this":
            return start, end, m.group(0)
        prev = (start - timedelta(days=1)).replace(day=1)
        return prev, end_of_day(start - timedelta(days=1)), m.group(0)
    start = today.replace(month=1, day=1)
    if which == "this":
        return start, end, m.group(0)
    return start.replace(year=start.year - 1), end_of_day(start - timedelta(days=1)), m.group(0)


def _recent(q: str, now: datetime, today: datetime, end: datetime):
    m = _RECENT_WEEKS.search(q)
    if m:
        return today - timedelta(days=21), end, m.group(0)
    m = _RECENT.search(q)
    return (today - timedelta(days=ROLLING_WEEK_DAYS), end, m.group(0)) if m else None


def _dayword(q: str, now: datetime, today: datetime, end: datetime):
    # In capitals the word is a masthead or a show ("USA TODAY", "the TODAY show"), not the day.
    m = next((m for m in _DAYWORD.finditer(q) if not m.group(0).isupper()), None)
    if not m:
        return None
    if m.group(1).lower() == "yesterday":
        return today - timedelta(days=1), end, m.group(0)
    return today, end, m.group(0)
