"""The faithfulness eval's cache of judge verdicts (evals/faithfulness.py): a verdict is reused only for the
same prompt, claim, evidence and model. Keyed by row id alone, an edited row or a changed judge prompt kept
the old verdict, and every rate measured with it was stale."""

from __future__ import annotations

import json

import pytest

from evals import faithfulness
from evals.faithfulness_data import FaithItem

from ..support.fakes import FakeEmbedder, ScriptedChat

EVIDENCE = ("Dmitriev is expected to meet Witkoff on Wednesday, Reuters reported.",)


def item(claim: str, row: str = "row-1") -> FaithItem:
    return FaithItem(id=row, base=row, claim=claim, evidence=EVIDENCE, label="supported", kind="true",
                     source="test", split="dev", note="")


@pytest.fixture
def judge(monkeypatch, tmp_path):
    """A scripted judge model in place of the bundled one, and the cache in a temp file."""
    models: list[ScriptedChat] = []

    def open_model(settings):
        models.append(ScriptedChat(["yes"] * 5))
        models[-1].name = getattr(judge_name, "value", "scripted")
        return models[-1], None

    class judge_name:  # noqa: N801 - a mutable holder the test sets
        value = "scripted"

    monkeypatch.setattr("assistant.models.llm.chat_model_from_settings", open_model)
    monkeypatch.setattr(faithfulness, "CACHE", tmp_path / "verdicts.json")

    def calls() -> int:
        return sum(len(m.history) for m in models)

    return calls, judge_name


def test_a_verdict_is_reused_only_for_the_same_claim_evidence_prompt_and_model(judge, monkeypatch):
    calls, name = judge
    embedder = FakeEmbedder()
    verdicts, model, _ = faithfulness.judge_verdicts([item("Dmitriev is expected to meet Witkoff.")], embedder)
    assert verdicts == {"row-1": True} and model == "scripted" and calls() == 1
    faithfulness.judge_verdicts([item("Dmitriev is expected to meet Witkoff.")], embedder)
    assert calls() == 1  # same row, same everything: cached

    faithfulness.judge_verdicts([item("Dmitriev met Witkoff.")], embedder)  # the row was edited
    assert calls() == 2
    name.value = "another-model"
    faithfulness.judge_verdicts([item("Dmitriev met Witkoff.")], embedder)
    assert calls() == 3

    real = faithfulness.load_prompt("check_claim")
    changed = type(real)(real.name, real.system + "\nBe strict.", real.user)
    monkeypatch.setattr(faithfulness, "load_prompt", lambda name: changed)
    faithfulness.judge_verdicts([item("Dmitriev met Witkoff.")], embedder)
    assert calls() == 4  # the judge prompt changed
    cache = json.loads(faithfulness.CACHE.read_text())
    assert len(cache["verdicts"]) == 4


class BlockChecker:
    """Says yes only when the keyed block it is given holds the claim's last word: the verdict depends on the
    block, as the product's judge call does."""

    name = "block-checker"

    def __init__(self) -> None:
        self.calls = 0

    def check(self, claim, evidence, context="", block=None, keys=None):
        from ..support.eval_standins import Verdict

        self.calls += 1
        seen = block if block else " ".join(evidence)
        last = claim.rstrip(".").split()[-1]
        return Verdict(last in seen, "" if last in seen else "judge", "" if last in seen else f"no {last!r}")


def test_the_eval_judge_reuses_a_verdict_only_for_the_same_block_and_keys():
    """eval-judge --articles asks with each row's whole article as the block: two rows with the same claim and
    cited sentence under different blocks got the first row's verdict, keyed by (sources, claim, context)."""
    from assistant.evaluation.judge import EntailmentJudge

    checker = BlockChecker()
    judge = EntailmentJudge(checker)
    claim, sources = "Dmitriev meets Witkoff.", list(EVIDENCE)
    assert judge.supports(sources, claim, block="[1] Dmitriev meets Witkoff.", keys=[1]) is True
    assert judge.supports(sources, claim, block="[1] Dmitriev meets Rubio.", keys=[1]) is False
    assert judge.supports(sources, claim, block="[1] Dmitriev meets Witkoff.", keys=[1]) is True  # cached
    assert judge.supports(sources, claim, block="[1] Dmitriev meets Witkoff.", keys=[2]) is True
    assert checker.calls == 3 and judge.calls == 3
    assert judge.why(sources, claim, block="[1] Dmitriev meets Rubio.", keys=[1]) == "judge: no 'Witkoff'"
    assert judge.why(sources, claim, block="[1] Dmitriev meets Witkoff.", keys=[1]) == ""
