"""Guards for scope, modality, exclusivity, cause and roles (answer/structure.py): each rejects what its
rule names and keeps a faithful rewording of the same sentence."""

from __future__ import annotations

from assistant.answer.guards import check_predicate, run_guards
from assistant.answer.structure import (check_cause, check_conflation, check_exclusive, check_modality, check_roles,
                                        check_scope, check_subject)

MEET = ("Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff on "
        "Wednesday, CBS News and Reuters reported.")
STALL = "Many Western experts suspect they are stalling for time as Russian troops make progress."
METHOD = "If Donald Trump decides to ratchet up the pressure on Russia, the most likely method is by using economic means."


def test_scope_may_be_kept_or_weakened_never_widened():
    assert check_scope("Most Western experts suspect Russia is stalling for time.", STALL)
    assert check_scope("Western experts suspect Russia is stalling for time.", STALL)  # "many" dropped
    assert check_scope("All analysts agree the dam holds.", "Several analysts said the dam holds.")
    assert not check_scope("Many experts in the West suspect Russia is stalling.", STALL)
    assert not check_scope("Some analysts said the dam holds.", "Several analysts said the dam holds.")
    assert not check_scope("The calendar had 18 months of 20 days each.", "It had 18 months of 20 days.")


def test_a_plan_or_expectation_is_not_stated_as_done():
    assert check_modality("Dmitriev met Witkoff on Wednesday.", MEET)
    assert check_modality("The board approved the merger.", "The board may approve the merger next week.")
    assert check_modality("The talks will fail.", "Officials said the talks may fail.")
    assert not check_modality("Dmitriev is expected to meet Witkoff on Wednesday.", MEET)
    assert not check_modality("The board could approve the merger next week.", "The board may approve the merger next week.")
    # a month is not a modal, and a modal in another clause is not the claim's
    assert not check_modality("Perry was the first judge ABC announced.", "On May 16, Perry was the first judge announced by ABC.")


def test_a_past_is_not_made_present_or_future():
    partner = "As of last year, however, Russia was the weaker partner in the relationship with Beijing."
    assert check_modality("Russia is the weaker partner in the relationship with Beijing.", partner)
    assert check_modality("The storm is likely to hit the Midwest.", "Blizzard conditions were likely to hit the Midwest.")
    assert check_modality("The envoy will be visiting Washington.", "The envoy was reportedly visiting Washington.")
    assert not check_modality("Russia was the weaker partner in the relationship.", partner)
    # present to past is reporting, not a change of fact; and a "be" that does not govern the same words is not compared
    assert not check_modality("Dmitriev was expected to meet Witkoff on Wednesday.", MEET)
    assert not check_modality("The talks are stalled, officials said.", "Officials said they were surprised. The talks are stalled.")
    assert not check_modality("The dam is holding.", "The dam is holding, and the workers were relieved.")


def test_exclusivity_and_superlatives_must_be_in_the_evidence():
    assert check_exclusive("Economic means are the only method Trump could use.", METHOD)
    assert check_exclusive("It was the largest protest in the city.", "It was a major protest in the city.")
    assert check_exclusive("She was the first woman to lead the bank.", "She was one of the first women to lead the bank.")
    assert not check_exclusive("Economic means are the most likely method.", METHOD)
    assert not check_exclusive("Logan is Canada's tallest mountain.", "Logan is the highest mountain in Canada.")
    assert not check_exclusive("The paper got little attention at first.", "The paper received little attention initially.")


def test_a_cause_needs_a_causal_link_in_the_evidence():
    assert check_cause("Prices rose because the harvest failed.", "Prices rose. The harvest failed in the north.")
    assert check_cause("The team moved in order to cut costs.", "The team moved to Denver and cut costs.")
    assert not check_cause("Prices rose because the harvest failed.", "Prices rose as a result of the failed harvest.")
    assert not check_cause("The harvest failed, and prices rose.", "Prices rose. The harvest failed.")


def test_two_sentences_are_not_joined_by_a_relation_neither_states():
    talks = "The talks in Geneva collapsed on Monday, officials said."
    met = "The envoy met the foreign minister in Rome."
    assert check_conflation("The envoy met the foreign minister after the talks in Geneva collapsed.", [met, talks])
    assert check_conflation("The envoy met the foreign minister despite the collapse of the Geneva talks.", [met, talks])
    # one sentence that states the relation, facts joined without one, or one sentence cited: not a conflation
    assert not check_conflation("The envoy met the minister after the talks collapsed.",
                                ["The envoy met the minister after the talks collapsed.", talks])
    assert not check_conflation("The envoy met the foreign minister in Rome, and the Geneva talks collapsed.", [met, talks])
    assert not check_conflation("The envoy met the foreign minister after the talks.", [met])
    # two briefings' dates say "after": a timeline relating what changed from one day to the next
    from datetime import date
    agreed, opened = "Both sides agreed to a 30-day pause.", "Energy talks opened in Riyadh."
    claim = "Both sides agreed to a 30-day pause after energy talks opened in Riyadh."
    assert not check_conflation(claim, [agreed, opened], [date(2025, 4, 2), date(2025, 4, 1)])
    assert check_conflation(claim, [agreed, opened], [date(2025, 4, 1), date(2025, 4, 2)])
    assert check_conflation(claim, [agreed, opened], [date(2025, 4, 2), date(2025, 4, 2)])
    # who reports it belongs to the whole claim, not to the side it is written on
    assert check_conflation("The envoy met the foreign minister after the talks in Geneva collapsed, officials said.",
                            [met, talks])


def test_who_does_what_to_whom_is_kept():
    assert check_roles("Witkoff is expected to meet with Dmitriev's special envoy on Wednesday.", MEET)
    assert check_roles("Chelsea beat Arsenal 2-1 on Sunday.", "Arsenal beat Chelsea 2-1 on Sunday.")
    assert not check_roles("Arsenal beat Chelsea 2-1 on Sunday.", "Arsenal beat Chelsea 2-1 on Sunday.")
    assert not check_roles("Chelsea were beaten by Arsenal on Sunday.", "Arsenal beat Chelsea on Sunday.")
    assert not check_roles("Quito is Ecuador's capital.", "Ecuador's capital is Quito.")


def test_a_group_that_opens_the_claim_must_be_the_cited_sentences_speaker():
    """Seen in the CLI on 2026-12-07: "Analysts believe Russia and China are friends forever" was shown for the
    foreign minister's words; the capitalised first word hid the speaker from the speaker rule."""
    from assistant.answer.guards import run_guards

    ev = ("Dmitriev\u2019s US trip comes after China\u2019s foreign minister said in a visit to Moscow this week that "
          "\u201cChina and Russia are friends forever and never enemies.\u201d")
    assert run_guards("Analysts believe Russia and China are friends forever and never enemies.", [ev])[0]
    assert run_guards("Officials said Russia and China are friends forever and never enemies.", [ev])[0]
    assert not run_guards("China's foreign minister said Russia and China are friends forever and never enemies.", [ev])[0]


# The rules below came from a development set of substantial rewordings and near misses over CLAPnq passages
# (evals/datasets/faithfulness_dev2.jsonl, written by a helper who had not seen the checker); each is a closed
# class of English, tested here on sentences of its own.

def test_how_often_and_how_nearly_are_kept():
    assert check_scope("Change is easier with a coalition.", "Change is often easier with a coalition.")
    assert check_scope("It improved in every way.", "It improved in nearly every way.")
    assert not check_scope("Change is frequently easier with a coalition.", "Change is often easier with a coalition.")
    assert not check_scope("He was the first pope to resign in roughly 600 years.",
                           "He was the first pope in nearly 600 years to resign.")
    # the adverb's phrase is not the claim's: "commonly found in" elsewhere, "not found naturally" claimed
    assert not check_scope("It is not found naturally in the wild.",
                           "It is not found naturally in the wild; its relatives are still commonly found in Peru.")


def test_among_the_best_is_not_the_best():
    assert check_exclusive("Their culture is the oldest in the Americas.", "Their culture is among the oldest in the Americas.")
    assert check_exclusive("It was the first luxury model.", "It was one of the first luxury models.")
    assert check_exclusive("Toyota introduced its first luxury model.", "Toyota introduced a luxury model.")
    assert not check_exclusive("Their culture is among the oldest in the Americas.", "Their culture is among the oldest in the Americas.")
    # "most" before a noun is a quantity, not a superlative
    assert not check_exclusive("Most filming takes place near Atlanta.", "Most of the shooting locations are near Atlanta.")


def test_a_modal_governs_have_when_a_noun_follows():
    e = "Experts predicted that within five years every household would have a computer."
    assert check_modality("Within five years every household had a computer.", e)
    assert not check_modality("Experts predicted every household would have a computer.", e)


def test_a_purpose_opening_the_sentence_is_a_stated_cause():
    e = "To sustain these forces, the ribs have a pronounced curvature."
    assert not check_cause("The ribs are strongly curved in order to sustain these forces.", e)
    assert check_cause("The ribs are strongly curved in order to sustain these forces.", "The ribs have a pronounced curvature.")


def test_negation_by_no_one_rather_than_and_a_negating_prefix():
    from assistant.answer.guards import check_polarity

    palace = "No one could enter the palace without permission."
    assert check_polarity("Anyone could enter the palace without permission.", palace)
    assert not check_polarity("Nobody could enter the palace without permission.", palace)
    specialist = "He is not an alchemist but a combat specialist."
    assert not check_polarity("He is a combat specialist rather than an alchemist.", specialist)
    assert check_polarity("The new city remained politically dependent.", "The new city remained politically independent.")
    assert check_polarity("The plan is likely to pass.", "The plan is unlikely to pass.")
    # the negation the prefix stands for, written out in the evidence, keeps the sense
    assert not check_polarity("They appear uninterested.", "They don't seem the least bit interested.")


def test_reporting_verbs_by_their_use():
    from assistant.answer.guards import check_attribution, hedges

    assert hedges("Critics maintained that the plan would fail.") == {"maintained", "would"}
    assert "maintained" not in hedges("Dada artists maintained political affinities with the left.")
    assert not check_attribution("Slant Magazine described it as one of the best RPGs in years.",
                                 "Slant Magazine said it was one of the best RPGs in years.")


def test_openers_that_are_connectives_are_not_names():
    from assistant.answer.names import names

    assert names("Having struck a deal with the Protestants, Calvert regained control.") == ["Protestants", "Calvert"]
    assert names("Owing to tax breaks, filming moved to Atlanta.") == ["Atlanta"]


def test_a_claim_that_shares_only_names_with_its_evidence_is_not_stated_by_it():
    # Seen on the news dev set: the draft took "sparked a dayslong stalemate" from the question.
    evidence = "Who is the House GOP leader?: Kevin McCarthy was once rejected for a House internship."
    assert "besides its names" in check_predicate("Kevin McCarthy sparked a dayslong stalemate.", evidence)
    assert "besides its names" in run_guards("Kevin McCarthy sparked a dayslong stalemate.", [evidence])[1]
    # One word in common (a related form counts), or too few words to tell, is left to the other checks.
    assert check_predicate("Kevin McCarthy was rejected by House leaders.", evidence) == ""
    assert check_predicate("Kevin McCarthy resigned.", evidence) == ""
    assert check_predicate("McCarthy's internship application failed.", evidence) == ""


def test_a_name_from_elsewhere_may_not_take_the_place_of_the_doer_the_sentence_names():
    # Seen on the news dev set: DeSantis is named elsewhere in the article, so the names guard let him in.
    bid = "Even though Musk lifted the ban after Trump announced his 2024 presidential bid in November, Trump has not returned."
    assert "'Trump' did" in check_subject("Ron deSantis announced his 2024 presidential bid on Twitter.", bid)
    assert check_subject("Trump announced his 2024 presidential bid in November.", bid) == ""
    # A first name the sentence leaves out, a role instead of a name, an action nobody is named for: kept.
    assert check_subject("Kirill Dmitriev is expected to meet Witkoff.", MEET) == ""
    assert check_subject("Putin reportedly said any peace process would be lengthy.",
                         "The Russian leader reportedly said that any peace process would be a lengthy affair.") == ""
    assert check_subject("Biden announced new sanctions.", "New sanctions were announced on Tuesday.") == ""
    assert check_subject("Derek Cha came to the US from South Korea.",
                         "Derek Cha immigrated to the United States from South Korea.") == ""  # "from" is no action
    # What a name is, is no action (seen on the news dev set: "senator" taken for a verb).
    assert check_subject("Scott is a Republican senator for South Carolina.",
                         "The South Carolina senator will join an expanding field of GOP contenders.") == ""
