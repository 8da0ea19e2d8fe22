"""A timid draft and a draft that restates the question (issue 26): neither decides the answer."""

from __future__ import annotations

from assistant.answer.injection import clean_answer
from assistant.answer.verify import finished_claims, restates_question
from assistant.types import REFUSAL


def _with(a, **answer):
    a.settings = a.settings.model_copy(update={"answer": a.settings.answer.model_copy(update=answer)})
    a.answerer.settings = a.settings
    return a


def _key(a, question, needle, chat):
    # A dry run for the evidence keys: its draft (and second look) refuse.
    chat.enqueue(*[REFUSAL] * (2 if a.settings.answer.second_look else 1))
    evidence = list(a.ask_stream(question))[0].evidence
    return next(e.key for e in evidence if needle in e.text)


def test_a_sentence_that_only_restates_a_which_question_is_not_an_answer():
    q = "Tim Scott announced his campaign for president this week. Scott is a Republican senator for which state?"
    assert restates_question("Tim Scott announced his campaign for president this week [2].", q)
    assert restates_question("According to the report, Scott is a Republican senator.", q)
    assert not restates_question("Scott is a Republican senator for South Carolina [2].", q)
    # A yes/no question's own words are its verdict, and a sentence with a new word says something.
    assert not restates_question("Russia is stalling for time [1].", "Is Russia stalling for time?")
    assert not restates_question("Dmitriev is meeting Witkoff [1].", "Who is Dmitriev meeting?")
    assert not restates_question("Anything at all.", "")
    # A fill-in question may hold the answer's word already: what counts is a word said once more.
    assert not restates_question("HBO Max relaunched this week as a service called Max.",
                                 "HBO Max relaunched this week as a service called:")


def test_the_first_claim_that_ends_the_draft_early_is_one_that_says_something_new():
    q = "Rapper Gangsta Boo died this week. She got her start with which group?"
    assert finished_claims("Rapper Gangsta Boo died this week. She", q) is None  # keep reading
    assert finished_claims("Rapper Gangsta Boo died this week. She started in Three 6 Mafia [1]. It", q) == [
        ("Rapper Gangsta Boo died this week.", []), ("She started in Three 6 Mafia.", [1])]
    # Without a question, the first finished sentence ends it, as before.
    assert finished_claims("Rapper Gangsta Boo died this week. She") == [("Rapper Gangsta Boo died this week.", [])]


def test_words_in_square_brackets_lose_the_brackets_and_markers_keep_theirs():
    assert clean_answer("[Buffalo Bills] [6]") == "Buffalo Bills [6]"
    assert clean_answer("Witkoff [1, 2] and Trump [S3].") == "Witkoff [1, 2] and Trump [S3]."


def test_a_refusing_draft_gets_a_second_look_without_the_way_out(fake_assistant, seed_dir, chat):
    a = _with(fake_assistant, second_look=True)
    a.ingest([seed_dir])
    q = "Who is Dmitriev expected to meet on Wednesday?"
    key = _key(a, q, "Witkoff", chat)
    chat.history.clear()
    chat.enqueue(REFUSAL, f"Dmitriev is expected to meet with US President Donald Trump's special envoy Steve Witkoff "
                          f"on Wednesday [{key}].")
    answer = a.ask(q)
    assert answer.answerable and "Steve Witkoff" in answer.text, answer.text
    first, second = chat.history
    assert REFUSAL in first[0]["content"] and REFUSAL not in second[0]["content"] + second[-1]["content"]
    assert f"[{key}] " in second[-1]["content"] and q in second[-1]["content"]
    assert all(a.article(c.article_id).body[c.start:c.end] == c.quote for c in answer.citations)


def test_what_the_second_look_writes_is_checked_like_any_draft(fake_assistant, seed_dir, chat):
    a = _with(fake_assistant, second_look=True)
    a.ingest([seed_dir])
    q = "Who is Dmitriev expected to meet on Wednesday?"
    key = _key(a, q, "Witkoff", chat)
    chat.enqueue(REFUSAL, f"Dmitriev is expected to meet Vladimir Putin in Beijing on Wednesday [{key}].")
    answer = a.ask(q)
    # The invented meeting is not shown; what is shown (the cited sentence, quoted) is the briefing's own words.
    assert "Putin" not in answer.text and "Beijing" not in answer.text, answer.text
    assert all(a.article(c.article_id).body[c.start:c.end] == c.quote for c in answer.citations)


def test_without_the_second_look_a_refusing_draft_is_asked_once(fake_assistant, seed_dir, chat):
    a = _with(fake_assistant, second_look=False)
    a.ingest([seed_dir])
    chat.enqueue(REFUSAL)
    answer = a.ask("Who is Dmitriev expected to meet on Wednesday?")
    assert not answer.answerable and len(chat.history) == 1


def test_a_restated_question_is_dropped_and_the_sentence_after_it_answers(fake_assistant, seed_dir, chat):
    a = _with(fake_assistant, second_look=False)
    a.ingest([seed_dir])
    premise = "Russia's top envoy Kirill Dmitriev was reportedly visiting Washington, DC Wednesday"
    q = f"{premise}. Who is he expected to meet?"
    key = _key(a, q, "Witkoff", chat)
    chat.enqueue(REFUSAL)
    visit = next(e.key for e in list(a.ask_stream(q))[0].evidence if "reportedly visiting" in e.text)
    # The restatement is supported word for word: only its saying nothing new keeps it out of the answer.
    chat.enqueue(f"{premise} [{visit}]. Dmitriev is expected to meet with US President Donald Trump's special "
                 f"envoy Steve Witkoff on Wednesday, CBS News and Reuters reported [{key}].")
    answer = a.ask(q)
    assert answer.answerable and answer.text.startswith("Dmitriev is expected to meet"), answer.text
    assert "visiting Washington" not in answer.text
