"""Calibrate the offline support judge (LexicalJudge) on CLAPnq dev evidence sentences.

    .venv/bin/python evals/calibrate_judge.py [--dataset DIR] [--out FILE] [--threads N]

Pairs (claim, source) are built from the answerable questions, one claim per sentence of the
reference answer (claims with fewer than 3 content words are skipped):

- positive: the question's gold evidence sentences, read together, as the source;
- hard negative (same passage): as many non-evidence sentences of the same gold passage, the ones
  sharing most content words with the claim;
- negative (other passage): as many sentences of another question's gold passage (seeded choice),
  again the ones sharing most content words with the claim.

Questions are split in two halves (seeded): the threshold that maximises balanced accuracy on the
calibration half is reported with its accuracy, balanced accuracy, precision, recall, F1 and
Cohen's kappa on the held-out half (and on everything), next to the judge's current constant
LEXICAL_THRESHOLD. Writes evals/results/judge_calibration.json.

Blind spots, reported apart and not used to pick the threshold: the positive claims negated ("It is
not true that ...") or with their numbers changed, each against its own gold evidence. A word-overlap
judge cannot tell these from the originals; the share it rejects shows how much (or little) an
offline judge can be trusted on contradictions. Use `--judge llm` where that matters.

Labels are approximate: annotators chose evidence for the whole answer, so a non-evidence
sentence may still support part of a claim. Data: CLAPnq (Rosenthal et al., TACL 2025,
arXiv:2404.02103), Apache-2.0; passages from Wikipedia via Natural Questions (CC BY-SA).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answer.citations import content_stems  # noqa: E402
from assistant.evaluation.judge import LEXICAL_THRESHOLD, LexicalJudge  # noqa: E402
from assistant.evaluation.metrics import best_threshold, binary_agreement  # noqa: E402
from assistant.sentences import sentence_spans  # noqa: E402

SEED = 13
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _closest(claim: str, candidates: list[str], n: int) -> list[str]:
    stems = content_stems(claim)
    ranked = sorted(candidates, key=lambda s: (-len(stems & content_stems(s)), candidates.index(s)))
    return ranked[:n]


def build_pairs(questions: list[dict], articles: dict[str, dict], seed: int = SEED) -> list[dict]:
    """(question id, kind, claim, sources, label) records; kinds: evidence, same_passage, other_passage."""
    rng = random.Random(seed)
    answerable = [q for q in questions if q.get("answerable") and q.get("evidence") and q.get("gold_article_ids")]
    pairs: list[dict] = []
    for q in answerable:
        gold = q["gold_article_ids"][0]
        evidence = list(q["evidence"])
        rest = [s for s in articles[gold]["sentences"] if s not in evidence and len(content_stems(s)) >= 3]
        others = [o for o in answerable if o["gold_article_ids"][0] != gold]
        other = rng.choice(others)
        other_sents = [s for s in articles[other["gold_article_ids"][0]]["sentences"] if len(content_stems(s)) >= 3]
        answer = q["answer"]
        for a, b in sentence_spans(answer):
            claim = answer[a:b]
            if len(content_stems(claim)) < 3:
                continue
            n = len(evidence)
            pairs.append({"qid": q["id"], "kind": "evidence", "claim": claim, "sources": evidence, "label": True})
            if rest:
                pairs.append({"qid": q["id"], "kind": "same_passage", "claim": claim,
                              "sources": _closest(claim, rest, n), "label": False})
            pairs.append({"qid": q["id"], "kind": "other_passage", "claim": claim,
                          "sources": _closest(claim, other_sents, n), "label": False})
    return pairs


def blind_spot_pairs(pairs: list[dict]) -> list[dict]:
    """Unsupported variants of the positive claims: negated, and with every number changed."""
    out: list[dict] = []
    for p in pairs:
        if p["kind"] != "evidence":
            continue
        claim = p["claim"]
        negated = f"It is not true that {claim[0].lower()}{claim[1:]}"
        out.append({**p, "kind": "negated", "claim": negated, "label": False})
        if _NUMBER.search(claim):
            changed = _NUMBER.sub(lambda m: str(int(float(m.group().replace(",", ""))) + 7), claim)
            out.append({**p, "kind": "number_changed", "claim": changed, "label": False})
    return out


def _scores_at(pairs: list[dict], threshold: float) -> dict:
    out = {k: round(v, 4) for k, v in binary_agreement([p["label"] for p in pairs],
                                                        [p["score"] >= threshold for p in pairs]).items()}
    for kind in ("evidence", "same_passage", "other_passage"):
        sel = [p for p in pairs if p["kind"] == kind]
        if sel:
            # Share of pairs of this kind the judge gets right.
            out[f"agreement_{kind}"] = round(sum((p["score"] >= threshold) == p["label"] for p in sel) / len(sel), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / ".." / "shared" / "datasets" / "clapnq_dev")
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results" / "judge_calibration.json")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads for the embedder")
    args = parser.parse_args(argv)

    from assistant.models.embed import MiniLMEmbedder

    questions = _load(args.dataset / "questions.jsonl")
    articles = {a["id"]: a for a in _load(args.dataset / "articles.jsonl")}
    pairs = build_pairs(questions, articles)
    blind = blind_spot_pairs(pairs)
    judge = LexicalJudge(MiniLMEmbedder(threads=args.threads))
    t = time.perf_counter()
    judge.prefetch([p["claim"] for p in pairs + blind] + [s for p in pairs for s in p["sources"]])
    for p in pairs + blind:
        p["score"] = judge.score(p["sources"], p["claim"])
    seconds = time.perf_counter() - t

    qids = sorted({p["qid"] for p in pairs})
    random.Random(SEED).shuffle(qids)
    calib_ids = set(qids[: len(qids) // 2])
    calib = [p for p in pairs if p["qid"] in calib_ids]
    test = [p for p in pairs if p["qid"] not in calib_ids]
    threshold, _ = best_threshold([p["score"] for p in calib], [p["label"] for p in calib])

    def mean_score(kind: str) -> float:
        sel = [p["score"] for p in pairs if p["kind"] == kind]
        return round(sum(sel) / len(sel), 4) if sel else 0.0

    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": "CLAPnq dev (Rosenthal et al., TACL 2025, arXiv:2404.02103)",
        "embedder": judge.embedder.name, "seed": SEED, "seconds": round(seconds, 1),
        "pairs": {"total": len(pairs), "questions": len(qids),
                  **{k: sum(1 for p in pairs if p["kind"] == k) for k in ("evidence", "same_passage", "other_passage")}},
        "mean_score": {k: mean_score(k) for k in ("evidence", "same_passage", "other_passage")},
        "selection": "threshold maximising balanced accuracy on the calibration half (grid 0.00..1.00)",
        "calibrated_threshold": threshold,
        "held_out_at_calibrated": _scores_at(test, threshold),
        "all_at_calibrated": _scores_at(pairs, threshold),
        "judge_constant": LEXICAL_THRESHOLD,
        "held_out_at_judge_constant": _scores_at(test, LEXICAL_THRESHOLD),
        "blind_spots_at_calibrated": {
            kind: {"pairs": len(sel), "rejected": round(sum(p["score"] < threshold for p in sel) / len(sel), 4),
                   "mean_score": round(sum(p["score"] for p in sel) / len(sel), 4)}
            for kind in ("negated", "number_changed")
            if (sel := [p for p in blind if p["kind"] == kind])
        },
        "note": "labels are approximate: a non-evidence sentence may still support part of a claim",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    h = result["held_out_at_calibrated"]
    print(f"{len(pairs)} pairs from {len(qids)} questions; threshold {threshold:.2f} (calibration half); held out: "
          f"accuracy {h['accuracy']:.3f}, balanced {h['balanced_accuracy']:.3f}, F1 {h['f1']:.3f}, "
          f"kappa {h['kappa']:.3f}")
    for kind, b in result["blind_spots_at_calibrated"].items():
        print(f"blind spot {kind}: {b['pairs']} unsupported variants, judge rejects {b['rejected']:.1%}")
    if abs(threshold - LEXICAL_THRESHOLD) > 1e-9:
        print(f"note: LEXICAL_THRESHOLD in assistant/evaluation/judge.py is {LEXICAL_THRESHOLD}; "
              f"calibration suggests {threshold:.2f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
