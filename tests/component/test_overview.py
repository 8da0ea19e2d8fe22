"""Overview questions (answer/overview.py) get several checked points from different parts of the evidence."""

from __future__ import annotations

import pytest

from assistant.answer.overview import is_overview


def test_overview_questions_are_told_apart_from_single_fact_ones():
    for q in ("Summarize this briefing in three points.", "What is the relationship between Russia and China?",
              "What happened with the peace talks?", "Give me an overview of the week", "Tell me about Dmitriev"):
        assert is_overview(q), q
    for q in ("Who is Kirill Dmitriev meeting in Washington?", "Is Russia stalling?",
              "What did China's foreign minister say about Russia?", "How might Trump increase pressure on Russia?"):
        assert not is_overview(q), q


SUMMARY = "Summarize this briefing in three points."


def _evidence_of(a, seed_dir, chat, question: str):
    """Ingest the seed briefing and return the evidence `question` reads (the model is not asked)."""
    assert a.ingest([seed_dir]).added
    stream = a.ask_stream(question)
    ev = next(stream).evidence
    stream.close()
    chat.replies.clear()
    return ev


def _keys(ev, *phrases: str) -> list[int]:
    """The keys of the evidence sentences holding each phrase."""
    return [next(e.key for e in ev if words in e.text) for words in phrases]


def test_an_overview_is_drafted_as_points_and_each_is_checked(fake_assistant, seed_dir, chat):
    a, q = fake_assistant, SUMMARY
    ev = _evidence_of(a, seed_dir, chat, q)
    k1, k2, k3 = _keys(ev, "expected to meet", "friends forever", "played down the likelihood")
    chat.enqueue(f"Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff on "
                 f"Wednesday, CBS News and Reuters reported [{k1}]. China\u2019s foreign minister said in a visit to "
                 f"Moscow this week that \u201cChina and Russia are friends forever and never enemies.\u201d [{k2}]. "
                 f"Privately, President Vladimir Putin has played down the likelihood of a quick deal [{k3}].")
    answer = a.ask(q)
    user = chat.history[-1][-1]["content"]
    assert "This question asks for an overview" in user
    assert answer.answerable and len({c.key for c in answer.citations}) == 3, (answer.text, answer.sentences, answer.raw_text)
    assert len({c.article_id + str(c.start) for c in answer.citations}) == 3


def _ev(key: int, section: str, text: str, start: int):
    from assistant.types import EvidenceSentence

    return EvidenceSentence(key=key, article_id="a", chunk_id="c", text=text, start=start, end=start + len(text),
                            score=0.0, section=section)


SECTIONED = [
    _ev(1, "The News", "Dmitriev was visiting Washington on Wednesday.", 0),
    _ev(2, "The News", "Dmitriev is expected to meet Steve Witkoff.", 50),
    _ev(3, "Patience", "The White House is growing frustrated at the Kremlin.", 100),
    _ev(4, "Patience", "Sanctions on Russian oil buyers are one option.", 160),
    _ev(5, "Ties", "China's foreign minister said China and Russia are friends forever.", 220),
    _ev(6, "Ties", "Russia was the weaker partner in the relationship with Beijing and China.", 300),
]


def test_a_short_summary_is_topped_up_with_the_first_sentence_of_each_part_it_misses():
    from assistant.answer.overview import top_up

    # One point shown, citing [2]: the two parts it does not cover add their first sentences, in order.
    assert top_up("Summarize this briefing in three points.", SECTIONED, covered=[2], shown=1) == [3, 5]
    assert top_up("Summarize this briefing.", SECTIONED, covered=[1, 3, 5], shown=3) == []


def test_a_topic_overview_is_topped_up_only_with_sentences_about_the_topic():
    from assistant.answer.overview import top_up

    # "Russian oil buyers" names Russia but not China: that part adds nothing; "Ties" adds its sentence with both.
    # "Ties" gives its sentence with most topic words, then, the topic being all there, its other one.
    assert top_up("What is the relationship between Russia and China?", SECTIONED, covered=[], shown=0) == [6, 5]
    assert top_up("What is the relationship between Russia and China?", SECTIONED, covered=[6], shown=1) == [5]
    assert top_up("What is the relationship between Russia and China?", SECTIONED, covered=[5, 6], shown=2) == []


@pytest.mark.parametrize("question, shown", [("Summarize what this briefing says about Russia.", 5), (SUMMARY, 3),
                                              ("Give me the key points in 2 bullets", 2)])
def test_an_overview_shows_at_most_five_points_or_the_number_asked_for(fake_assistant, seed_dir, chat, question, shown):
    """Over real news the model wrote six checked points for "What happened in the vote for House speaker?";
    the issue asks for 3-5. The points after the fifth are not checked or shown; "in three points" means three
    (the seed summary showed four)."""
    a, q = fake_assistant, question
    ev = _evidence_of(a, seed_dir, chat, q)
    seven = [e for e in ev if len(e.text.split()) > 8][:7]
    assert len(seven) == 7
    chat.enqueue(" ".join(f"{e.text.rstrip('.')} [{e.key}]." for e in seven))  # each a verbatim, checkable point
    answer = a.ask(q)
    assert answer.answerable and len([s for s in answer.sentences if s.kept]) == shown, answer.text
    assert [c.key for c in answer.citations] == [e.key for e in seven[:shown]]
    assert any(f"at most {shown} points" in n for n in answer.notes)


def test_the_number_of_points_asked_for():
    from assistant.answer.overview import max_points

    assert max_points("Summarize this briefing in three points.") == 3
    assert max_points("Give me 2 key points") == 2
    assert max_points("Summarize the week in ten bullet points") == 5  # still at most five
    assert max_points("What happened this week?") == 5


def test_a_point_that_fails_its_check_stands_in_as_a_quote_of_its_sentence(fake_assistant, seed_dir, chat):
    # "is reportedly visiting" for the briefing's "was reportedly visiting" fails the tense rule. In an answer to one
    # question such a sentence is quoted only if it answers the question; "Summarize this briefing" shares no word
    # with any sentence, so the summary's most important point was dropped instead of quoted.
    a, q = fake_assistant, SUMMARY
    ev = _evidence_of(a, seed_dir, chat, q)
    k0, k1, k3 = _keys(ev, "was reportedly visiting", "expected to meet", "played down the likelihood")
    chat.enqueue(f"Russia\u2019s top envoy Kirill Dmitriev is reportedly visiting Washington, DC [{k0}]. "
                 f"Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff on "
                 f"Wednesday, CBS News and Reuters reported [{k1}]. "
                 f"Privately, President Vladimir Putin has played down the likelihood of a quick deal [{k3}].")
    answer = a.ask(q)
    first = answer.sentences[0]
    assert "not stated by its evidence" in first.note and "shown as a quote" in first.note, answer.sentences
    assert answer.text.startswith("The briefing says: \u201cRussia\u2019s top envoy Kirill Dmitriev was reportedly visiting")
    assert [c.key for c in answer.citations][:1] == [k0] and {k1, k3} <= {c.key for c in answer.citations}
