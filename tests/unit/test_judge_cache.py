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
