"""The rule the faithful integration test grades the real model's answer by (attribution_kept), checked offline
on answers written by hand: it took any sentence with a hedge word ("can", "would", "said") as attributed, so
"Russia can stall for time, experts said" passed though it drops both who suspects it and that they only suspect it."""

from __future__ import annotations

from ..integration.test_faithful_integration import attribution_kept

STALLING = ("Russian officials in public, meanwhile, have offered contradictory messages about the prospects for "
            "peace: Many Western experts suspect they are stalling for time as Russian troops make progress on the "
            "battlefield.")
LENGTHY = ("The Russian leader reportedly said in a recent closed-door meeting that any peace process would be a "
           "lengthy affair, acknowledging that ending Western sanctions will not be easy.")


def test_a_hedge_word_is_not_the_attribution():
    assert "suspect" in attribution_kept("Russia can stall for time, experts said [1].", [STALLING])
    assert "Putin" in attribution_kept("Any peace process would be a lengthy affair [2].", [LENGTHY])


def test_the_speaker_and_stance_the_article_gives_pass():
    assert attribution_kept("Many Western experts suspect Russia is stalling for time [1].", [STALLING]) == ""
    assert attribution_kept("Putin reportedly said any peace process would be a lengthy affair [2].", [LENGTHY]) == ""


def test_a_quote_must_be_the_exact_sentence_it_cites():
    assert attribution_kept(f"The briefing says: \u201c{STALLING}\u201d [1]", [STALLING]) == ""
    altered = STALLING.replace("Many", "All")
    assert "not the exact quote" in attribution_kept(f"The briefing says: \u201c{altered}\u201d [1]", [STALLING])


def test_a_verdict_keeps_the_speaker_of_the_clause_the_question_asks_about():
    q = "Is Russia stalling?"
    assert attribution_kept("Many Western experts suspect so [1].", [STALLING], q) == ""
    assert "suspect" in attribution_kept("Many Western experts think so [1].", [STALLING], q)
    assert "experts" in attribution_kept("Russian officials suspect so [1].", [STALLING], q)
    # Without the question, a "so" sentence restates no labelled clause: every clause's speaker is required.
    assert "Russian officials" in attribution_kept("Many Western experts suspect so [1].", [STALLING])
