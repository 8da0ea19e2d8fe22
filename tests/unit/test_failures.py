"""The failure breakdown (evaluation/failures.py): each wrong answer gets the first stage that lost the gold answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.failures import CAUSES, breakdown, cause
from assistant.types import REFUSAL


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Answer:
    text: str
    answerable: bool
    raw_text: str = ""
    passages: list = field(default_factory=list)
    evidence: list = field(default_factory=list)


QUIZ = EvalItem(id="q", question="Which team does Damar Hamlin play for?", answerable=True,
                choices=("Pittsburgh Steelers", "Buffalo Bills", "Cleveland Browns"), answer_index=1)
HAS = [_Text("Damar Hamlin of the Buffalo Bills collapsed on the field.")]
OTHER = [_Text("The Cleveland Browns lost on Sunday.")]


def test_each_stage_that_can_lose_the_answer_is_named():
    right = "Damar Hamlin plays for the Buffalo Bills [1]."
    assert cause(QUIZ, _Answer(right, True, right, HAS, HAS)) is None
    assert cause(QUIZ, _Answer(REFUSAL, False, REFUSAL, OTHER, OTHER)) == "retrieval miss"
    assert cause(QUIZ, _Answer(REFUSAL, False, REFUSAL, HAS, OTHER)) == "evidence miss"
    assert cause(QUIZ, _Answer(REFUSAL, False, REFUSAL, HAS, HAS)) == "draft refused"
    wrong = "He plays for the Cleveland Browns [1]."
    assert cause(QUIZ, _Answer(wrong, True, wrong, HAS, HAS)) == "draft wrong"
    assert cause(QUIZ, _Answer(REFUSAL, False, right, HAS, HAS)) == "rejected by the checks"
    quote = "The briefing says: \u201cThe Cleveland Browns lost on Sunday.\u201d [2]"
    assert cause(QUIZ, _Answer(quote, True, right, HAS, HAS)) == "shown answer misses it"


def test_unanswerable_questions_count_only_when_answered():
    item = EvalItem(id="u", question="Who won?", answerable=False)
    assert cause(item, _Answer(REFUSAL, False)) is None
    assert cause(item, _Answer("The Bills won [1].", True)) == "answered unanswerable"


def test_a_row_without_choices_is_judged_by_its_reference_words():
    item = EvalItem(id="r", question="Who won?", answerable=True, answer="Buffalo Bills")
    assert cause(item, _Answer("The Buffalo Bills won [1].", True, "", HAS, HAS)) is None
    assert cause(item, _Answer("The Bills won [1].", True, "The Bills won [1].", HAS, HAS)) == "draft wrong"


def test_breakdown_counts_every_cause_and_the_right_answers():
    counts = breakdown([None, "draft refused", "draft refused", "retrieval miss"])
    assert counts["right"] == 1 and counts["draft refused"] == 2 and counts["retrieval miss"] == 1
    assert set(counts) == {*CAUSES, "right"}
