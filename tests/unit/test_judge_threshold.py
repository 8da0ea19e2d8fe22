"""The claim judge's P(yes) and the threshold chosen on the dev set (entailment.p_yes, evals/judge_threshold.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from assistant.answer.entailment import Checker, p_yes
from assistant.models.llm import Completion, _first_token
from evals.judge_threshold import choose, scores_at

CLAIM, EVIDENCE = "Dmitriev is expected to meet Witkoff.", ["Dmitriev is expected to meet with Steve Witkoff on Wednesday."]


class _Scored:
    """A judge endpoint that says `word` with the first-token alternatives `top` (log probabilities)."""

    name = "scored"

    def __init__(self, word: str, top: tuple[tuple[str, float], ...]) -> None:
        self.word, self.top, self.opts = word, top, []

    def complete(self, messages, **opts):
        self.opts.append(opts)
        return Completion(text=self.word, first_token=self.top if opts.get("top_logprobs") else ())


def test_p_yes_sums_the_spellings_of_yes_against_those_of_no():
    top = (("Yes", math.log(0.5)), (" yes", math.log(0.1)), ("No", math.log(0.3)), ("Maybe", math.log(0.1)))
    assert p_yes(top) == pytest.approx(0.6 / 0.9)
    assert p_yes((("Maybe", -0.1),)) is None and p_yes(()) is None


def test_with_a_threshold_p_yes_decides_and_without_one_the_judges_word_unscored():
    top = (("yes", math.log(0.55)), ("no", math.log(0.45)))
    own = Checker(llm=_Scored("yes", top))
    verdict = own.judge(CLAIM, EVIDENCE)
    assert verdict.supported and verdict.p_yes is None
    assert "top_logprobs" not in own.llm.opts[0]  # never asked for: the bundled server fails such a request
    strict = Checker(llm=_Scored("yes", top), threshold=0.7).judge(CLAIM, EVIDENCE)
    assert not strict.supported and strict.p_yes == pytest.approx(0.55)
    loose = Checker(llm=_Scored("no", (("no", math.log(0.6)), ("yes", math.log(0.4)))), threshold=0.35)
    assert loose.judge(CLAIM, EVIDENCE).supported


def test_an_endpoint_without_log_probabilities_leaves_the_judges_word():
    checker = Checker(llm=_Scored("no", ()), threshold=0.1)
    verdict = checker.judge(CLAIM, EVIDENCE)
    assert not verdict.supported and verdict.p_yes is None
    assert checker.llm.opts[0]["top_logprobs"] == 10  # asked for them


def test_the_first_tokens_alternatives_are_read_from_an_openai_chat_choice():
    top = [SimpleNamespace(token="yes", logprob=-0.2), SimpleNamespace(token="no", logprob=-1.8)]
    choice = SimpleNamespace(logprobs=SimpleNamespace(content=[SimpleNamespace(token="yes", top_logprobs=top)]))
    assert _first_token(choice) == (("yes", -0.2), ("no", -1.8))
    assert _first_token(SimpleNamespace(logprobs=None)) == ()


def _row(supported: bool, p: float | None, kept: bool, kind: str = "true") -> dict:
    return {"supported": supported, "p_yes": p, "kept": kept, "judged": p is not None, "kind": kind}


def test_the_threshold_changes_only_rows_the_judge_saw_and_is_chosen_by_balanced_accuracy():
    rows = [_row(True, 0.9, True), _row(True, 0.6, True), _row(False, 0.55, True, "role_swap"),
            _row(False, 0.3, False, "scope"), _row(False, None, False, "number"), _row(True, None, False)]
    assert scores_at(rows, None)["keep_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert scores_at(rows, 0.58)["reject_by_kind"] == {"number": 1.0, "role_swap": 1.0, "scope": 1.0}
    assert scores_at(rows, 0.95)["keep_rate"] == 0.0  # the unjudged true row stays rejected by its guard
    assert 0.55 < choose(rows) <= 0.6
