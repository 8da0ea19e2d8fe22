"""Story timeline with a scripted model on a real embedded Chroma, and as_of with undated briefings."""

from __future__ import annotations

import json
import re

import pytest

from assistant.assistant import Assistant
from assistant.app.cli import main
from assistant.search.store import Store
from assistant.answer.timeline import TimelinePlan
from assistant.types import REFUSAL

from ..support.fakes import FakeEmbedder, ScriptedChat

QUESTION = "What happened with the energy strike pause?"
STORY = [
    {"id": "d1", "source": "Reuters", "title": "Energy talks open", "published_at": "2025-04-01T09:00:00Z",
     "body": "Energy talks opened in Riyadh on Tuesday. Delegations from Ukraine and Russia discussed a pause in "
             "strikes on energy facilities. No agreement on the pause was reached on the first day."},
    {"id": "d2", "source": "AP", "title": "Strike pause agreed", "published_at": "2025-04-02T10:00:00Z",
     "body": "Ukraine and Russia agreed to a 30-day pause in strikes on energy facilities. The pause began at "
             "midnight and covers power plants and substations."},
    {"id": "d3", "source": "BBC", "title": "Pause collapses", "published_at": "2025-04-03T18:00:00Z",
     "body": "The energy strike pause collapsed after a drone hit a substation near Kherson. Both sides blamed "
             "each other for breaking the pause."},
    # Mentions energy, but the model finds nothing about the pause: that date is left out.
    {"id": "d4", "source": "FT", "title": "Markets", "published_at": "2025-04-04T08:00:00Z",
     "body": "Energy prices in Europe rose slightly on Thursday as traders watched the weather forecasts closely."},
    {"id": "cocoa", "source": "AP", "title": "Cocoa", "published_at": "2025-04-05T08:00:00Z",
     "body": "Cocoa prices in Ghana hit a record as the harvest shrank for a third year in a row."},
    {"id": "undated", "source": "Blog", "title": "Background", "body": "Analysts explain why an energy strike pause is hard to monitor."},
]


class KeyedChat(ScriptedChat):
    """ScriptedChat whose replies may say {phrase}: replaced by the key of the evidence line containing it."""

    def _next(self, messages: list[dict]) -> str:
        text = super()._next(messages)
        lines = re.findall(r"^\[(\d+)\] (.*)$", messages[-1]["content"], re.M)

        def key(m: re.Match) -> str:
            for k, line in lines:
                if m.group(1).lower() in line.lower():
                    return f"[{k}]"
            raise AssertionError(f"no evidence line contains {m.group(1)!r}")

        return re.sub(r"\{([^}]+)\}", key, text)


@pytest.fixture
def keyed() -> KeyedChat:
    return KeyedChat()


@pytest.fixture
def story(settings, keyed, tmp_path) -> Assistant:
    embedder = FakeEmbedder()
    a = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder, llm=keyed)
    path = tmp_path / "story.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in STORY), encoding="utf-8")
    assert a.ingest([path]).ok
    return a


def _script(keyed: KeyedChat) -> None:
    keyed.enqueue(
        "Energy talks opened in Riyadh, but no agreement on the pause was reached {opened in Riyadh}{No agreement}.",
        "Ukraine and Russia agreed to a 30-day pause in strikes on energy facilities {agreed to a 30-day}.",
        "The energy strike pause collapsed after a drone hit a substation near Kherson {collapsed}.",
        REFUSAL,  # 2025-04-04: energy prices, nothing about the pause
        "On 2025-04-02 Ukraine and Russia agreed to a 30-day pause in strikes on energy facilities after talks "
        "opened in Riyadh on 2025-04-01 {agreed to a 30-day}{opened in Riyadh}. "
        "On 2025-04-03 the energy strike pause agreed on 2025-04-02 collapsed after a drone hit a substation "
        "{agreed to a 30-day}{collapsed}.",
    )


def test_timeline_answers_each_date_oldest_first_then_what_changed(story, keyed):
    _script(keyed)
    items = list(story.timeline_stream(QUESTION))
    plan, entries = items[0], items[1:]
    assert isinstance(plan, TimelinePlan)
    assert plan.dates == ["2025-04-01", "2025-04-02", "2025-04-03", "2025-04-04"]  # not cocoa, not undated
    assert [e.kind for e in entries] == ["date", "date", "date", "changes"]
    assert [e.as_of for e in entries[:3]] == ["2025-04-01", "2025-04-02", "2025-04-03"]  # the refused date is gone
    for entry in entries[:3]:
        assert entry.answerable and entry.citations
        by_chunk = {p.chunk_id: p for p in entry.passages}
        for c in entry.citations:
            assert by_chunk[c.chunk_id].published_at.date().isoformat() == entry.as_of
            assert story.article(c.article_id).body[c.start:c.end] == c.quote
        assert "(as of " + entry.as_of in str(entry)
    changes = entries[-1]
    assert changes.answerable and changes.as_of == "2025-04-03"
    by_chunk = {p.chunk_id: p for p in changes.passages}
    cited_dates = {by_chunk[c.chunk_id].published_at.date().isoformat() for c in changes.citations}
    assert cited_dates == {"2025-04-01", "2025-04-02", "2025-04-03"}
    for c in changes.citations:
        assert story.article(c.article_id).body[c.start:c.end] == c.quote
    # The comparison prompt saw only sentences the dated answers cited, under their dates.
    prompt = keyed.history[-1][-1]["content"]
    assert "2025-04-01" in prompt and "2025-04-03" in prompt and "Energy prices" not in prompt
    assert len(keyed.history) == 5 and keyed.replies == []


def test_one_date_gives_no_comparison(story, keyed):
    keyed.enqueue("Ukraine and Russia agreed to a 30-day pause in strikes on energy facilities {agreed to a 30-day}.")
    entries = story.timeline(QUESTION, since="2025-04-02", until="2025-04-02")
    assert [(e.kind, e.as_of) for e in entries] == [("date", "2025-04-02")]


def test_a_comparison_citing_one_date_is_left_out(story, keyed):
    keyed.enqueue(
        "Energy talks opened in Riyadh, but no agreement on the pause was reached {opened in Riyadh}{No agreement}.",
        "Ukraine and Russia agreed to a 30-day pause in strikes on energy facilities {agreed to a 30-day}.",
        "The energy strike pause collapsed after a drone hit a substation near Kherson {collapsed}.",
        REFUSAL,
        "The energy strike pause collapsed after a drone hit a substation {collapsed}.",
    )
    entries = story.timeline(QUESTION)
    assert [e.kind for e in entries] == ["date", "date", "date"] and keyed.replies == []


def test_a_change_naming_a_date_its_briefings_do_not_have_is_dropped(story, keyed):
    # The archive case: "On 2022-08-05 ... [3]" citing a 2022-11-09 article must not ship.
    keyed.enqueue(
        "Energy talks opened in Riyadh, but no agreement on the pause was reached {opened in Riyadh}{No agreement}.",
        "Ukraine and Russia agreed to a 30-day pause in strikes on energy facilities {agreed to a 30-day}.",
        "The energy strike pause collapsed after a drone hit a substation near Kherson {collapsed}.",
        REFUSAL,
        "On 2025-03-28 the energy strike pause agreed on 2025-04-02 collapsed after a drone hit a substation "
        "{agreed to a 30-day}{collapsed}.",
    )
    entries = story.timeline(QUESTION)
    assert [e.kind for e in entries] == ["date", "date", "date"]


def test_unrelated_question_has_an_empty_timeline(story, keyed):
    assert story.timeline("zebra quokka platypus?") == [] and keyed.history == []


def test_cli_timeline_json(story, keyed, capsys):
    _script(keyed)
    assert main(["timeline", QUESTION, "--json"], factory=lambda **overrides: story) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["kind"], d["as_of"]) for d in data] == [
        ("date", "2025-04-01"), ("date", "2025-04-02"), ("date", "2025-04-03"), ("changes", "2025-04-03")]


def test_as_of_keeps_undated_briefings_and_hides_later_ones(story):
    for mode in ("hybrid", "dense", "bm25"):
        got = {p.article_id for p in story.search("energy strike pause", k=10, mode=mode, as_of="2025-04-02")}
        assert "undated" in got and {"d1", "d2"} <= got, mode
        assert not got & {"d3", "d4", "cocoa"}, mode
        # An explicit date range still means dated briefings only.
        ranged = {p.article_id for p in story.search("energy strike pause", k=10, mode=mode, until="2025-04-02")}
        assert "undated" not in ranged and {"d1", "d2"} <= ranged, mode


def test_ui_timeline_toggle_shows_each_date_then_what_changed(story, keyed):
    from assistant.app.ui import Handlers

    _script(keyed)
    outputs = list(Handlers(story).respond(QUESTION, [], None, "", "", True))
    assert any("Answering for 2025-04-02" in out[0][-1]["content"] for out in outputs)  # progress while it runs
    chat_msgs, turns, panel = outputs[-1]
    html = chat_msgs[-1]["content"]
    assert html.index("2025-04-01") < html.index("2025-04-02") < html.index("2025-04-03") < html.index("What changed")
    assert "as of 2025-04-03" in html and "2025-04-04" not in html
    assert turns[-1]["text"].startswith("2025-04-01: Energy talks opened")
    assert panel.count("ba-tl-date") == 4 and "Sources for" in panel


HEDGED = [
    {"id": "h1", "source": "Reuters", "title": "Energy talks open", "published_at": "2025-04-01T09:00:00Z",
     "body": "Energy talks opened in Riyadh on Tuesday. Delegations from Ukraine and Russia discussed a pause in "
             "strikes on energy facilities."},
    {"id": "h2", "source": "AP", "title": "Strike pause agreed", "published_at": "2025-04-02T10:00:00Z",
     "body": "Ukraine and Russia agreed to a 30-day pause in strikes on energy facilities. Officials said the "
             "energy strike pause would cover power plants and substations."},
]


def test_a_change_is_never_shown_as_a_quote_of_one_date(settings, keyed, tmp_path):
    # The change drops who says so ("Officials said"); the gate's attributed-quote path would show the hedged
    # sentence of 2025-04-02 alone as "what changed": one date, and no change at all.
    embedder = FakeEmbedder()
    a = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder, llm=keyed)
    path = tmp_path / "hedged.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in HEDGED), encoding="utf-8")
    assert a.ingest([path]).ok
    keyed.enqueue(
        "Energy talks opened in Riyadh on Tuesday {opened in Riyadh}.",
        "Officials said the energy strike pause would cover power plants and substations {Officials said}.",
        "The energy strike pause would cover power plants and substations {opened in Riyadh}{Officials said}.",
    )
    entries = a.timeline(QUESTION)
    assert keyed.replies == []
    assert [e.kind for e in entries] == ["date", "date"]  # no "what changed" made of a one-date quote
