"""Verdict leads for yes/no and true/false questions (answer/verdict.py): who says so, a denial, a checked
statement; and the cases where no verdict may be given."""

from __future__ import annotations

import pytest

from assistant.answer.verdict import attributed, corrections, find, statement
from assistant.types import EvidenceSentence

STALLING = ("Russian officials in public, meanwhile, have offered contradictory messages about the prospects for "
            "peace: Many Western experts suspect they are stalling for time as Russian troops make progress on the "
            "battlefield.")
SPLIT = ("US officials have said they hope outreach to the Kremlin can split Moscow away, but many analysts believe "
         "Vladimir Putin is unlikely to be persuaded to turn on Beijing.")
PARTNER = ("As of last year, however, Russia was the \u201cweaker partner\u201d in the relationship with Beijing, "
           "a British analyst argued, adding that their strategic partnership \u201chardly extends beyond the "
           "transactional.\u201d")
MEETING = ("Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff on "
           "Wednesday, CBS News and Reuters reported.")


@pytest.mark.parametrize("question, sentence, lead", [
    ("Is Russia stalling?", STALLING, "Many Western experts suspect so"),
    ("Is Russia stalling for time?", STALLING, "Many Western experts suspect so"),
    ("Is Putin unlikely to turn on Beijing?", SPLIT, "many analysts believe so"),
    ("Is Russia the weaker partner?", PARTNER, "a British analyst argued so"),
])
def test_a_speaker_who_says_what_the_question_asks_gives_the_verdict(question, sentence, lead):
    assert attributed(question, sentence) == lead


@pytest.mark.parametrize("question, sentence", [
    ("Is China stalling?", STALLING),  # the sentence is about Russians, not China
    ("Isn't Russia stalling?", STALLING),  # a negative question: "so" would be ambiguous
    ("Is Russia winning?", STALLING),  # nobody says that
    ("Are Russian troops making progress?", STALLING),  # the sentence's own statement, not what experts suspect
    ("Can outreach split Moscow away?", SPLIT),  # they only *hope* it can
    ("Is Putin likely to be persuaded to turn on Beijing?", SPLIT),  # the analysts say the opposite
    ("Is Russia the stronger partner?", PARTNER),
    ("Did Dmitriev meet Witkoff?", MEETING),  # expected to meet is not met
    ("Who is Dmitriev meeting?", MEETING),  # not a yes/no question
])
def test_no_verdict_unless_the_attributed_clause_says_it(question, sentence):
    assert attributed(question, sentence) is None


def test_true_false_questions_give_their_statement():
    assert statement("True or false: Brooks Koepka became the first LIV golfer to win a major title.") == \
        "Brooks Koepka became the first LIV golfer to win a major title."
    assert statement("Is it true that Dmitriev met Witkoff?") == "Dmitriev met Witkoff"
    assert statement("Is Russia stalling?") is None


def _ev(key: int, text: str) -> EvidenceSentence:
    return EvidenceSentence(key=key, article_id="a", chunk_id="a:0", text=text, start=0, end=len(text), score=1.0)


def test_find_prefers_the_checked_statement_then_who_says_so_then_a_denial():
    evidence = [_ev(1, STALLING), _ev(2, "The trip, which the Kremlin has not confirmed, comes after talks.")]
    assert find("Is Russia stalling?", evidence, [2, 1], denied=[2]).text == "Many Western experts suspect so"
    lead = find("Has the Kremlin confirmed the trip?", evidence, [1, 2], denied=[2])
    assert (lead.text, lead.key, lead.route) == ("No", 2, "denied")
    # "Why did the Kremlin confirm ...?" has a false premise: the denial is quoted, but "No" answers nothing.
    assert find("Why did the Kremlin confirm the trip?", evidence, [2], denied=[2]) is None
    assert find("True or false: the Kremlin confirmed the trip.", evidence, [2], denied=[], stated=[]) is None
    assert find("True or false: Russia is stalling for time.", evidence, [1], denied=[], stated=[1]).text == "True"
    assert find("Who confirmed the trip?", evidence, [1, 2], denied=[2]) is None


TRIP = ("The trip \u2014 which the Trump administration and the Kremlin have not confirmed \u2014 comes after a senior "
        "Russian official said Russia can not accept a US proposal.")


def test_a_false_premise_is_corrected_in_the_questions_words_around_the_sentences_negated_verb():
    assert corrections("Why did the Kremlin confirm Dmitriev's visit?", TRIP) == [
        "The Kremlin has not confirmed Dmitriev's visit", "The Kremlin has not confirmed it"]
    # The auxiliary agrees with the question's subject; "n't" is read as "not".
    assert corrections("Why have the talks collapsed?", "The talks haven't collapsed, officials said.") == [
        "The talks have not collapsed"]
    assert corrections("Why has the White House rejected the deal?", "The White House hasn't rejected the deal.")[0] \
        == "The White House has not rejected the deal"


@pytest.mark.parametrize("question, sentence", [
    ("Why did Putin confirm the trip?", TRIP),  # the sentence does not name the question's subject
    ("Why did the Kremlin deny the trip?", TRIP),  # it negates another verb
    ("Who confirmed the trip?", TRIP),  # not a why question
    ("Why did the Kremlin confirm the trip?", "The Kremlin confirmed the trip on Monday."),  # no negation
])
def test_no_correction_unless_the_sentence_negates_the_questions_verb_for_its_subject(question, sentence):
    assert corrections(question, sentence) == []
