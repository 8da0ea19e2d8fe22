"""Question time words are a soft date preference (issue 17): they reorder, never empty the result;
"this week" is rolling; undated briefings stay; an archive resolves words against its newest
briefing; the caller's since/until stay hard and the retrieval says which window it searched."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from assistant.search.retrieve import Filters

from ..conftest import SEED


def _library(a, tmp_path, rows):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "title": t, "published_at": d, "body": b}) for i, t, d, b in rows),
                    encoding="utf-8")
    assert a.ingest([path]).added
    return a


RECALL = [
    # Sunday 12 June 2022; the quiz is asked on Thursday 16 June ("this week" by a news reader).
    ("sunday", "Automaker recall", "2022-06-12",
     "The automaker recalled pickup trucks over a faulty seat belt, regulators said."),
    ("may", "Earlier recall", "2022-05-10",
     "The automaker recalled pickup trucks over a faulty brake pedal, regulators said."),
    ("other", "Weather", "2022-06-15", "Heavy rain flooded the coast and closed schools."),
]


def test_time_words_never_empty_the_result(fake_assistant, tmp_path):
    a = _library(fake_assistant, tmp_path, RECALL)
    # Against today (years after the archive) the old hard filter left nothing at all.
    got = a.search("Which automaker recalled pickup trucks this week?")
    assert got and {"sunday", "may"} <= {p.article_id for p in got}
    got = a.search("Which automaker recalled pickup trucks this week?", as_of="2023-01-01")
    assert got and {"sunday", "may"} <= {p.article_id for p in got}


def test_rolling_week_keeps_a_sunday_story_for_a_thursday_question(fake_assistant, tmp_path):
    a = _library(fake_assistant, tmp_path, RECALL)
    got = [p.article_id for p in a.search("Which automaker recalled pickup trucks this week?", as_of="2022-06-16")]
    assert got[0] == "sunday", got
    # Without the words the two recalls tie on relevance; the words lift the week's story.
    r = a.retriever.retrieve("Which automaker recalled pickup trucks this week?",
                             filters=Filters.from_kwargs(as_of="2022-06-16"))
    assert r.dates.preferred.after <= datetime(2022, 6, 12, tzinfo=timezone.utc)
    assert not r.dates.hard and r.notes == ()


def test_undated_briefing_stays_a_candidate(fake_assistant, tmp_path):
    a = fake_assistant
    assert a.ingest([SEED]).added
    got = a.search("How did Trump describe his feelings about Putin earlier this week?")
    assert got, "the undated sample briefing answers this question"
    assert any("pissed off" in p.text for p in got)
    # Mixed with dated briefings of the same week, the undated one is still there.
    _library(a, tmp_path, [("fresh", "Markets", "2026-11-27", "Stocks rose on Friday as oil prices fell.")])
    got = a.search("How did Trump describe his feelings about Putin earlier this week?", as_of="2026-11-28")
    assert any("pissed off" in p.text for p in got)


def test_archive_resolves_time_words_against_its_newest_briefing(fake_assistant, tmp_path):
    a = _library(fake_assistant, tmp_path, RECALL)
    r = a.retriever.retrieve("Which automaker recalled pickup trucks this week?")
    assert r.dates.archive_now and r.dates.now.date().isoformat() == "2022-06-15"
    assert r.dates.preferred.after.date().isoformat() == "2022-06-07"
    assert [p.article_id for p in r.passages][0] == "sunday"
    assert any("2022-06-15" in n and "this week" in n for n in r.notes), r.notes
    # With as_of given, the caller's date is "now", never the archive's.
    r = a.retriever.retrieve("Which automaker recalled pickup trucks this week?",
                             filters=Filters.from_kwargs(as_of="2022-05-12"))
    assert not r.dates.archive_now and [p.article_id for p in r.passages] == ["may"]


def test_explicit_since_until_stay_hard_and_say_which_window(fake_assistant, tmp_path):
    a = _library(fake_assistant, tmp_path, RECALL)
    got = a.search("Which automaker recalled pickup trucks this week?", since="2022-06-14", until="2022-06-16")
    assert {p.article_id for p in got} <= {"other"}
    r = a.retriever.retrieve("automaker recall", filters=Filters.from_kwargs(since="2022-07-01", until="2022-07-31"))
    assert r.passages == [] and r.dates.hard
    assert r.notes == ("Only briefings published 2022-07-01 to 2022-07-31 were searched (the dates you set), "
                       "and none matched.",)


def test_preferred_window_with_nothing_in_it_is_noted(fake_assistant, tmp_path):
    a = _library(fake_assistant, tmp_path, RECALL)
    r = a.retriever.retrieve("Which automaker recalled pickup trucks yesterday?",
                             filters=Filters.from_kwargs(as_of="2022-07-20"))
    assert r.passages and any("yesterday" in n for n in r.notes), r.notes


BASE = ("Negotiators from both countries met in Geneva for a second round of talks on the grain corridor. "
        "The delegations discussed inspections of ships leaving the southern ports and the insurance of cargo. "
        "Officials said the meetings were held behind closed doors in a hotel near the lake. "
        "Both sides described the atmosphere as constructive but cautioned against expecting quick results. ")
ANSWER = "On Thursday the negotiators agreed to extend the grain corridor by 120 days, the mediator announced."


def test_a_developing_story_shows_its_latest_version_not_its_first(fake_assistant, tmp_path):
    a = _library(fake_assistant, tmp_path, [
        ("first", "Grain corridor talks", "2025-03-03", BASE),
        ("update", "Grain corridor talks", "2025-03-20", BASE + ANSWER),
    ])
    # One story (dedup.py groups them); its earliest version is the group's canonical article.
    assert a.store.article_records()["update"].dup_group == "first"
    # No time words, so no date prior: the fuller, better-matching version wins on relevance alone.
    got = a.search("How long did negotiators agree to extend the grain corridor?", as_of="2025-03-21")
    assert [p.article_id for p in got][:1] == ["update"], [p.article_id for p in got]
    assert "first" not in {p.article_id for p in got}  # still one article per story
    assert [p.article_id for p in a.search("grain corridor extended by 120 days this week", as_of="2025-03-21")][:1] == ["update"]
