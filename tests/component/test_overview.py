"""Overview questions (answer/overview.py) get several checked points from different parts of the evidence."""

from __future__ import annotations

from assistant.answer.overview import is_overview


def test_overview_questions_are_told_apart_from_single_fact_ones():
    for q in ("Summarize this briefing in three points.", "What is the relationship between Russia and China?",
              "What happened with the peace talks?", "Give me an overview of the week", "Tell me about Dmitriev"):
        assert is_overview(q), q
    for q in ("Who is Kirill Dmitriev meeting in Washington?", "Is Russia stalling?",
              "What did China's foreign minister say about Russia?", "How might Trump increase pressure on Russia?"):
        assert not is_overview(q), q


def test_an_overview_is_drafted_as_points_and_each_is_checked(fake_assistant, seed_dir, chat):
    a = fake_assistant
    assert a.ingest([seed_dir]).added
    q = "Summarize this briefing in three points."
    stream = a.ask_stream(q)
    ev = next(stream).evidence
    stream.close()
    chat.replies.clear()

    def key(words):
        return next(e.key for e in ev if words in e.text)

    k1, k2, k3 = key("expected to meet"), key("friends forever"), key("played down the likelihood")
    chat.enqueue(f"Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff on "
                 f"Wednesday, CBS News and Reuters reported [{k1}]. China\u2019s foreign minister said in a visit to "
                 f"Moscow this week that \u201cChina and Russia are friends forever and never enemies.\u201d [{k2}]. "
                 f"Privately, President Vladimir Putin has played down the likelihood of a quick deal [{k3}].")
    answer = a.ask(q)
    user = chat.history[-1][-1]["content"]
    assert "This question asks for an overview" in user
    assert answer.answerable and len({c.key for c in answer.citations}) == 3, (answer.text, answer.sentences, answer.raw_text)
    assert len({c.article_id + str(c.start) for c in answer.citations}) == 3
