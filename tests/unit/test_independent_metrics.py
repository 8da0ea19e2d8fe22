"""The eval metrics the product cannot grade itself (assistant/evaluation/independent.py): each is decided by the
row's gold labels and string rules, so a faithful quote that misses the question scores as a miss."""

from __future__ import annotations

from assistant.evaluation.independent import Gold, Shown, aggregate, case_scores, rescore, states_answer

MEET = "Dmitriev is expected to meet with US President Donald Trump’s special envoy Steve Witkoff on Wednesday."
UNCONFIRMED = "The trip — which the Trump administration and the Kremlin have not confirmed — comes after talks."
CONFIRMED = Gold(answerable=True, reference="Neither government has confirmed it.",
                 must_mention=("not (yet )?confirm|neither",), evidence=(UNCONFIRMED,))


def test_a_faithful_quote_that_does_not_hold_the_gold_answer_is_not_an_answer():
    shown = Shown(answered=True, sentences=(f"The briefing says: “{MEET}” [2]",), quotes=(MEET,))
    assert case_scores(shown, CONFIRMED) == {"gold_answer_stated": 0.0, "addresses_question": 0.0,
                                             "gold_evidence_cited": 0.0}


def test_the_answer_must_lead_the_answer_to_address_the_question():
    shown = Shown(answered=True, sentences=(f"{MEET} [2]", f"{UNCONFIRMED} [1]"), quotes=(MEET, UNCONFIRMED))
    # stated somewhere and its gold sentence cited, but the lead is about something else
    assert case_scores(shown, CONFIRMED) == {"gold_answer_stated": 1.0, "addresses_question": 0.0,
                                             "gold_evidence_cited": 1.0}


def test_a_refusal_states_nothing_and_cites_nothing():
    assert case_scores(Shown(answered=False), CONFIRMED) == {"gold_answer_stated": 0.0, "gold_evidence_cited": 0.0}


def test_unanswerable_rows_score_only_the_refusal():
    gold = Gold(answerable=False)
    assert case_scores(Shown(answered=False), gold) == {"unanswerable_refused": 1.0}
    assert case_scores(Shown(answered=True, sentences=(MEET,), quotes=(MEET,)), gold) == {"unanswerable_refused": 0.0}


def test_a_cited_piece_of_the_gold_sentence_counts_but_a_short_fragment_does_not():
    gold = Gold(answerable=True, reference="Witkoff", evidence=(MEET,))
    part = "US President Donald Trump’s special envoy Steve Witkoff"
    assert case_scores(Shown(True, (part,), (part,)), gold)["gold_evidence_cited"] == 1.0
    assert case_scores(Shown(True, ("Witkoff",), ("Witkoff",)), gold)["gold_evidence_cited"] == 0.0


def test_what_states_the_gold_answer_quiz_choice_then_must_mention_then_exact_tokens():
    quiz = Gold(answerable=True, reference="Steve Witkoff", choices=("Marco Rubio", "Steve Witkoff"), answer_index=1)
    assert states_answer("He meets Steve Witkoff [2].", quiz)
    assert not states_answer("He meets Marco Rubio [2].", quiz)
    assert states_answer("Neither government has confirmed it [1].", CONFIRMED)
    exact = Gold(answerable=True, reference="the first such trip")
    assert states_answer("It is the first such trip [1].", exact) and not states_answer("It is a trip [1].", exact)


def test_aggregate_counts_each_metric_over_the_rows_it_applies_to():
    rows = [{"gold_answer_stated": 1.0, "addresses_question": 1.0}, {"gold_answer_stated": 0.0},
            {"unanswerable_refused": 1.0}]
    out = aggregate(rows)
    assert out["gold_answer_stated"] == 0.5 and out["n_gold_answer_stated"] == 2
    assert out["addresses_question"] == 1.0 and out["n_addresses_question"] == 1
    assert out["gold_evidence_cited"] is None and out["n_gold_evidence_cited"] == 0


def test_rescore_reads_a_saved_report_and_leaves_errored_cases_out():
    case = {"gold_answerable": True, "answered": True, "reference": "Witkoff", "must_mention": ["Witkoff"],
            "choices": [], "answer_index": None, "evidence": [{"quote": MEET, "retrieved": True}],
            "sentences": [{"text": f"{MEET} [2]"}], "citations": [{"quote": MEET}], "error": ""}
    broken = {**case, "answered": False, "sentences": [], "citations": [], "error": "LLMError: timeout"}
    out = rescore({"cases": [case, broken]})
    assert out["gold_answer_stated"] == 1.0 and out["n_gold_answer_stated"] == 1 and out["gold_evidence_cited"] == 1.0
