"""From the page back to the eval (issue 29 item 7): the chat page's answers logged like the CLI's, the
'Wrong answer' mark, and `briefing log --export-eval` rows that `briefing eval` loads and fails on when
the flagged claim comes back. A scripted model on a real embedded Chroma."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import warnings

import gradio as gr
import pytest

import assistant.app.cli as cli
from assistant.answer.citations import MARKER
from assistant.app.conversations import Conversations
from assistant.app.eval_export import claim_pattern
from assistant.app.feedback import FLAG_OPTION, FeedbackError, answer_sentences, flag_form, save_flag
from assistant.app.ui import Handlers
from assistant.evaluation.compare import failures
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.runner import run_eval
from assistant.types import REFUSAL, EvidenceEvent

from ..support.eval_standins import StandInChecker

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"
PLAYED_DOWN = "President Vladimir Putin has played down the likelihood of a quick deal"
REASON = "The briefing says experts suspect it; the answer states it as fact."


def key_of(assistant, question: str, needle: str) -> int:
    stream = assistant.ask_stream(question)
    event = next(stream)
    stream.close()
    assert isinstance(event, EvidenceEvent)
    return next(e.key for e in event.evidence if needle in e.text)


def quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gr.Info / gr.Warning outside a request
        return fn(*args, **kwargs)


def ask(h: Handlers, question: str, turns: list) -> list:
    return quietly(lambda: list(h.respond(question, turns)))[-1][1]


def like(index: int, liked=FLAG_OPTION) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": "", "liked": liked})


def stalling_answer(assistant) -> str:
    return f"{STALLING} as Russian troops make progress on the battlefield [{key_of(assistant, QUESTION, STALLING)}]."


@pytest.fixture
def seeded(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    return fake_assistant


@pytest.fixture
def two_sentences(seeded):
    played, stalling = key_of(seeded, QUESTION, PLAYED_DOWN), key_of(seeded, QUESTION, STALLING)
    return (f"{STALLING} as Russian troops make progress on the battlefield [{stalling}]. "
            f"Privately, {PLAYED_DOWN} [{played}].")


@pytest.fixture
def log_cmd(seeded, settings):
    return functools.partial(cli.main, factory=lambda **_: seeded)


def test_page_answers_are_logged_as_page_conversations_that_briefing_log_shows(seeded, chat, settings, log_cmd,
                                                                                capsys):
    h = Handlers(seeded)
    chat.enqueue(stalling_answer(seeded))
    turns = ask(h, QUESTION, [])
    chat.enqueue("How close are Russia and China?", REFUSAL)  # the follow-up's rewrite, then its answer
    turns = ask(h, "And China?", turns)
    chat.enqueue(REFUSAL)
    fresh = ask(h, "Something new?", [])  # "New conversation" empties the page's turns

    assert turns[0]["logged"]["conversation"] == turns[1]["logged"]["conversation"]
    assert fresh[0]["logged"]["conversation"] != turns[0]["logged"]["conversation"]
    with Conversations(settings.data_dir) as convs:
        logged = convs.recent()
        assert [t.question for t in logged] == [QUESTION, "And China?", "Something new?"]
        assert {t.source for t in logged} == {"page"}
        assert json.loads(logged[0].answer_json)["citations"], "the whole answer is kept, citations too"
        assert convs.latest() is None, "`ask -c` must not continue a page user's conversation"

    assert log_cmd(["log", "--data-dir", str(settings.data_dir)]) == 0
    out = capsys.readouterr().out
    conversation = turns[0]["logged"]["conversation"]
    assert re.search(rf"#{conversation} \S+ \(chat page\)\nQ: {re.escape(QUESTION)}\nA: {STALLING}", out)
    assert log_cmd(["log", "--json", "--data-dir", str(settings.data_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["source"] for r in rows] == ["page"] * 3 and rows[0]["marked_wrong"] == []


def test_a_timeline_or_failed_turn_is_not_logged_and_cannot_be_marked(seeded, chat, settings):
    h = Handlers(seeded)
    chat.enqueue(RuntimeError("model down"))
    turns = ask(h, QUESTION, [])
    assert turns[0].get("logged") is None
    with pytest.raises(FeedbackError, match="only a finished answer"):
        flag_form(turns, 1)
    out = quietly(h.open_flag, turns, like(1))
    assert out[0] is None and out[1]["visible"] is False, "the form stays closed"
    with Conversations(settings.data_dir) as convs:
        assert convs.recent() == []


def test_the_flag_opens_the_form_and_save_stores_question_answer_citations_and_reason(seeded, chat, settings,
                                                                                      two_sentences, log_cmd, capsys):
    h = Handlers(seeded)
    chat.enqueue(two_sentences)
    turns = ask(h, QUESTION, [])
    marking, box, heading, kind, sentences, reason = quietly(h.open_flag, turns, like(1))
    assert marking == turns[0]["logged"]["turn"] and box["visible"] is True and QUESTION in heading
    assert kind["value"] == "wrong" and reason == ""
    shown = sentences["choices"]
    assert len(shown) == 2 and shown[0].startswith(STALLING) and not MARKER.search(" ".join(shown))
    # Un-choosing the option closes the form.
    assert quietly(h.open_flag, turns, like(1, liked=None))[:2] == (None, {"visible": False, "__type__": "update"})

    # Two sentences and none ticked: which one is wrong is the user's to say, not ours to guess.
    assert quietly(h.store_flag, turns, marking, "wrong", REASON, []) == (gr.skip(), gr.skip())
    assert quietly(h.store_flag, turns, marking, "wrong", "   ", [shown[0]]) == (gr.skip(), gr.skip())
    # After "New conversation" the form's answer is gone from the page: nothing is stored on another turn.
    chat.enqueue(REFUSAL)
    other = ask(h, "Something new?", [])
    assert quietly(h.store_flag, other, marking, "wrong", REASON, [shown[0]]) == (gr.skip(), gr.skip())
    assert quietly(h.store_flag, turns, marking, "wrong", REASON, [shown[0]]) == (None, {"visible": False,
                                                                                        "__type__": "update"})
    with Conversations(settings.data_dir) as convs:
        [flag] = convs.flags()
    assert (flag.kind, flag.reason, flag.wrong) == ("wrong", REASON, (shown[0],))
    assert flag.turn.question == QUESTION and flag.turn.answer == turns[0]["text"]
    cited = json.loads(flag.turn.answer_json)["citations"]
    assert {c["quote"] for c in cited} >= {c.quote for c in turns[0]["answer"].citations} and len(cited) == 2

    assert log_cmd(["log", "--data-dir", str(settings.data_dir)]) == 0
    assert f"Marked wrong (wrong) {flag.at}: {REASON}" in capsys.readouterr().out


def test_a_log_that_cannot_be_written_costs_the_page_no_answer(seeded, chat, settings, caplog):
    (settings.data_dir / "conversations.sqlite3").mkdir(parents=True)  # not a database
    chat.enqueue(stalling_answer(seeded))
    turns = ask(Handlers(seeded), QUESTION, [])
    assert turns[0]["text"].startswith(STALLING) and turns[0]["logged"] is None
    assert "the page's answer was not logged: cannot open the conversation log" in caplog.text


def test_mark_kinds_are_checked_against_the_answer(seeded, chat, settings):
    h = Handlers(seeded)
    chat.enqueue(REFUSAL)
    turns = ask(h, "What is the capital of Peru?", [])
    form = flag_form(turns, 1)
    assert form.kind == "should_answer" and form.sentences == () and form.turn_id == turns[0]["logged"]["turn"]
    with pytest.raises(FeedbackError, match="already says"):
        save_flag(settings.data_dir, turns, form.turn_id, "should_refuse", "no")
    with pytest.raises(FeedbackError, match="states nothing"):
        save_flag(settings.data_dir, turns, form.turn_id, "wrong", "no")
    with pytest.raises(FeedbackError, match="choose what is wrong"):
        save_flag(settings.data_dir, turns, form.turn_id, "rude", "no")
    with pytest.raises(FeedbackError, match="choose an answer"):
        save_flag(settings.data_dir, turns, form.turn_id + 1, "should_answer", "no")
    save_flag(settings.data_dir, turns, form.turn_id, "should_answer", "The Lima briefing says it.")
    with Conversations(settings.data_dir) as convs:
        assert [(f.kind, f.wrong) for f in convs.flags()] == [("should_answer", ())]


def test_export_eval_rows_load_and_catch_the_flagged_claim_in_a_real_eval_run(
        seeded, chat, settings, seed_dir, two_sentences, log_cmd, capsys, tmp_path, monkeypatch):
    from assistant.evaluation import judge

    monkeypatch.setattr(judge, "checker_class", lambda: StandInChecker)
    h = Handlers(seeded)
    chat.enqueue(two_sentences)
    turns = ask(h, QUESTION, [])
    wrong = answer_sentences(turns[0]["text"])[0]
    chat.enqueue("Is Russia stalling the talks on Ukraine?", REFUSAL)
    turns = ask(h, "And on Ukraine?", turns)
    first_id, follow_id = (t["logged"]["turn"] for t in turns)
    save_flag(settings.data_dir, turns, first_id, "should_refuse", "first thought")
    save_flag(settings.data_dir, turns, first_id, "wrong", REASON, [wrong])  # a turn's latest mark is the one kept
    save_flag(settings.data_dir, turns, follow_id, "should_answer", "The briefing covers Ukraine.")
    with Conversations(settings.data_dir) as convs:
        convs.add(convs.start("cli"), turns[0]["answer"])  # an unmarked CLI turn is not exported

    path = tmp_path / "flagged.jsonl"
    assert log_cmd(["log", "--data-dir", str(settings.data_dir), "--export-eval", str(path)]) == 0
    said = capsys.readouterr().out
    assert f"wrote 2 eval row(s) from 3 mark(s) to {path}" in said
    suggested = re.search(r"`briefing (eval [^`]+)`", said).group(1).split()
    assert cli._parser().parse_args(suggested).dataset == str(path), "the command it suggests must run"
    items = load_dataset(path)
    first, follow_up = items
    assert (first.question, first.answerable, first.qtype) == (QUESTION, True, "flagged:wrong")
    assert first.must_not_mention == (claim_pattern(wrong),) and REASON in first.note and not first.history
    assert (follow_up.answerable, follow_up.must_not_mention, follow_up.qtype) == (True, (), "flagged:should_answer")
    assert [t.content for t in follow_up.history] == [QUESTION, turns[0]["text"]]
    row = json.loads(path.read_text().splitlines()[0])
    assert row["flagged_answer"] == turns[0]["text"] and row["source"] == "page"
    assert {c["quote"] for c in row["flagged_citations"]} == {c.quote for c in turns[0]["answer"].citations}
    assert all(c["title"] for c in row["flagged_citations"])

    # The regression case: the same claim again fails the row; a different answer passes that check.
    only_first = tmp_path / "first.jsonl"
    only_first.write_text(path.read_text().splitlines()[0] + "\n")
    chat.enqueue(two_sentences)
    again = run_eval(only_first, [seed_dir], assistant=seeded, judge="guards", progress=False).cases[0]
    assert again.metrics["correctness.must_not_mention"] == 0.0 and again.said_patterns == [claim_pattern(wrong)]
    assert any(w.startswith("said what it must not") for w in failures(again))
    chat.enqueue(f"Privately, {PLAYED_DOWN} [{key_of(seeded, QUESTION, PLAYED_DOWN)}].")
    fixed = run_eval(only_first, [seed_dir], assistant=seeded, judge="guards", progress=False).cases[0]
    assert fixed.metrics["correctness.must_not_mention"] == 1.0 and fixed.said_patterns == []


def test_export_with_nothing_marked_writes_nothing_and_says_how(seeded, settings, log_cmd, capsys, tmp_path):
    path = tmp_path / "none.jsonl"
    assert log_cmd(["log", "--data-dir", str(settings.data_dir), "--export-eval", str(path)]) == 1
    assert "no answers are marked wrong yet" in capsys.readouterr().err and not path.exists()


def test_claim_pattern_matches_the_same_words_whatever_the_punctuation():
    pattern = claim_pattern("Russia is “stalling” for time.")
    assert re.search(pattern, "Yes: russia is stalling, for time [2].", re.I)
    assert not re.search(pattern, "Russia is not stalling for time.", re.I)
    assert not re.search(pattern, "Prussia is stalling for time.", re.I)


def test_a_log_from_before_the_page_kept_conversations_reads_as_the_clis(tmp_path, seeded, chat):
    db = sqlite3.connect(tmp_path / "conversations.sqlite3")
    db.executescript("""
        CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL);
        CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation INTEGER NOT NULL,
          at TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, answerable INTEGER NOT NULL,
          answer_json TEXT NOT NULL);
        INSERT INTO conversations(started) VALUES ('2026-12-01T10:00:00+00:00');
        INSERT INTO turns(conversation, at, question, answer, answerable, answer_json)
          VALUES (1, '2026-12-01T10:00:01+00:00', 'Old?', 'Old answer.', 1, '');""")
    db.commit()
    db.close()
    with Conversations(tmp_path) as convs:
        assert [(t.question, t.source) for t in convs.recent()] == [("Old?", "cli")]
        assert convs.latest() == 1
        page = convs.start("page")
        assert convs.latest() == 1 and convs.latest("page") == page
