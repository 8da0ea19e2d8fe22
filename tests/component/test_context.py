"""Evidence in context (answer/context.py and the "articles" layout): whole articles in a fixed order when
they fit, a pronoun opener never shown without the sentence it points back to."""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.context import opens_on_pronoun, whole_articles, widen
from assistant.answer.evidence import format_evidence, select_evidence


def _seeded(a, seed_dir):
    a.ingest([seed_dir])
    return a


def _evidence(a, q, budget=1200):
    qv = a.embedder.embed([q])[0]
    passages = a.search(q, k=6)
    bodies = a.store.bodies(p.article_id for p in passages)
    read = whole_articles(passages, bodies, budget, a.embedder.count_tokens) or widen(passages, bodies)
    return passages, read, select_evidence(a.embedder, q, qv, read, budget, layout="articles")


def test_a_briefing_that_fits_is_read_whole_and_the_same_for_every_question(fake_assistant, seed_dir):
    a = _seeded(fake_assistant, seed_dir)
    blocks = set()
    for q in ("Is Russia stalling?", "Who is Kirill Dmitriev meeting in Washington?",
              "What did China's foreign minister say about Russia?"):
        passages, read, ev = _evidence(a, q)
        assert len(read) == 1 and read[0].start == 0  # the whole article, not the retrieved chunks
        body = a.article(ev[0].article_id).body
        assert all(body[e.start:e.end] == e.text for e in ev)
        assert [e.start for e in ev] == sorted(e.start for e in ev)
        blocks.add(format_evidence(ev, "articles"))
    # Same evidence block whatever the question: the model server can reuse the prompt it has read.
    assert len(blocks) == 1
    block = blocks.pop()
    assert sum(line.startswith("## ") for line in block.splitlines()) == 1  # one header for the article
    assert "### SIGNALS \u203a Trump\u2019s patience may be wearing thin" in block
    assert "Steve Witkoff" in block and "friends forever" in block


def test_articles_that_do_not_fit_fall_back_to_passages_in_reading_order(fake_assistant, seed_dir):
    a = _seeded(fake_assistant, seed_dir)
    passages, read, ev = _evidence(a, "Is Russia stalling?", budget=300)
    assert all(p.start > 0 or p.end < len(a.article(p.article_id).body) for p in read)
    assert 1 <= len(ev) and [e.start for e in ev] == sorted(e.start for e in ev)
    # each evidence sentence points at the retrieved chunk that holds it
    chunks = {p.chunk_id: p for p in passages}
    for e in ev:
        if e.chunk_id in chunks:
            p = chunks[e.chunk_id]
            assert p.start <= e.start < p.end or e.start < p.start  # a widened passage's sentence before it


def test_a_passage_opening_on_a_pronoun_brings_the_sentence_before_it(fake_assistant, seed_dir):
    a = _seeded(fake_assistant, seed_dir)
    p = a.search("Is Russia stalling?", k=1)[0]
    body = "Boris Johnson spoke on Tuesday. He still insisted he was not going to resign. Rain fell."
    opener = body.index("He still")
    chunk = replace(p, text=body[opener:], start=opener, end=len(body))
    assert whole_articles([chunk], {p.article_id: body}, 1, len) is None  # budget 1: never the whole article
    widened = widen([chunk], {p.article_id: body})[0]
    assert widened.start == 0 and widened.text == body  # "He" comes with "Boris Johnson"
    plain = replace(p, text=body[:31], start=0, end=31)
    assert widen([plain], {p.article_id: body})[0] == plain
    assert opens_on_pronoun("“They are dropping a new single.”") and opens_on_pronoun("This comes after")
    assert not opens_on_pronoun("Theresa May said") and not opens_on_pronoun("Thesis defended")


def test_a_best_sentence_that_opens_on_a_pronoun_is_shown_with_the_sentence_before_it():
    from assistant.types import Passage
    from tests.support.fakes import FakeEmbedder

    text = ("Boris Johnson spoke to reporters on Tuesday. He still insisted he was not going to resign. "
            "Rain fell over London all afternoon.")
    p = Passage(article_id="a", chunk_id="a:0", title="PM", source="x", published_at=None, section="",
                text=text, start=0, end=len(text), score=1.0)
    e = FakeEmbedder()
    q = "Did he insist he was not going to resign?"
    ev = select_evidence(e, q, e.embed([q])[0], [p], 40)  # room for about one sentence
    texts = [x.text for x in ev]
    i = texts.index("He still insisted he was not going to resign.")
    assert i > 0 and texts[i - 1] == "Boris Johnson spoke to reporters on Tuesday."


def test_articles_too_long_to_read_whole_are_read_as_the_best_sentences(fake_assistant, seed_dir, chat):
    from assistant.types import EvidenceEvent

    a = _seeded(fake_assistant, seed_dir)
    a.settings = a.settings.model_copy(update={"evidence_layout": "articles", "whole_article_tokens": 100})
    a.answerer.settings = a.settings
    chat.enqueue("The briefings don't say.")
    events = list(a.ask_stream("Is Russia stalling?"))
    ev = next(x for x in events if isinstance(x, EvidenceEvent)).evidence
    scores = [x.score for x in ev]
    assert scores == sorted(scores, reverse=True) and [x.start for x in ev] != sorted(x.start for x in ev)  # best first
    assert "### " not in chat.history[-1][-1]["content"]


def test_a_briefing_that_fits_the_whole_article_budget_is_read_whole_whatever_the_sentence_budget(fake_assistant,
                                                                                                  seed_dir, chat):
    """The decision to read whole is taken against BRIEFING_WHOLE_ARTICLE_TOKENS; the sentence budget
    (BRIEFING_CONTEXT_TOKENS) then cut the whole article back to a best few, still laid out as an article."""
    from assistant.types import EvidenceEvent

    a = _seeded(fake_assistant, seed_dir)
    a.settings = a.settings.model_copy(update={"evidence_layout": "articles", "whole_article_tokens": 2000,
                                               "context_tokens": 200})
    a.answerer.settings = a.settings
    chat.enqueue("The briefings don't say.")
    ev = next(x for x in a.ask_stream("Is Russia stalling?") if isinstance(x, EvidenceEvent)).evidence
    body = a.article(ev[0].article_id).body
    assert [x.start for x in ev] == sorted(x.start for x in ev)  # reading order
    assert any("friends forever" in x.text for x in ev) and any("Moscow Times" in x.text for x in ev)
    assert len(ev) >= 15 and all(body[x.start:x.end] == x.text for x in ev)


def test_a_role_standing_for_someone_named_before_is_a_reference_and_a_name_is_not():
    from assistant.answer.context import opens_on_reference

    for s in ("The Russian leader reportedly said ...", "The British analyst argued ...", "The president said ...",
              "He still insisted ...", "\u201cThey are dropping a new single\u201d"):
        assert opens_on_reference(s), s
    for s in ("The White House is frustrated.", "The European Space Agency wants ...", "Trump said ...",
              "The Kremlin said ..."):
        assert not opens_on_reference(s), s
