"""The short answer after a draft that gives nothing checked (issue 26: refuse when nothing the model wrote holds,
not when the draft is timid)."""

from __future__ import annotations

from assistant.answer.prompting import load_prompt
from assistant.answer.short import short_messages, short_span
from assistant.types import REFUSAL, EvidenceSentence

Q = "Who is Dmitriev expected to meet on Wednesday?"


def _with(a, **answer):
    a.settings = a.settings.model_copy(update={"answer": a.settings.answer.model_copy(update=answer)})
    a.answerer.settings = a.settings
    return a


def _ev(key: int, text: str) -> EvidenceSentence:
    return EvidenceSentence(key=key, article_id="a", chunk_id="a:0", text=text, start=0, end=len(text), score=1.0)


def test_the_short_request_repeats_the_draft_prompt_up_to_the_question():
    draft = load_prompt("answer").render(evidence="[1] Buffalo Bills player Damar Hamlin ...", refusal=REFUSAL,
                                         question="Which team does Damar Hamlin play for?")
    short = short_messages(draft, "Which team does Damar Hamlin play for?")
    assert short is not None and short[0] == draft[0]
    head = draft[-1]["content"].split("Question:")[0]
    assert short[-1]["content"].startswith(head + "Question: Which team does Damar Hamlin play for?\nReply with the "
                                                  "short answer only")
    # Not for a question a few words cannot answer, nor for a prompt whose question line is written otherwise.
    assert short_messages(load_prompt("answer").render(evidence="", refusal=REFUSAL, question="Why?"), "Why?") is None
    assert short_messages([{"role": "user", "content": "Q: Who won?"}], "Who won?") is None


def test_the_short_answer_must_stand_verbatim_in_an_evidence_sentence():
    ev = [_ev(1, "Buffalo Bills player Damar Hamlin remains hospitalized in Cincinnati."),
          _ev(2, "Time stood still when medics performed CPR on Buffalo Bills safety Damar Hamlin.")]
    q = "He is a valued member of which team?"
    span, key = short_span("Buffalo Bills [2]", q, ev)
    assert span.text == "Buffalo Bills" and key == 2  # the cited sentence, as it holds the words
    assert short_span("Buffalo Bills [7]", q, ev)[1] == 1  # else the first that does
    assert short_span("Cincinnati Bengals [1]", q, ev) is None  # not in the evidence
    assert short_span("none [1]", q, ev) is None and short_span("none", q, ev) is None
    assert short_span(REFUSAL, q, ev) is None and short_span("", q, ev) is None
    assert short_span("He is a valued member of a team [1].", q, ev) is None  # the question restated
    # A piece of a longer name is not the name: "Reedy Creek" of "the Reedy Creek Improvement Act".
    bill = [_ev(2, "One of the bills signed by DeSantis unravels the Reedy Creek Improvement Act, a Florida law.")]
    assert short_span("Reedy Creek [2]", "Disney opposed which of his bills?", bill) is None
    assert short_span("Reedy Creek Improvement Act [2]", "Disney opposed which of his bills?", bill)[1] == 2
    assert short_span("Bills [1]", q, ev) is None  # "Buffalo Bills", cut
    crowd = [_ev(3, "Crowds filled the streets in Brazil, President Lula said.")]
    assert short_span("Brazil [3]", "Crowds lined the streets of which country?", crowd)[1] == 3  # a comma ends a name


def _key(a, chat, needle):
    chat.enqueue(REFUSAL)
    return next(e.key for e in list(a.ask_stream(Q))[0].evidence if needle in e.text)


def test_a_refusing_draft_is_followed_by_the_short_answer_and_the_sentence_holding_it(fake_assistant, seed_dir, chat):
    a = _with(fake_assistant, style="quote", short_answer=False)
    a.ingest([seed_dir])
    key = _key(a, chat, "Witkoff")
    a = _with(a, short_answer=True)
    chat.history.clear()
    chat.enqueue(REFUSAL, f"Steve Witkoff [{key}]")
    answer = a.ask(Q)
    assert answer.answerable and answer.text.startswith(f"Steve Witkoff [{key}]. The briefing says: \u201c"), answer.text
    draft, short = chat.history
    assert short[0] == draft[0] and short[-1]["content"].startswith(draft[-1]["content"].split("Question:")[0])
    assert all(a.article(c.article_id).body[c.start:c.end] == c.quote for c in answer.citations)


def test_a_short_answer_no_evidence_sentence_holds_is_not_shown(fake_assistant, seed_dir, chat):
    a = _with(fake_assistant, style="quote", short_answer=False)
    a.ingest([seed_dir])
    key = _key(a, chat, "Witkoff")
    a = _with(a, short_answer=True)
    for reply in (f"Vladimir Putin [{key}]", "none"):
        chat.enqueue(REFUSAL, reply)
        answer = a.ask(Q)
        assert not answer.answerable and "Putin" not in answer.text, answer.text
    # Off: one request, as before.
    a = _with(a, short_answer=False)
    chat.history.clear()
    chat.enqueue(REFUSAL)
    assert not a.ask(Q).answerable and len(chat.history) == 1
