"""The chat page's handlers, driven in Python: a scripted model on a real embedded Chroma."""

from __future__ import annotations

import html
import json
import re
import warnings

import gradio as gr
import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.errors import LLMError
from assistant.app.render import describe_model, esc, support_words
from assistant.app.render_sources import highlight, sources_html
from assistant.types import REFUSAL, EvidenceEvent
from assistant.app.handlers import history_of, messages
from assistant.app.ui import Handlers, build_app, launch_options, parse_history, safe_name

from ..support.fakes import ScriptedChat

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"
XSS_TITLE = "<script>alert(1)</script> Kremlin memo"
XSS_SENTENCE = "Officials said the Kremlin is stalling on the ceasefire talks <img src=x onerror=alert(1)> again."


def evidence_key(assistant: Assistant, question: str, needle: str) -> int:
    """The key the evidence sentence containing `needle` gets (the model is not called)."""
    stream = assistant.ask_stream(question)
    event = next(stream)
    stream.close()
    assert isinstance(event, EvidenceEvent)
    return next(e.key for e in event.evidence if needle in e.text)


def run(gen) -> list[tuple[list[dict], list[dict], str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gr.Warning outside a request becomes a UserWarning
        return list(gen)


@pytest.fixture
def seeded(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    return fake_assistant


def test_ask_streams_status_evidence_checked_sentences_then_cited_answer(seeded, chat):
    key = evidence_key(seeded, QUESTION, STALLING)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")
    outputs = run(Handlers(seeded).respond(QUESTION, [], 6, "", ""))

    first_chat, _, _ = outputs[0]
    assert [m["role"] for m in first_chat] == ["user", "assistant"] and "Searching" in first_chat[1]["content"]
    reading = [o for o in outputs if "Reading " in o[0][1]["content"]]
    assert reading, "the evidence must show before the model's text"
    assert re.search(r"Reading \d+ sentences from 1 briefing", reading[0][0][1]["content"])
    assert STALLING in reading[0][2], "the sources panel lists the evidence being read"
    checked = [o for o in outputs if "ba-checked" in o[0][1]["content"]]
    assert checked and outputs.index(checked[0]) > outputs.index(reading[0])
    # The model's bare "Yes." is part of its draft, which is never shown: only checked sentences are.
    assert not any("Yes" in o[0][1]["content"] for o in outputs)

    chat_msgs, turns, panel = outputs[-1]
    final = chat_msgs[-1]["content"]
    assert "ba-checked" not in final and "ba-status" not in final
    assert f'<sup class="ba-cite">[{key}]</sup>' in final
    assert turns[-1]["text"].endswith(f"[{key}].") and turns[-1]["question"] == QUESTION
    # The panel highlights exactly the cited span of the article body, numbered like the marker.
    body = seeded.article(seeded.articles()[0].id).body
    marked = re.search(rf'<mark data-key="{key}"><span class="ba-mark-key">{key}</span>(.*?)</mark>', panel)
    assert marked and STALLING in html.unescape(marked.group(1))
    assert html.unescape(marked.group(1)) in body
    assert re.search(r"Checked|Exact quote", panel) and "support (0." not in panel
    # The passage around the span is shown, not the whole article.
    assert "Kirill Dmitriev was reportedly visiting Washington" not in panel
    assert "SIGNALS" in panel  # the section of the cited passage
    gr.Chatbot().postprocess(chat_msgs)  # the messages are in the Chatbot's format
    assert len(chat.history) == 1 and QUESTION in chat.history[0][-1]["content"]


def test_follow_up_sends_the_conversation_as_history(seeded, chat):
    h = Handlers(seeded)
    key = evidence_key(seeded, QUESTION, STALLING)
    chat.enqueue(f"{STALLING} as Russian troops make progress on the battlefield [{key}].")
    _, turns, _ = run(h.respond(QUESTION, [], None, "", ""))[-1]
    first_answer = turns[0]["text"]
    chat.enqueue("How close are Russia and China?", REFUSAL)
    _, turns, _ = run(h.respond("And China?", turns, None, "", ""))[-1]

    rewrite = json.dumps(chat.history[1])
    assert "And China?" in rewrite and QUESTION in rewrite and first_answer[:40] in rewrite
    assert "How close are Russia and China?" in chat.history[2][-1]["content"]
    assert [t["question"] for t in turns] == [QUESTION, "And China?"]
    assert history_of(turns)[:2] == [{"role": "user", "content": QUESTION},
                                     {"role": "assistant", "content": first_answer}]


def test_refusal_looks_like_a_note_not_an_error(seeded, chat):
    chat.enqueue(REFUSAL)
    chat_msgs, turns, panel = run(Handlers(seeded).respond(QUESTION, [], None, "", ""))[-1]
    content = chat_msgs[-1]["content"]
    assert "ba-refusal" in content and esc(REFUSAL) in content
    assert "ba-error" not in content and "Could not answer" not in content
    assert "<mark" not in panel and "No sources: none of the sentences read answers" in panel
    assert STALLING in panel  # what was read stays visible, so the reader can judge the refusal
    assert turns[-1]["text"] == REFUSAL


def test_llm_down_is_an_error_line_and_the_next_question_still_works(seeded, chat):
    class DownChat(ScriptedChat):
        def stream(self, messages, **_):
            raise LLMError("connection refused by http://127.0.0.1:9")

    down = Assistant(seeded.settings, seeded.store, seeded.embedder, llm=DownChat())
    with pytest.warns(UserWarning, match="connection refused"):
        chat_msgs, turns, _ = list(Handlers(down).respond(QUESTION, [], None, "", ""))[-1]
    content = chat_msgs[-1]["content"]
    assert "ba-error" in content and "connection refused" in content and "BRIEFING_LLM__BASE_URL" in content
    assert history_of(turns) == []  # a failed turn is not sent to the model as context
    chat.enqueue(REFUSAL)
    chat_msgs, turns, _ = run(Handlers(seeded).respond("Is the Kremlin stalling?", turns, None, "", ""))[-1]
    assert len(chat_msgs) == 4 and "ba-refusal" in chat_msgs[-1]["content"]


def test_bad_date_filter_is_reported_in_the_chat(seeded):
    chat_msgs, _, _ = run(Handlers(seeded).respond(QUESTION, [], None, "last spring", ""))[-1]
    assert "ba-error" in chat_msgs[-1]["content"] and "YYYY-MM-DD" in chat_msgs[-1]["content"]


def test_date_range_is_applied_to_the_ask(fake_assistant, tmp_path, chat):
    (tmp_path / "2025-04-02-old.txt").write_text("The Kremlin is stalling on ceasefire talks, diplomats said.\n")
    (tmp_path / "2025-05-20-new.txt").write_text("Moscow keeps stalling on ceasefire talks, envoys said.\n")
    fake_assistant.ingest([tmp_path / "2025-04-02-old.txt", tmp_path / "2025-05-20-new.txt"])
    chat.enqueue(REFUSAL)
    run(Handlers(fake_assistant).respond("Who is stalling on ceasefire talks?", [], None, "2025-05-01", ""))
    prompt = chat.history[0][-1]["content"]
    assert "Moscow keeps stalling" in prompt and "Kremlin is stalling" not in prompt


def test_xss_article_and_model_output_are_escaped_everywhere(fake_assistant, tmp_path, chat):
    record = {"id": "xss", "title": XSS_TITLE, "source": "<b>Wire</b>", "published_at": "2025-04-03",
              "body": f"Background paragraph about talks.\n{XSS_SENTENCE}\nClosing line here."}
    (tmp_path / "x.jsonl").write_text(json.dumps(record) + "\n")
    assert fake_assistant.ingest([tmp_path / "x.jsonl"]).added == ["xss"]
    question = "Is the Kremlin stalling on the ceasefire talks?"
    key = evidence_key(fake_assistant, question, "stalling")
    chat.enqueue(f"<script>alert(2)</script> The Kremlin is stalling on the ceasefire talks "
                 f"<img src=x onerror=alert(2)> again [{key}].")
    outputs = run(Handlers(fake_assistant).respond(question, [], None, "", ""))
    _, _, panel = outputs[-1]
    assert "<mark" in panel and 'data-key="' in panel
    every = "".join(m["content"] for o in outputs for m in o[0]) + "".join(o[2] for o in outputs)
    for raw in ("<script", "<img", "<b>", "onerror=alert(1)>"):
        assert raw not in every
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel and esc(XSS_TITLE) in panel
    assert "&lt;b&gt;Wire&lt;/b&gt;" in panel
    # The model's markup never reaches the page: its draft is not streamed, and the checked text has none.
    assert "alert(2)" not in every
    table, _ = Handlers(fake_assistant).library()
    assert "<script" not in table and esc(XSS_TITLE) in table


def test_upload_accepts_supported_files_and_rejects_others_with_reasons(fake_assistant, tmp_path):
    fake_assistant.settings.ui.max_upload_mb = 0.001  # 1,000 bytes
    good = tmp_path / "2025-04-02 Kremlin brief (v2).md"
    good.write_text("# Kremlin brief\n\nThe Kremlin is stalling on the talks, officials said.\n")
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    big = tmp_path / "big.txt"
    big.write_text("word " * 400)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.warns(UserWarning) as caught:
        report, table, picker = Handlers(fake_assistant).upload([str(good), str(pdf), str(big), str(empty)])
    warned = " ".join(str(w.message) for w in caught)
    assert "notes.pdf" in warned and "big.txt" in warned and "empty.txt" in warned
    assert "Added 1" in report and "Kremlin brief" in report
    assert "notes.pdf: .pdf files are not supported; upload txt, md, html, json or jsonl" in report
    assert "big.txt: 2.0 kB is over the 0.001 MB upload limit" in report
    assert "empty.txt: the file is empty" in report
    uploads = fake_assistant.settings.data_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["2025-04-02-Kremlin-brief-v2.md"]
    assert "Kremlin brief" in table and "2 Apr 2025" in table
    [(label, aid)] = picker["choices"]
    assert "Kremlin brief" in label and fake_assistant.article(aid) is not None
    origin = fake_assistant.article(aid).origin
    assert origin.startswith(str(uploads.resolve()))


def test_reupload_with_the_same_name_updates_the_article_only_when_asked(fake_assistant, tmp_path):
    h = Handlers(fake_assistant)
    f = tmp_path / "brief.txt"
    f.write_text("Moscow is stalling on the talks, officials said.\n")
    assert "Added 1" in h.upload([str(f)])[0]
    f.write_text("Moscow is no longer stalling on the talks, officials said.\n")
    report, _, picker = h.upload([str(f)], True)  # the page's "Replace earlier uploads with the same name"
    assert "updated 1" in report and len(picker["choices"]) == 1
    assert "no longer" in fake_assistant.article(picker["choices"][0][1]).body


def test_same_name_upload_from_another_session_never_replaces_an_article(fake_assistant, tmp_path):
    """Two browser sessions (two Handlers over one assistant) upload different notes.txt files: both
    articles stay. The same bytes again are unchanged, not a third copy."""
    alice, bob = Handlers(fake_assistant), Handlers(fake_assistant)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    mine, theirs = tmp_path / "a" / "notes.txt", tmp_path / "b" / "notes.txt"
    mine.write_text("Alice's note: the envoy met officials in Washington on Tuesday.\n")
    theirs.write_text("Bob's note: talks resumed in Geneva on Friday, diplomats said.\n")
    assert "Added 1" in alice.upload([str(mine)])[0]
    report, _, picker = bob.upload([str(theirs)])
    assert "Added 1" in report and "updated 0" in report and "notes-2.txt" in report
    bodies = sorted(fake_assistant.article(aid).body for _, aid in picker["choices"])
    assert len(bodies) == 2 and bodies[0].startswith("Alice's note") and bodies[1].startswith("Bob's note")
    uploads = fake_assistant.settings.data_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["notes-2.txt", "notes.txt"]
    report, _, picker = alice.upload([str(mine)])  # the same content again: nothing new
    assert "unchanged 1" in report and "Added 0" in report and len(picker["choices"]) == 2
    assert sorted(p.name for p in uploads.iterdir()) == ["notes-2.txt", "notes.txt"]


def test_upload_without_files_asks_for_some(fake_assistant):
    report, table, _ = Handlers(fake_assistant).upload([])
    assert "Choose one or more files" in report and "library is empty" in table


def test_safe_names_stay_inside_the_upload_folder():
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\evil.JSONL") == "evil.jsonl"
    assert safe_name("Résumé 2025-04-02 <x>.TXT") == "Resume-2025-04-02-x.txt"
    assert safe_name(".hidden.md") == "hidden.md"
    assert safe_name("...") == "upload"


def test_delete_removes_an_article_and_says_so(seeded):
    h = Handlers(seeded)
    aid = seeded.articles()[0].id
    notice, table, picker = h.delete(aid)
    assert "Deleted" in notice and "Russia envoy washington" in notice
    assert picker["choices"] == [] and "library is empty" in table
    assert seeded.article(aid) is None
    notice, _, _ = h.delete(aid)
    assert "no longer in the library" in notice
    notice, _, _ = h.delete(None)
    assert "Choose an article" in notice


def test_api_ask_returns_the_answer_as_json(seeded, chat):
    key = evidence_key(seeded, QUESTION, STALLING)
    chat.enqueue(f"{STALLING} as Russian troops make progress on the battlefield [{key}].")
    out = Handlers(seeded).api_ask(QUESTION, "", 0)
    assert out["answerable"] is True and out["citations"][0]["key"] == key
    json.dumps(out)
    with pytest.raises(gr.Error, match="history must be"):
        Handlers(seeded).api_ask(QUESTION, '{"role": "user"}')
    with pytest.raises(gr.Error, match="not valid JSON"):
        parse_history("[{")
    assert parse_history('[{"role": "user", "content": "hi"}]') == [{"role": "user", "content": "hi"}]


def test_highlight_uses_the_stored_passage_when_the_article_changed(seeded, chat):
    key = evidence_key(seeded, QUESTION, STALLING)
    chat.enqueue(f"{STALLING} as Russian troops make progress on the battlefield [{key}].")
    answer = seeded.ask(QUESTION)
    c = answer.citations[0]
    p = next(p for p in answer.passages if p.chunk_id == c.chunk_id)
    shifted = "NEW LEAD PARAGRAPH.\n" + seeded.article(c.article_id).body
    for body in (shifted, None):
        out = highlight(p, [c], body)
        assert f"{esc(c.quote)}</mark>" in out
    assert "NEW LEAD" not in sources_html(answer, {c.article_id: shifted})


def test_support_words_and_model_description_never_leak_secrets(tmp_path):
    assert [support_words(x) for x in (0.9, 0.6, 0.45)] == ["strong support", "moderate support", "weak support"]
    s = Settings(data_dir=tmp_path, llm={"base_url": "https://bob:hunter2@llm.example.com:8443/v1?key=abc",
                                         "api_key": "sk-secret-123", "model": "gpt-x"})
    assert describe_model(s) == "gpt-x at https://llm.example.com:8443/v1"
    assert "bundled local model" in describe_model(Settings(data_dir=tmp_path))


def test_app_exposes_only_the_named_api_and_never_the_key(tmp_path, fake_assistant):
    s = Settings(data_dir=tmp_path / "d", llm={"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-secret-123"},
                 ui={"auth": "ann:pw:with:colons"})
    a = Assistant(s, fake_assistant.store, fake_assistant.embedder, llm=ScriptedChat())
    app = build_app(a)
    assert sorted(app.get_api_info()["named_endpoints"]) == ["/articles", "/ask", "/delete_article", "/ingest", "/search",
                                                             "/sources", "/timeline"]
    assert "sk-secret-123" not in json.dumps(app.config, default=str)
    assert "127.0.0.1:9/v1" in json.dumps(app.config, default=str)
    opts = launch_options(s)
    assert opts["auth"] == ("ann", "pw:with:colons") and opts["share"] is False
    assert (opts["server_name"], opts["server_port"]) == ("127.0.0.1", 7860)
    assert launch_options(s, host="0.0.0.0", port=9000, share=True)["share"] is True


def test_messages_escape_the_question():
    msgs = messages([{"question": "<img src=x onerror=alert(1)>", "html": "<p>ok</p>", "text": None}])
    assert msgs[0]["content"] == '<div class="ba-question">&lt;img src=x onerror=alert(1)&gt;</div>'


def test_corrected_markers_and_dropped_sentences_are_shown_discreetly(seeded, chat):
    right = evidence_key(seeded, QUESTION, STALLING)
    wrong = evidence_key(seeded, QUESTION, "weaker partner")
    chat.enqueue(f"{STALLING} as Russian troops make progress on the battlefield [{wrong}]. "
                 "Putin wants a pony [99].")
    chat_msgs, _, panel = run(Handlers(seeded).respond(QUESTION, [], None, "", ""))[-1]
    final = chat_msgs[-1]["content"]
    assert f"[{right}]" in final and "pony" not in final
    assert "1 unsupported sentence removed" in final and "1 citation corrected by the checker" in final
    assert "Checker: 1 sentence removed" in panel and "1 citation corrected" in panel
    # What was removed is described, not shown: the page carries checked sentences only.
    assert "Putin wants a pony" not in panel and "A sentence of the draft was removed" in panel
    assert "marker corrected by the checker" in panel
    assert f'<mark data-key="{right}">' in panel and f'data-key="{wrong}"' not in panel
