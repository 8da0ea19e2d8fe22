"""The eval harness with every real part: MiniLM embedder, embedded Chroma, the bundled local model."""

import json

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.evaluation.gates import flatten
from assistant.evaluation.runner import run_eval
from assistant.store import Store

from .conftest import ROOT

# Slow (~20-40 s per question on 2 cores): a seeded, stratified part of the seed dataset.
LIMIT = 6


@pytest.mark.integration
def test_seed_dataset_with_the_real_local_model(tmp_path, real_llm):
    from assistant.embed import MiniLMEmbedder

    settings = Settings(data_dir=tmp_path / "data")
    embedder = MiniLMEmbedder()
    store = Store.open(settings.data_dir, None, settings.collection, embedder)
    assistant = Assistant(settings, store, embedder, llm=real_llm)
    out = tmp_path / "report"
    result = run_eval(ROOT / "evals" / "datasets" / "seed_briefing.jsonl", [ROOT / "examples" / "briefings"],
                      out=out, limit=LIMIT, stratified=True, assistant=assistant,
                      thresholds=ROOT / "evals" / "thresholds.json", progress=False)
    for name in ("report.json", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0
    saved = json.loads((out / "report.json").read_text())
    assert saved["meta"]["model"] and saved["meta"]["settings_hash"] and saved["meta"]["dataset_hash"]
    assert len(saved["cases"]) == LIMIT and result.metrics["run"]["errors"] == 0
    for name, value in flatten(result.metrics).items():
        last = name.rsplit(".", 1)[-1]
        if name.startswith(("cost.", "run.", "refusals.confusion.")) or last == "n" or last.startswith("n_"):
            continue
        assert value is None or 0.0 <= value <= 1.0, (name, value)
    assert all(g["value"] is None or isinstance(g["value"], float) for g in result.gates)
