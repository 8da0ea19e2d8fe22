"""A question about a time is not answered from a briefing of another year (answer/reading.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from assistant.answer.reading import _without_stale
from assistant.search.retrieve import Filters
from assistant.types import Passage


def _p(article: str, published: str | None, title: str = "") -> Passage:
    when = datetime.fromisoformat(published).replace(tzinfo=timezone.utc) if published else None
    return Passage(article_id=article, chunk_id=f"{article}:0", title=title or article, source="", published_at=when,
                   section="", text="Liverpool won the final on Sunday.", start=0, end=10, score=1.0)


AS_OF = Filters.from_kwargs(as_of="2023-03-03")


def _dates(question: str, filters: Filters):
    """The dates a search reads for `question` under `filters`, as the retriever hands them to reading."""
    return filters.for_question(question).dates()
FINAL = "Which football team won the Carabao Cup final on Sunday?"


def test_a_briefing_from_a_year_before_the_week_asked_about_is_left_out_and_named():
    old, fresh, undated = _p("old", "2022-02-27", "Liverpool win the Carabao Cup"), _p("new", "2023-02-27"), \
        _p("undated", None)
    kept, note = _without_stale([old, fresh, undated], _dates(FINAL, AS_OF), days=30)
    assert kept == [fresh, undated]
    assert "Left out 1 briefing(s)" in note and "2022-02-27: Liverpool win the Carabao Cup" in note


def test_a_briefing_within_the_margin_stays():
    # "this week" is the 8 days to as_of; 30 days before that is still close enough to be this story.
    near = _p("near", "2023-02-01")
    assert _without_stale([near], _dates("Who resigned this week?", AS_OF), days=30) == ([near], "")


def test_nothing_is_left_out_without_as_of_time_words_or_with_the_callers_own_dates():
    old = _p("old", "2022-02-27")
    assert _without_stale([old], _dates(FINAL, Filters()), days=30) == ([old], "")  # "now" not fixed: maybe its week
    assert _without_stale([old], _dates("Which team won the Carabao Cup final?", AS_OF), days=30) == ([old], "")
    bounded = Filters.from_kwargs(as_of="2023-03-03", since="2022-01-01")
    assert _without_stale([old], _dates(FINAL, bounded), days=30) == ([old], "")
    assert _without_stale([old], _dates(FINAL, AS_OF), days=0) == ([old], "")  # turned off
