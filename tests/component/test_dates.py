"""Dates: published dates in every shape news uses, and relative time in questions against as_of."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from assistant.dates import parse_date
from assistant.search.retrieve import Filters
from assistant.search.timewords import question_window

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)  # a Saturday: the fixed clock
AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-28", utc(2026, 11, 28)),
    ("2026-11-28T10:00:00Z", utc(2026, 11, 28, 10)),
    ("2026-11-28T10:00:00+02:00", utc(2026, 11, 28, 8)),
    ("Sat, 28 Nov 2026 10:00:00 GMT", utc(2026, 11, 28, 10)),  # RFC 822, as in RSS pubDate
    ("Fri, 27 Nov 2026 09:00:00 -0500", utc(2026, 11, 27, 14)),
    ("Sat, 28 Nov 2026 10:00:00 EST", utc(2026, 11, 28, 15)),
    ("28 November 2026", utc(2026, 11, 28)),
    ("28th November 2026", utc(2026, 11, 28)),
    ("Saturday, 28 November 2026", utc(2026, 11, 28)),
    ("November 28, 2026", utc(2026, 11, 28)),
    ("Nov. 28, 2026", utc(2026, 11, 28)),
    ("November 28, 2026 2:30 PM", utc(2026, 11, 28, 14, 30)),
    ("28.11.2026", utc(2026, 11, 28)),
    ("2 hours ago", utc(2026, 11, 28, 10)),
    ("an hour ago", utc(2026, 11, 28, 11)),
    ("3 days ago", utc(2026, 11, 25, 12)),
    ("1 week ago", utc(2026, 11, 21, 12)),
    ("yesterday", utc(2026, 11, 27)),
    ("Today", utc(2026, 11, 28)),
    ("just now", NOW),
])
def test_parse_date_shapes(text, expected):
    assert parse_date(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["", "   ", "nonsense", "Thursday", "12", "May", "ages ago", "2 fortnights ago"])
def test_parse_date_rejects_non_dates(text):
    assert parse_date(text, now=NOW) is None


def test_relative_dates_follow_the_clock():
    assert parse_date("2 hours ago", now=utc(2026, 1, 1, 1)) == utc(2025, 12, 31, 23)
    assert parse_date(1_700_000_000) == datetime.fromtimestamp(1_700_000_000, tz=timezone.utc)


@pytest.mark.parametrize("question, after, before", [
    # rolling, not the calendar week: the last 7 days and a day's margin
    ("What happened this week?", utc(2026, 11, 20), utc(2026, 11, 28, 23, 59, 59)),
    ("What has the envoy said recently?", utc(2026, 11, 20), utc(2026, 11, 28, 23, 59, 59)),
    ("talks in recent weeks", utc(2026, 11, 7), utc(2026, 11, 28, 23, 59, 59)),
    ("what happened today", utc(2026, 11, 28), utc(2026, 11, 28, 23, 59, 59)),
    # yesterday's news is often published this morning: the window runs to the end of as_of
    ("What did Lavrov say yesterday?", utc(2026, 11, 27), utc(2026, 11, 28, 23, 59, 59)),
    ("What changed last week?", utc(2026, 11, 16), utc(2026, 11, 22, 23, 59, 59)),
    ("What changed last month?", utc(2026, 10, 1), utc(2026, 10, 31, 23, 59, 59)),
    ("Any news this month?", utc(2026, 11, 1), utc(2026, 11, 28, 23, 59, 59)),
    ("Since Monday, what has Russia said?", utc(2026, 11, 23), utc(2026, 11, 28, 23, 59, 59)),
    ("What happened since 1 November?", utc(2026, 11, 1), utc(2026, 11, 28, 23, 59, 59)),
    ("What happened since 2026-11-20?", utc(2026, 11, 20), utc(2026, 11, 28, 23, 59, 59)),
    ("news in the past 3 days", utc(2026, 11, 25), utc(2026, 11, 28, 23, 59, 59)),
    ("talks over the last two weeks", utc(2026, 11, 14), utc(2026, 11, 28, 23, 59, 59)),
    ("What did he say on Tuesday?", utc(2026, 11, 24), utc(2026, 11, 25, 23, 59, 59)),
])
def test_question_windows(question, after, before):
    w = question_window(question, AS_OF)
    assert w is not None and (w.after, w.before) == (after, before), w


@pytest.mark.parametrize("question", [
    "Is Russia stalling?", "What is the latest on the talks?", "What was inflation in 2023?",
    "Has anything changed since the war began?", "What did they agree since then?",
    "Which state did USA TODAY call the happiest?",  # a masthead in capitals, not the day
])
def test_questions_without_publication_time_words(question):
    assert question_window(question, AS_OF) is None


def test_window_never_runs_past_as_of():
    w = question_window("anything this year?", utc(2026, 3, 2))
    assert w.after == utc(2026, 1, 1) and w.before == utc(2026, 3, 2, 23, 59, 59)


def test_filters_explicit_dates_win_over_question_words():
    f = Filters.from_kwargs(as_of="2026-11-28")
    resolved = f.for_question("what happened this week")
    # The words set a preference, never a hard bound.
    assert resolved.published_after is None and resolved.published_before is None
    assert (resolved.prefer.window.after, resolved.prefer.window.before) == (utc(2026, 11, 20), utc(2026, 11, 28, 23, 59, 59))
    explicit = Filters.from_kwargs(as_of="2026-11-28", since="2026-11-01")
    assert explicit.for_question("what happened this week") == explicit
    off = Filters.from_kwargs(as_of="2026-11-28", time_words=False)
    assert off.for_question("what happened this week") == off


def test_relative_filters_count_back_from_as_of():
    f = Filters.from_kwargs(as_of="2026-11-28", since="3 days ago", until="yesterday")
    assert f.published_after == utc(2026, 11, 25) and f.published_before == utc(2026, 11, 27, 23, 59, 59)


def test_python_callers_may_pass_dates_and_datetimes():
    # The Python API's natural types: `ask(q, as_of=date(2023, 1, 5))` was "as_of=datetime.date(...) is not a date".
    f = Filters.from_kwargs(as_of=date(2026, 11, 28), since=datetime(2026, 11, 1, 12, 0))
    assert f.as_of == utc(2026, 11, 28) and f.published_after == utc(2026, 11, 1, 12)
    assert parse_date(date(2026, 2, 3)) == utc(2026, 2, 3)


def _dated_library(fake_assistant, tmp_path):
    rows = [
        ("old", "2026-11-10", "The envoy first proposed talks on prisoner exchanges in Geneva."),
        ("monday", "2026-11-23", "The envoy said on Monday that talks on prisoner exchanges would resume."),
        ("friday", "Fri, 27 Nov 2026 16:00:00 GMT", "The envoy left Washington after talks on prisoner exchanges."),
    ]
    path = tmp_path / "dated.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "title": f"Envoy {i}", "published_at": d, "body": b})
                              for i, d, b in rows), encoding="utf-8")
    assert fake_assistant.ingest([path]).added
    return fake_assistant


def test_search_this_week_with_as_of(fake_assistant, tmp_path):
    a = _dated_library(fake_assistant, tmp_path)
    week = [p.article_id for p in a.search("What did the envoy say about prisoner exchanges this week?", as_of="2026-11-28")]
    # The week's briefings first; the older one stays a candidate (time words prefer, never filter).
    assert set(week[:2]) == {"monday", "friday"} and week[2:] == ["old"]
    # Explicit filters passed by the caller win over the question's words.
    explicit = a.search("envoy prisoner exchanges this week", as_of="2026-11-28", since="2026-11-01")
    assert {p.article_id for p in explicit} == {"old", "monday", "friday"}
    # as_of is hard: against an earlier as_of only the briefing published by then is seen.
    earlier = a.search("envoy prisoner exchanges this week", as_of="2026-11-12")
    assert {p.article_id for p in earlier} == {"old"}
    assert a.search("envoy prisoner exchanges yesterday", as_of="2026-11-28")[0].article_id == "friday"
    assert {p.article_id for p in a.search("envoy prisoner exchanges", as_of="2026-11-28")} == {"old", "monday", "friday"}


def test_reingesting_a_record_whose_date_or_title_changed_updates_it(fake_assistant, tmp_path):
    # Idempotency was keyed by the body alone: a record re-read with its date corrected (or read at last: a
    # scraper's "published" was ignored before) stayed undated, invisible to as_of and "this week".
    path = tmp_path / "pages.jsonl"
    body = "The envoy said on Monday that talks on prisoner exchanges would resume."

    def write(**fields):
        path.write_text(json.dumps({"id": "p-1", "title": "Envoy", "body": body, **fields}) + "\n", encoding="utf-8")
        return fake_assistant.ingest([path])

    assert write().added == ["p-1"]
    assert write().unchanged == ["p-1"]
    assert not fake_assistant.search("envoy prisoner exchanges", as_of="2026-11-28", since="2026-11-20")
    assert write(published="2026-11-23").updated == ["p-1"]
    found = fake_assistant.search("envoy prisoner exchanges", as_of="2026-11-28", since="2026-11-20")
    assert [(p.article_id, p.published_at) for p in found] == [("p-1", utc(2026, 11, 23))]
    assert write(published="2026-11-23").unchanged == ["p-1"]
    assert write(published="2026-11-23", title="Envoy returns").updated == ["p-1"]
    assert [p.title for p in fake_assistant.search("envoy prisoner exchanges")] == ["Envoy returns"]
    assert fake_assistant.store.count() == 1  # updated in place: no second copy of its chunks
