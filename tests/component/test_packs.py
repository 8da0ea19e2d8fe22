"""Evidence packs and the conversation log through the real `briefing` command (scripted model, real Chroma)."""

from __future__ import annotations

import io
import json
import shutil

import functools

import pytest

import assistant.app.cli as cli
from assistant.types import REFUSAL

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"


@pytest.fixture
def a(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    return fake_assistant


@pytest.fixture
def main(a):
    """The real `briefing` command, building its assistant with a factory that returns `a`."""
    return functools.partial(cli.main, factory=lambda **overrides: a)


def stalling_answer(a) -> str:
    stream = a.ask_stream(QUESTION)
    key = next(e.key for e in next(stream).evidence if STALLING in e.text)
    stream.close()
    return f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}]."


def test_pack_round_trip_json(a, main, chat, tmp_path, capsys):
    pack = tmp_path / "pack.json"
    chat.enqueue(stalling_answer(a))
    assert main(["ask", QUESTION, "--format", "json", "--out", str(pack)]) == 0
    data = json.loads(pack.read_text())
    [cite] = data["citations"]
    body = a.article(cite["article_id"]).body
    assert data["question"] == QUESTION and data["answer"].startswith(STALLING)  # the bare "Yes." is not kept
    assert body[cite["start"]:cite["end"]] == cite["quote"] and len(cite["article_sha256"]) == 64
    assert {"title", "source", "url", "date", "support"} <= set(cite)
    capsys.readouterr()

    assert main(["verify", str(pack)]) == 0
    assert "1 of 1 quotes verified" in capsys.readouterr().out

    cite["quote"] = cite["quote"].replace("stalling", "racing")
    pack.write_text(json.dumps(data))
    assert main(["verify", str(pack)]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "not the quote" in out and "does NOT check out" in out


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_readable_packs_verify_and_catch_an_edited_visible_quote(a, main, chat, tmp_path, capsys, fmt):
    chat.enqueue(stalling_answer(a))
    assert main(["ask", QUESTION, "--format", fmt]) == 0
    text = capsys.readouterr().out
    assert STALLING in text and "sha256" in text
    pack = tmp_path / f"pack.{fmt}"
    pack.write_text(text)
    assert main(["verify", str(pack)]) == 0
    head, sep, tail = text.partition("briefing-evidence-pack")  # edit what readers see, not the data
    pack.write_text(head.replace("suspect they are stalling", "know they are stalling") + sep + tail)
    assert main(["verify", str(pack)]) == 1
    assert "shown in the pack differs" in capsys.readouterr().out


def test_verify_against_files_and_a_changed_article(a, main, chat, tmp_path, seed_dir, capsys):
    pack = tmp_path / "pack.json"
    chat.enqueue(stalling_answer(a))
    assert main(["ask", QUESTION, "--format", "json", "--out", str(pack)]) == 0
    copy = tmp_path / "copy"
    shutil.copytree(seed_dir, copy)
    assert main(["verify", str(pack), "--files", str(copy)]) == 0
    f = next(copy.iterdir())
    f.write_text(f.read_text().replace("Washington", "Washington D.C."))
    assert main(["verify", str(pack), "--files", str(copy), "--json"]) == 1
    out = capsys.readouterr().out
    report = json.loads(out[out.rindex('{\n  "ok"'):])
    assert report["ok"] is False and "text changed" in report["checks"][0]["reason"]


def test_not_a_pack_is_one_clear_line(a, main, tmp_path, capsys):
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    assert main(["verify", str(junk)]) == 1
    assert "is not an evidence pack" in capsys.readouterr().err


def test_ask_continue_log_and_stdin(a, main, chat, capsys, monkeypatch, settings):
    chat.enqueue(stalling_answer(a))
    assert main(["ask", QUESTION, "--json"]) == 0
    chat.enqueue("How close are Russia and China?", REFUSAL)  # the rewrite of the follow-up, then the answer
    monkeypatch.setattr("sys.stdin", io.StringIO("And China?\n"))
    assert main(["ask", "-", "-c", "--json"]) == 0
    assert QUESTION in json.dumps(chat.history[-2]) and "And China?" in json.dumps(chat.history[-2])
    chat.enqueue(REFUSAL)
    assert main(["ask", "Something new?", "--json"]) == 0  # no -c: a new conversation, no rewrite call
    assert len(chat.history) == 4
    capsys.readouterr()

    assert main(["log", "--json", "--data-dir", str(settings.data_dir)]) == 0
    turns = json.loads(capsys.readouterr().out)
    assert [t["question"] for t in turns] == [QUESTION, "And China?", "Something new?"]
    assert turns[0]["conversation"] == turns[1]["conversation"] != turns[2]["conversation"]
    assert turns[0]["answer_full"]["citations"] and turns[1]["answer"] == REFUSAL
    assert {t["source"] for t in turns} == {"cli"} and all(t["marked_wrong"] == [] for t in turns)
    assert main(["log", "--data-dir", str(settings.data_dir), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "Q: Something new?" in out and QUESTION not in out
    assert "(chat page)" not in out  # only the page's conversations are marked as such
    monkeypatch.setattr("sys.stdin", io.StringIO("  \n"))
    assert main(["ask", "-"]) == 2


def test_the_chat_page_offers_the_pack_of_the_latest_answer(a, chat):
    from pathlib import Path

    from assistant.answer.packs import read_pack, verify_pack
    from assistant.app.ui import Handlers

    h = Handlers(a)
    assert h.pack_file([])["visible"] is False  # nothing answered yet: no button
    chat.enqueue(stalling_answer(a))
    *_, (_, turns, _) = h.respond(QUESTION, [])
    update = h.pack_file(turns)
    assert update["visible"] is True
    path = Path(update["value"])
    assert path.suffix == ".html" and path.parent == Path(a.settings.data_dir) / "packs"
    pack, visible = read_pack(path)
    assert STALLING in visible and [c.ok for c in verify_pack(pack, a.article, visible)] == [True]


def test_verify_checks_the_answer_text(a, main, chat, tmp_path, capsys):
    # The quotes were all checked, but not the answer they stand behind: an edited answer verified.
    pack = tmp_path / "pack.json"
    chat.enqueue(stalling_answer(a))
    assert main(["ask", QUESTION, "--format", "json", "--out", str(pack)]) == 0
    data = json.loads(pack.read_text())
    capsys.readouterr()
    data["answer"] = data["answer"].replace("suspect", "know")
    pack.write_text(json.dumps(data))
    assert main(["verify", str(pack)]) == 1
    out = capsys.readouterr().out
    assert "answer: MISMATCH" in out and "sha256" in out and "does NOT check out" in out
    assert len(data["answer_sha256"]) == 64


def test_verify_rechecks_each_quoted_sentence_and_marker_of_the_answer(a, main, chat, tmp_path, capsys):
    from assistant.answer.packs import answer_sha256

    pack = tmp_path / "pack.json"
    chat.enqueue(stalling_answer(a))
    assert main(["ask", QUESTION, "--format", "json", "--out", str(pack)]) == 0
    data = json.loads(pack.read_text())
    [cite] = data["citations"]
    capsys.readouterr()

    def verify(answer: str) -> str:
        # Even with the hash made anew, the answer text must stand on the pack's checked quotes.
        data.update(answer=answer, answer_sha256=answer_sha256(answer))
        pack.write_text(json.dumps(data))
        code = main(["verify", str(pack), "--json"])
        report = json.loads(capsys.readouterr().out)
        assert report["ok"] is (code == 0)
        return " ".join(c["reason"] for c in report["answer_checks"] if not c["ok"])

    quoted = f"The briefing says: \u201c{cite['quote']}\u201d [{cite['key']}]"
    assert verify(quoted) == ""
    assert "not the quote of [" in verify(quoted.replace("suspect", "know"))
    assert "no citation [9]" in verify(quoted.replace(f"[{cite['key']}]", "[9]"))
    assert "sentence 2 cites nothing" in verify(data["answer"] + " Russia has already won.")
