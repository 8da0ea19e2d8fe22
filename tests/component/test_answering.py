"""The answer pipeline end to end with a scripted model on a real embedded Chroma."""

import json

from assistant.app.cli import main
from assistant.types import REFUSAL, AnswerEvent, EvidenceEvent, StatusEvent, TextDelta


def _seeded(fake_assistant, seed_dir):
    report = fake_assistant.ingest([seed_dir])
    assert report.added
    return fake_assistant


def test_ask_returns_cited_answer_and_sends_evidence_as_data(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue("Many Western experts suspect Russian officials are stalling for time as Russian troops make progress [KEY].")
    # The key depends on evidence order; find it from a dry run of the evidence selection.
    events = list(a.ask_stream("Is Russia stalling for time?"))
    assert isinstance(events[0], EvidenceEvent) and isinstance(events[-1], AnswerEvent)
    ev = events[0].evidence
    key = next(e.key for e in ev if "stalling for time" in e.text)
    chat.enqueue(f"Many Western experts suspect Russian officials are stalling for time as Russian troops make progress [{key}].")
    answer = a.ask("Is Russia stalling for time?")
    assert answer.answerable
    assert [c.key for c in answer.citations] == [key]
    c = answer.citations[0]
    body = a.article(c.article_id).body
    assert body[c.start:c.end] == c.quote and "stalling for time" in c.quote
    system, user = chat.history[-1]
    assert system["role"] == "system" and REFUSAL in system["content"]
    assert "<evidence>" in user["content"] and f"[{key}] " in user["content"]
    assert "Question: Is Russia stalling for time?" in user["content"]
    assert answer.settings_hash and answer.latency_s > 0 and answer.model == "scripted"
    assert "Sources:" in str(answer) and f"[{key}]" in str(answer)


def test_stream_order_evidence_then_deltas_then_answer(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue(REFUSAL)
    kinds = [type(e) for e in a.ask_stream("What did the Chinese foreign minister say?")]
    assert kinds[0] is EvidenceEvent and kinds[-1] is AnswerEvent
    # A refusal shows no checked sentence: status lines only, never the draft.
    assert set(kinds[1:-1]) == {StatusEvent}


def test_model_refusal_is_a_normal_answer(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue(REFUSAL)
    answer = a.ask("What did Russia say about Ukraine?")
    assert not answer.answerable and answer.text == REFUSAL and answer.citations == []
    assert str(answer) == REFUSAL


def test_hallucinated_answer_becomes_refusal(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue("Ukraine has a population of about 38 million people [1].")
    answer = a.ask("What is the population of Ukraine?")
    assert not answer.answerable and answer.text == REFUSAL
    assert answer.sentences and not answer.sentences[0].kept


def test_irrelevant_question_is_refused_without_calling_the_model(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    answer = a.ask("zebra quokka platypus?")
    assert not answer.answerable and chat.history == []


def test_follow_up_is_rewritten_before_retrieval(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue("What did China's foreign minister say about Russia?", REFUSAL)
    history = [{"role": "user", "content": "Is Russia stalling?"},
               {"role": "assistant", "content": "Experts suspect it is [7]."}]
    answer = a.ask("and China?", history=history)
    assert answer.standalone_question == "What did China's foreign minister say about Russia?"
    rewrite_msgs = chat.history[0]
    assert "Follow-up: and China?" in rewrite_msgs[-1]["content"]
    assert "User: Is Russia stalling?" in rewrite_msgs[-1]["content"]
    assert "Question: What did China's foreign minister say about Russia?" in chat.history[1][-1]["content"]


def test_evidence_respects_the_token_budget(fake_assistant, seed_dir):
    a = _seeded(fake_assistant, seed_dir)
    from assistant.answer.evidence import select_evidence

    q = "Is Russia stalling?"
    qv = a.embedder.embed([q])[0]
    passages = a.search(q, k=6)
    small = select_evidence(a.embedder, q, qv, passages, 60)
    large = select_evidence(a.embedder, q, qv, passages, 2000)
    assert 1 <= len(small) < len(large)
    for e in large:
        assert a.article(e.article_id).body[e.start:e.end] == e.text


def test_passage_layout_shows_whole_passages_in_reading_order_within_the_budget(fake_assistant, seed_dir):
    a = _seeded(fake_assistant, seed_dir)
    from assistant.answer.evidence import best_first, select_evidence
    from assistant.sentences import sentence_spans

    q = "Is Russia stalling?"
    qv = a.embedder.embed([q])[0]
    passages = a.search(q, k=6)
    ev = select_evidence(a.embedder, q, qv, passages, 2000, layout="passages")
    # Reading order: one article, so the sentences go by position; the keys follow that order.
    assert [e.start for e in ev] == sorted(e.start for e in ev)
    assert [e.key for e in ev] == list(range(1, len(ev) + 1))
    # Whole passages: every taken passage contributes each of its sentences (headings aside), not a best few.
    taken = {e.chunk_id for e in ev}
    for p in passages:
        if p.chunk_id in taken:
            starts = {e.start for e in ev if e.chunk_id == p.chunk_id}
            body = [s for s, _ in sentence_spans(p.text, offset=p.start)]
            assert len(starts) >= len(body) - 2, (p.chunk_id, len(starts), len(body))
    for e in ev:
        assert a.article(e.article_id).body[e.start:e.end] == e.text
    # A small budget takes fewer passages, never a passage cut in half.
    small = select_evidence(a.embedder, q, qv, passages, 150, layout="passages")
    assert 1 <= len({e.chunk_id for e in small}) < len(taken)
    # The verifier and the quote candidates still see the strongest sentence first.
    top = select_evidence(a.embedder, q, qv, passages, 2000)[0]
    assert top.text in {e.text for e in ev}
    assert best_first(ev)[0].text == top.text


def test_section_layout_groups_the_best_sentences_under_one_header_each(fake_assistant, seed_dir):
    a = _seeded(fake_assistant, seed_dir)
    from assistant.answer.evidence import format_evidence, select_evidence

    q = "Is Russia stalling?"
    qv = a.embedder.embed([q])[0]
    passages = a.search(q, k=6)
    best = select_evidence(a.embedder, q, qv, passages, 700)
    grouped = select_evidence(a.embedder, q, qv, passages, 700, layout="sections")
    # The same sentences, the strongest still [1], each section's together: one header per section.
    assert sorted(e.text for e in grouped) == sorted(e.text for e in best)
    assert grouped[0].text == best[0].text
    sections = [(e.article_id, e.section) for e in grouped]
    assert len(set(sections)) > 1
    assert all(sections.index(s) == i or sections[i - 1] == s for i, s in enumerate(sections))
    headers = [line for line in format_evidence(grouped, "sections").splitlines() if line.startswith("## ")]
    assert len(headers) == len(set(sections))
    assert all(any(s and s in h for h in headers) for _, s in sections if s)


def test_best_first_evidence_names_the_article_once_and_no_section(fake_assistant, seed_dir):
    # Best first, the section changes on almost every line: naming it there cost ~190 prompt tokens (~2 s).
    a = _seeded(fake_assistant, seed_dir)
    from assistant.answer.evidence import format_evidence, select_evidence

    q = "Is Russia stalling?"
    qv = a.embedder.embed([q])[0]
    best = select_evidence(a.embedder, q, qv, a.search(q, k=6), 700)
    lines = format_evidence(best).splitlines()
    headers = [line for line in lines if line.startswith("## ")]
    assert len({e.section for e in best}) > 1 and len({e.article_id for e in best}) == 1
    assert headers == ["## " + best[0].title + " | undated"]
    assert [line for line in lines if not line.startswith("## ")] == [f"[{e.key}] {e.text}" for e in best]


def test_cli_ask_json_is_the_answer_only(fake_assistant, seed_dir, chat, capsys, settings):
    # The CLI builds its own Assistant from settings; give it ours (scripted model, fake embedder).
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue(REFUSAL)
    assert main(["ask", "What did Russia say?", "--json"], factory=lambda **overrides: a) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answerable"] is False and data["text"] == REFUSAL
    for field in ("question", "citations", "passages", "model", "usage", "latency_s", "settings_hash"):
        assert field in data


def test_a_follow_up_that_names_its_subject_is_answered_as_asked(fake_assistant, seed_dir, chat):
    """In a chat every question after the first comes with history; one that says what it is about needs
    no rewrite, so the model is asked only for the answer (the rewrite cost ~3 s per chat question)."""
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue(REFUSAL)
    history = [{"role": "user", "content": "Is Russia stalling?"},
               {"role": "assistant", "content": "Experts suspect it is [7]."}]
    answer = a.ask("What did China's foreign minister say about Russia?", history=history)
    assert answer.standalone_question == answer.question
    assert not any("rewr" in n or "answered as asked" in n for n in answer.notes), answer.notes
    assert len(chat.history) == 1 and "Follow-up:" not in str(chat.history[0])


def test_follow_up_that_cannot_be_resolved_says_so(fake_assistant, seed_dir, chat):
    from assistant.errors import LLMError

    from ..support.fakes import ScriptedChat

    class FailingRewrite(ScriptedChat):
        def complete(self, messages, **opts):
            raise LLMError("endpoint timed out")

    a = _seeded(fake_assistant, seed_dir)
    a._llm = FailingRewrite([REFUSAL])
    history = [{"role": "user", "content": "Who is Dmitriev meeting?"},
               {"role": "assistant", "content": "He is expected to meet Steve Witkoff."}]
    answer = a.ask("And what did China say?", history=history)
    assert answer.standalone_question == "And what did China say?"
    assert answer.notes and "answered as asked" in answer.notes[0] and "timed out" in answer.notes[0]
    # A rewrite that comes back empty is no better: the user is told as well.
    a._llm = ScriptedChat(["", REFUSAL])
    assert "rambled" in a.ask("And what did China say?", history=history).notes[0]


def test_quote_style_stops_the_draft_once_its_first_claim_is_complete(settings, seed_dir):
    """In quote style only the draft's first claim can lead, so the model is stopped as soon as that
    sentence is closed by its marker: not at the end of the draft, and not at the end of the stream
    (which costs ~1 s with the bundled server). A bare "Yes." is not a claim, so it does not stop it."""
    from assistant.assistant import Assistant
    from assistant.search.store import Store

    from ..support.fakes import FakeEmbedder, ScriptedChat

    class CountingChat(ScriptedChat):
        def stream(self, messages, **opts):
            self.sent, self.closed = 0, False
            try:
                for piece in super().stream(messages, **opts):
                    self.sent += 1
                    yield piece
            except GeneratorExit:
                self.closed = True
                raise

    s = settings.model_copy(update={"answer": settings.answer.model_copy(update={"style": "quote"})})
    embedder, chat = FakeEmbedder(), CountingChat()
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, embedder), embedder, llm=chat)
    a.ingest([seed_dir])
    question = "Who is Dmitriev expected to meet?"
    chat.enqueue(REFUSAL)
    key = next(e.key for e in list(a.ask_stream(question))[0].evidence if "Witkoff" in e.text)
    second = "He may also meet members of the Trump administration and discuss the war in Ukraine [1]."
    chat.enqueue(f"Yes. Dmitriev is expected to meet with US President Donald Trump's special envoy Steve Witkoff "
                 f"on Wednesday [{key}]. {second}")
    answer = a.ask(question)
    assert chat.closed, "the stream was read to its end"
    assert chat.sent == len(answer.raw_text.split()) and answer.raw_text.rstrip().endswith(f"Wednesday [{key}].")
    assert "Witkoff" in answer.text and "members of the Trump administration" not in answer.text
    assert answer.citations and all(c.key == key for c in answer.citations)


def test_a_draft_sentence_is_finished_when_its_markers_close_it_or_the_next_one_begins():
    from assistant.answer.verify import finished_claims

    assert finished_claims("Dmitriev will meet Witkoff on Wednesday [2]") is None  # "[2][3]" may follow
    assert finished_claims("Dmitriev will meet Witkoff on Wednesday [2].") == \
        [("Dmitriev will meet Witkoff on Wednesday.", [2])]
    assert finished_claims("Dmitriev will meet Witkoff. [2]") == [("Dmitriev will meet Witkoff.", [2])]
    # Every marker form split_answer reads closes a sentence too: "[S2]", "【2】", "[1-2]".
    assert finished_claims("Dmitriev will meet Witkoff [S2].") == [("Dmitriev will meet Witkoff.", [2])]
    assert finished_claims("Dmitriev will meet Witkoff \u30102\u3011.") == [("Dmitriev will meet Witkoff.", [2])]
    assert finished_claims("Dmitriev will meet Witkoff [1-2].") == [("Dmitriev will meet Witkoff.", [1, 2])]
    assert finished_claims("Dmitriev will meet Witkoff. [") is None
    assert finished_claims("Dmitriev will meet Witkoff. [2") is None  # the marker is not closed yet
    assert finished_claims("Dmitriev will meet Witkoff. He") == [("Dmitriev will meet Witkoff.", [])]
    assert finished_claims("Yes. Dmitriev") is None  # a bare yes stands on the next sentence
    assert finished_claims("Yes. [2]") is None
    assert finished_claims("The U.S. envoy") is None


def test_prose_style_reads_the_whole_draft(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue("Dmitriev is expected to meet Steve Witkoff [1]. He may meet members of the administration [1].")
    answer = a.ask("Who is Dmitriev expected to meet?")
    assert answer.raw_text.endswith("administration [1].")


def test_a_judge_that_fails_is_an_error_not_a_refusal(tmp_path, seed_dir):
    """Issue 27: a judge error or timeout became "The briefings don't say." with only a log line."""
    import pytest

    from assistant.assistant import Assistant
    from assistant.config import Settings
    from assistant.errors import LLMError
    from assistant.search.store import Store
    from tests.support.fakes import FakeEmbedder, ScriptedChat

    settings = Settings(data_dir=tmp_path / "judged", answer={"style": "prose", "judge": True})
    embedder, chat = FakeEmbedder(), ScriptedChat()
    a = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder, llm=chat)
    a.ingest([seed_dir])
    stream = a.ask_stream("Is Russia stalling for time?")
    key = next(e.key for e in next(stream).evidence if "stalling for time" in e.text)
    stream.close()
    chat.replies.clear()
    chat.enqueue(f"Western analysts think Russia is playing for time while its army advances [{key}].",
                 *[LLMError("the endpoint timed out")] * 8)
    events = []
    with pytest.raises(LLMError, match="could not be checked"):
        for event in a.ask_stream("Is Russia stalling for time?"):
            events.append(event)
    assert isinstance(events[0], EvidenceEvent) and events[0].evidence  # the evidence was shown first
    assert not any(isinstance(e, AnswerEvent) for e in events)


def test_an_answer_checked_without_the_judge_says_so(fake_assistant, seed_dir, chat):
    """The checker records that "answers the question" was decided without the judge; the answer carries it."""
    from assistant.answer.entailment import JUDGE_OFF_NOTE

    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue("Western analysts think Russia is playing for time [99].")  # nothing holds: the quote fallback runs
    answer = a.ask("Is Russia stalling for time?")
    assert JUDGE_OFF_NOTE in answer.notes


def test_a_yes_or_no_lead_must_pass_the_polarity_guard_not_only_the_judge(tmp_path, seed_dir):
    """Issue 27: "No, privately, Putin has played down the likelihood of a quick deal [1]" was shown when the
    judge said yes: the lead was judged alone and the polarity guard never saw it."""
    from assistant.assistant import Assistant
    from assistant.config import Settings
    from assistant.search.store import Store
    from tests.support.fakes import FakeEmbedder, ScriptedChat

    settings = Settings(data_dir=tmp_path / "judged", answer={"style": "prose", "judge": True})
    embedder, chat = FakeEmbedder(), ScriptedChat()
    a = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder, llm=chat)
    a.ingest([seed_dir])
    q = "Has Putin played down the chances of a quick deal?"
    stream = a.ask_stream(q)
    key = next(e.key for e in next(stream).evidence if "played down the likelihood" in e.text)
    stream.close()
    chat.replies.clear()
    chat.enqueue(f"No, privately, President Vladimir Putin has played down the likelihood of a quick deal [{key}].",
                 *["yes"] * 8)  # a judge that approves whatever it is asked
    answer = a.ask(q)
    assert answer.answerable
    assert not answer.text.startswith("No"), answer.text
    assert "played down the likelihood of a quick deal" in answer.text


def test_quote_on_refusal_quotes_what_answers_when_the_draft_is_timid(fake_assistant, seed_dir, chat):
    """BRIEFING_ANSWER__QUOTE_ON_REFUSAL: a draft that refuses is not the end when a sentence answers the question."""
    a = _seeded(fake_assistant, seed_dir)
    q = "Who is Dmitriev expected to meet on Wednesday?"
    chat.enqueue(REFUSAL)
    assert not a.ask(q).answerable  # off (the default): the draft's refusal stands
    a.settings = a.settings.model_copy(update={"answer": a.settings.answer.model_copy(update={"quote_on_refusal": True})})
    a.answerer.settings = a.settings
    chat.enqueue(REFUSAL)
    answer = a.ask(q)
    assert answer.answerable and "Steve Witkoff" in answer.text, answer.text
    assert all(a.article(c.article_id).body[c.start:c.end] == c.quote for c in answer.citations)


def test_a_refusal_says_what_the_briefings_say_closest_to_the_question(fake_assistant, seed_dir, chat):
    """Issue 26 item 5: the briefing has a German sanctions expert but no name; the refusal names the sentence
    that comes closest (verbatim, with its briefing), without claiming it answers."""
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue(REFUSAL)
    answer = a.ask("Which German sanctions expert recommended targeting Russian gas projects?")
    assert (answer.text, answer.answerable) == (REFUSAL, False)
    closest = [n for n in answer.notes if n.startswith("The closest the briefings come is [")]
    assert len(closest) == 1 and "a German sanctions expert argued" in closest[0], answer.notes
    assert "Russia envoy washington" in closest[0]


def test_no_closest_sentence_when_none_holds_half_the_questions_words(fake_assistant, seed_dir, chat):
    a = _seeded(fake_assistant, seed_dir)
    chat.enqueue(REFUSAL)
    answer = a.ask("How many barrels of Russian oil does China buy each day?")
    assert answer.text == REFUSAL and not any(n.startswith("The closest") for n in answer.notes), answer.notes
