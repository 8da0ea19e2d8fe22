"""The direct answer from the words a failed draft adds to the question (answer/span.py, issue 26)."""

from __future__ import annotations

import re

from assistant.answer.span import answer_span
from assistant.types import EvidenceSentence

from ..support.fakes import ScriptedChat


def _ev(key: int, text: str) -> EvidenceSentence:
    return EvidenceSentence(key=key, article_id="a", chunk_id="c", text=text, start=0, end=len(text), score=0.0,
                            title="", section="", published_at=None)


EVIDENCE = [
    _ev(1, "Rep. Elise Stefanik nominated House Republican Leader Kevin McCarthy as speaker."),
    _ev(13, "With the House GOP holding 222 seats, the California Republican can only afford to lose four members."),
    _ev(10, "Musk will interview DeSantis Wednesday on Twitter Spaces, his social media company\u2019s platform for audio."),
]


def test_the_span_is_the_longest_run_of_added_words_an_evidence_sentence_holds():
    q = "Which US state is represented by congressman Kevin McCarthy, the Republican leader blocked this week?"
    span = answer_span(["California is represented by congressman Kevin McCarthy, the Republican leader [1]."], q,
                       EVIDENCE)
    assert span is not None and (span.text, span.keys) == ("California", (13,))
    q = "DeSantis launched his bid with an event plagued by glitches on which social media platform?"
    span = answer_span(["DeSantis launched his bid on Twitter Spaces, his social media company's platform."], q,
                       EVIDENCE)
    assert span is not None and (span.text, span.keys) == ("Twitter Spaces", (10,))


def test_no_span_from_a_restatement_or_from_words_no_sentence_holds():
    q = "Which US state is represented by congressman Kevin McCarthy?"
    assert answer_span(["Congressman Kevin McCarthy represents a US state."], q, EVIDENCE) is None
    assert answer_span(["Texas is represented by congressman Kevin McCarthy."], q, EVIDENCE) is None


class _Judge(ScriptedChat):
    """Drafts come from the queue; the judge says no to every claim and "answers the question" only for
    the evidence sentence holding `yes_for`."""

    def __init__(self, yes_for: str) -> None:
        super().__init__()
        self.yes_for = yes_for

    def complete(self, messages, **opts):
        from assistant.models.llm import Completion

        user = messages[-1]["content"]
        asked = re.search(r"Does evidence \[(\d+)\] by itself answer", user)
        line = re.search(rf"^\[{asked.group(1)}\] (.*)$", user, re.M) if asked else None
        reply = "Yes" if line and self.yes_for in line.group(1) else "No"
        self.history.append(messages)
        return Completion(text=reply, model=self.name, usage={})


def _quote_assistant(settings, seed_dir, chat):
    from assistant.assistant import Assistant
    from assistant.search.store import Store

    from ..support.fakes import FakeEmbedder

    s = settings.model_copy(update={"answer": settings.answer.model_copy(update={"style": "quote", "judge": True})})
    embedder = FakeEmbedder()
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, embedder), embedder, llm=chat)
    a.ingest([seed_dir])
    return a


def _ask_with_draft(a, chat, question: str, phrase: str, draft: str):
    """Ask `question` once to see the evidence, then again with `draft` (its "{key}" the key of the evidence
    sentence holding `phrase`) as the model's draft. -> (answer, that key)."""
    chat.enqueue("x")
    evidence = list(a.ask_stream(question))[0].evidence
    key = next(e.key for e in evidence if phrase in e.text)
    chat.enqueue(draft.format(key=key))
    return a.ask(question), key


WHICH_OFFICIAL = "Which official is Dmitriev expected to meet with in Washington?"


def _witkoff_drafted(settings, seed_dir, yes_for: str):
    """Ask WHICH_OFFICIAL with a draft that names Witkoff but cites the "not confirmed" sentence (so it fails);
    the judge says the question is answered only by the sentence holding `yes_for`. -> (assistant, answer, the
    Witkoff sentence's key)."""
    chat = _Judge(yes_for=yes_for)
    a = _quote_assistant(settings, seed_dir, chat)
    chat.enqueue("x")
    evidence = list(a.ask_stream(WHICH_OFFICIAL))[0].evidence
    other = next(e.key for e in evidence if "not confirmed" in e.text)
    witkoff = next(e.key for e in evidence if "Steve Witkoff" in e.text)
    chat.enqueue(f"Steve Witkoff is the official Dmitriev is expected to meet with in Washington [{other}].")
    return a, a.ask(WHICH_OFFICIAL), witkoff


def test_a_failed_draft_still_names_the_answer_when_a_sentence_holding_its_words_answers(settings, seed_dir):
    a, answer, witkoff = _witkoff_drafted(settings, seed_dir, yes_for="Steve Witkoff")
    assert answer.text.startswith(f"Steve Witkoff [{witkoff}]. The briefing says: \u201cDmitriev is expected"), \
        answer.text
    first, second = (c.sentence_index for c in answer.citations)  # the answer and the quote: two sentences
    assert second == first + 1 and answer.sentences[first].text.startswith("Steve Witkoff")
    assert all(a.article(c.article_id).body[c.start:c.end] == c.quote for c in answer.citations)


def test_no_direct_answer_when_the_sentence_holding_the_words_does_not_answer(settings, seed_dir):
    _, answer, _ = _witkoff_drafted(settings, seed_dir, yes_for="no sentence says this")
    assert not answer.text.startswith("Steve Witkoff"), answer.text


def test_a_sentence_denying_the_verb_of_a_yes_no_or_why_question_is_found():
    from assistant.answer.span import denials

    evidence = [_ev(2, "Dmitriev is expected to meet with Steve Witkoff on Wednesday, CBS News reported."),
                _ev(3, "The trip \u2014 which the Trump administration and the Kremlin have not confirmed \u2014 comes "
                       "after a senior Russian official said Russia can not accept a US proposal.")]
    assert denials("Has the Kremlin confirmed Dmitriev's trip?", evidence) == [3]
    assert denials("Why did the Kremlin confirm Dmitriev's trip?", evidence) == [3]  # a false premise
    assert denials("Will Russia accept the US proposal?", evidence) == [3]
    # Not a yes/no or why question; the negated word is not the question's verb; one shared word is no topic.
    assert denials("Who has confirmed Dmitriev's trip?", evidence) == []
    assert denials("Did the official say Russia would end the war?", evidence) == []
    assert denials("Has anyone confirmed it?", evidence) == []


def test_the_denying_sentence_leads_a_yes_no_answer_even_when_the_judge_says_no(settings, seed_dir):
    chat = _Judge(yes_for="no sentence says this")  # the judge says no to every claim and every quote
    a = _quote_assistant(settings, seed_dir, chat)
    answer, _ = _ask_with_draft(
        a, chat, "Has the Kremlin confirmed that Dmitriev is meeting Steve Witkoff in Washington?", "Steve Witkoff",
        "Yes, Dmitriev is expected to meet with Steve Witkoff on Wednesday [{key}].")
    assert answer.answerable and answer.citations, answer.text
    assert "have not confirmed" in answer.citations[0].quote, answer.text
    denial = answer.citations[0].key
    assert answer.text.startswith(f"No [{denial}]. The briefing says: \u201cThe trip"), answer.text


def test_a_yes_no_answer_opens_with_who_says_so(settings, seed_dir):
    chat = _Judge(yes_for="Western experts suspect")  # every claim fails; only that sentence answers
    a = _quote_assistant(settings, seed_dir, chat)
    answer, stalling = _ask_with_draft(a, chat, "Is Russia stalling?", "stalling for time",
                                       "Yes, Russia is stalling [{key}].")
    assert answer.text.startswith(f"Many Western experts suspect so [{stalling}]. The briefing says: \u201cRussian "
                                  "officials in public"), answer.text
    assert answer.usage.get("verdict_attributed") == 1
    assert all(a.article(c.article_id).body[c.start:c.end] == c.quote for c in answer.citations)


def test_only_questions_asking_for_a_name_number_date_or_place_get_a_span():
    from assistant.answer.span import asks_for_a_name

    evidence = [_ev(2, "Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff "
                       "on Wednesday, CBS News and Reuters reported.")]
    claim = "Dmitriev and Witkoff agreed to work with US President Donald Trump's special envoy on Wednesday."
    assert answer_span([claim], "What did Dmitriev and Witkoff agree on at their meeting?", evidence) is None
    assert answer_span([claim], "Who did Dmitriev and Witkoff agree to work with?", evidence) is not None
    assert all(asks_for_a_name(q) for q in ("HBO Max relaunched this week as a service called:",
                                            "What is the name of Rishi Sunak's new Brexit deal?",
                                            "About how many inches were measured in Central Park?",
                                            "A record-breaking __% of the US electricity mix"))
    assert not any(asks_for_a_name(q) for q in ("Why did the talks collapse?", "What did Putin say?"))


def test_a_span_never_ends_inside_a_name_the_question_cuts():
    evidence = [_ev(2, "Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff "
                       "on Wednesday, CBS News and Reuters reported.")]
    span = answer_span(["Witkoff is US President Donald Trump's special envoy Steve Witkoff."], "Who is Witkoff?",
                       evidence)
    assert span is not None and span.text == "US President Donald Trump's special envoy", span


class _YesJudge(_Judge):
    """Drafts from the queue; the judge says yes to every claim and every "does it answer" question."""

    def complete(self, messages, **opts):
        from assistant.models.llm import Completion

        self.history.append(messages)
        return Completion(text="Yes", model=self.name, usage={})


def test_a_sentence_naming_the_speaker_by_role_answers_what_the_speaker_said(settings, seed_dir):
    # "The Russian leader reportedly said ..." stands for Putin, named in the sentence before it: the lead that
    # cites it answers "What has Putin said ...?" (before, it was withheld: "its sources do not hold the speaker").
    chat = _YesJudge(yes_for="")
    a = _quote_assistant(settings, seed_dir, chat)
    answer, leader = _ask_with_draft(
        a, chat, "What has Putin said privately about the chances of a quick peace deal?", "The Russian leader",
        "Putin has reportedly said in a recent closed-door meeting that any peace process would be a lengthy "
        "affair [{key}].")
    assert answer.text.startswith("Putin has reportedly said in a recent closed-door meeting"), answer.text
    assert answer.citations[0].key == leader


class _ClaimJudge(_Judge):
    """As _Judge, and the claim judge says yes only to the claim `claim_yes`."""

    def __init__(self, yes_for: str, claim_yes: str) -> None:
        super().__init__(yes_for)
        self.claim_yes = claim_yes

    def complete(self, messages, **opts):
        from assistant.models.llm import Completion

        claim = re.search(r"^Claim: (.*)$", messages[-1]["content"], re.M)
        if claim and claim.group(1).strip() == self.claim_yes:
            self.history.append(messages)
            return Completion(text="Yes", model=self.name, usage={})
        return super().complete(messages, **opts)


PREMISE = "Why did the Kremlin confirm Dmitriev's visit?"


def test_a_false_premise_is_corrected_before_the_sentence_that_contradicts_it(settings, seed_dir):
    chat = _ClaimJudge(yes_for="no sentence says this", claim_yes="The Kremlin has not confirmed Dmitriev's visit")
    a = _quote_assistant(settings, seed_dir, chat)
    answer, _ = _ask_with_draft(a, chat, PREMISE, "have not confirmed", "The briefings don't say.")
    denial = answer.citations[0].key
    assert "have not confirmed" in answer.citations[0].quote, answer.text
    assert answer.text.startswith(f"The Kremlin has not confirmed Dmitriev's visit [{denial}]. The briefing says: "
                                  "\u201cThe trip"), answer.text
    assert answer.usage.get("verdict_corrected") == 1


def test_a_correction_the_checks_reject_is_not_shown_and_the_sentence_is_still_quoted(settings, seed_dir):
    chat = _Judge(yes_for="no sentence says this")  # the judge says no to the correction too
    a = _quote_assistant(settings, seed_dir, chat)
    answer, _ = _ask_with_draft(a, chat, PREMISE, "have not confirmed", "The briefings don't say.")
    assert answer.text.startswith("The briefing says: \u201cThe trip"), answer.text
    assert "verdict_corrected" not in answer.usage


def test_after_the_answer_a_sentence_sharing_only_the_questions_names_is_not_quoted_in_support(settings, seed_dir):
    chat = _Judge(yes_for="")  # a loose judge: every sentence "answers"; every claim fails
    a = _quote_assistant(settings, seed_dir, chat)
    chat.enqueue("x")
    evidence = list(a.ask_stream("Is Russia stalling?"))[0].evidence
    stalling = next(e.key for e in evidence if "stalling for time" in e.text)
    visit = next(e.key for e in evidence if e.text.startswith("Russia\u2019s top envoy Kirill Dmitriev"))
    chat.enqueue(f"Yes, Russia is stalling [{stalling}][{visit}].")
    answer = a.ask("Is Russia stalling?")
    assert answer.text.startswith(f"Many Western experts suspect so [{stalling}]."), answer.text
    assert visit not in {c.key for c in answer.citations}, answer.text  # "Russia's top envoy ... visiting Washington"
