"""`briefing eval-judge`: how far to trust the citation judge, measured on a labelled faithfulness set.

Each line of the set (default evals/datasets/faithfulness.jsonl) holds a `claim`, the `evidence`
sentences it cites, a `label` ("supported" / "unsupported"), the `kind` of row (e.g. "true",
"negated", "number", "entity", "attribution", "unrelated") and a `split`; optionally a `context`: text
the product would lend the checker for names (the cited briefing's headline and other sentences). The judge decides every
row; the report gives accuracy, F1 (positive = supported), Cohen's kappa, the keep rate of true
claims (supported rows judged supported) and the reject rate of each perturbation kind, plus which
layer of the checker rejected what. Written to evals/results/judge_eval.json and .md; every eval
report reads the JSON and prints the accuracy next to its citation numbers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from . import metrics as M
from .dataset import DatasetError
from ..answer.injection import defang
from ..ingest.files import title_from_name
from ..sentences import sentence_spans
from .judge import EntailmentJudge

DEFAULT_SET = Path("evals") / "datasets" / "faithfulness.jsonl"
DEFAULT_OUT = Path("evals") / "results"


@dataclass(frozen=True)
class LabelledClaim:
    """One row of the faithfulness set."""

    claim: str
    evidence: tuple[str, ...]
    supported: bool
    kind: str = ""
    split: str = ""
    id: str = ""
    context: str = ""
    block: str = ""  # the whole keyed evidence block the judge sees (as_run), "" for the cited sentences alone
    keys: tuple[int, ...] = ()  # the cited sentences' keys in `block`


def load_claims(path: str | Path = DEFAULT_SET, split: str | None = None) -> list[LabelledClaim]:
    """The rows of a faithfulness JSONL (optionally one split); DatasetError names a bad line."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"no faithfulness set at {p}", hint="pass the labelled set, e.g. evals/datasets/faithfulness.jsonl")
    rows: list[LabelledClaim] = []
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            d = json.loads(line)
            evidence = d["evidence"]
            evidence = (evidence,) if isinstance(evidence, str) else tuple(str(e) for e in evidence)
            label = str(d["label"]).lower()
            if label not in ("supported", "unsupported") or not str(d["claim"]).strip():
                raise ValueError(f"label must be supported or unsupported, not {d['label']!r}")
            row = LabelledClaim(str(d["claim"]), evidence, label == "supported", str(d.get("kind", "")),
                                str(d.get("split", "")), str(d.get("id", lineno)), str(d.get("context") or ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{p}:{lineno}: not a faithfulness row ({exc})") from exc
        if split is None or row.split == split:
            rows.append(row)
    if not rows:
        raise DatasetError(f"{p} holds no rows" + (f" in split {split!r}" if split else ""))
    return rows


def score_judge(judge: Any, rows: Sequence[LabelledClaim]) -> dict[str, Any]:
    """Run the judge on every row; agreement with the labels, per-kind rates and the rejecting layers."""
    preds, by_kind, layers, wrong, scores = [], {}, {}, [], []
    t = time.perf_counter()
    for r in rows:
        # Only a checker takes a context (names it may borrow) and a block; other judges see the cited sentences alone.
        ctx: dict[str, Any] = {"context": r.context} if r.context and isinstance(judge, EntailmentJudge) else {}
        if r.block and isinstance(judge, EntailmentJudge):
            ctx.update(block=r.block, keys=r.keys)
        ok = bool(judge.supports(list(r.evidence), r.claim, **ctx))
        preds.append(ok)
        v = judge.verdict(list(r.evidence), r.claim, **ctx) if hasattr(judge, "verdict") else None
        # What a threshold on the judge's P(yes) would decide is recomputed from these (evals/judge_threshold.py).
        scores.append({"id": r.id, "kind": r.kind, "supported": r.supported, "kept": ok,
                       "judged": bool(getattr(v, "judged", False)), "p_yes": getattr(v, "p_yes", None)})
        k = by_kind.setdefault(r.kind or ("true" if r.supported else "false"), {"n": 0, "supported_label": r.supported, "judged_supported": 0})
        k["n"] += 1
        k["judged_supported"] += ok
        why = judge.why(list(r.evidence), r.claim, **ctx) if hasattr(judge, "why") else ""
        if not ok:
            layer = why.split(":", 1)[0] or "unknown"
            layers[layer] = layers.get(layer, 0) + 1
        if ok != r.supported:
            wrong.append({"id": r.id, "kind": r.kind, "label": "supported" if r.supported else "unsupported",
                          "claim": r.claim, "why": why})
    seconds = time.perf_counter() - t
    for k in by_kind.values():
        rate = k["judged_supported"] / k["n"]
        k["keep_rate" if k["supported_label"] else "reject_rate"] = rate if k["supported_label"] else 1 - rate
    gold = [r.supported for r in rows]
    kept = [p for p, g in zip(preds, gold) if g]
    return {"overall": M.binary_agreement(gold, preds), "keep_rate": sum(kept) / len(kept) if kept else None,
            "reject_rate": {k: v["reject_rate"] for k, v in sorted(by_kind.items()) if "reject_rate" in v},
            "by_kind": by_kind, "rejected_by_layer": layers, "errors": wrong, "scores": scores,
            "seconds": round(seconds, 1),
            "seconds_per_row": round(seconds / len(rows), 3) if rows else None}


def as_run(rows: Sequence[LabelledClaim], articles: dict[str, str]) -> list[LabelledClaim]:
    """The rows as the product asks its judge: each with its whole article (looked up by the row's context,
    the article's title) as the keyed evidence block, and the keys of the sentences it cites. A row whose
    article or cited sentence is not found keeps the cited sentences alone."""
    out = []
    for r in rows:
        body = articles.get(r.context.strip().casefold())
        if not body:
            out.append(r)
            continue
        sentences = [body[s:e] for s, e in sentence_spans(body)]
        keys = []
        for ev in r.evidence:
            k = next((i for i, s in enumerate(sentences, 1) if s == ev.strip()), None) or \
                next((i for i, s in enumerate(sentences, 1) if ev.strip() in s or s in ev), None)
            if k is None:
                break
            keys.append(k)
        if len(keys) != len(r.evidence):
            out.append(r)
            continue
        block = "\n".join(f"[{i}] {defang(s)}" for i, s in enumerate(sentences, 1))
        out.append(replace(r, block=block, keys=tuple(keys)))
    return out


def load_articles(paths: Sequence[str | Path]) -> dict[str, str]:
    """Article bodies by lower-cased title: JSONL files of {title, body}, or text files titled by their name
    ("russia-envoy-washington.txt" -> "Russia envoy washington", as ingest titles them)."""
    found: dict[str, str] = {}
    for path in paths:
        p = Path(path)
        if p.suffix == ".jsonl":
            for line in p.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    d = json.loads(line)
                    found.setdefault(str(d.get("title", "")).strip().casefold(), str(d.get("body", "")))
        else:
            found[title_from_name(p).casefold()] = p.read_text(encoding="utf-8")
    return found


def run_eval_judge(judge: Any, dataset: str | Path = DEFAULT_SET, out: str | Path | None = DEFAULT_OUT,
                   split: str | None = None, limit: int | None = None,
                   articles: Sequence[str | Path] = ()) -> dict[str, Any]:
    """Score the judge on the set, write judge_eval.json/.md into `out` (None: write nothing). With
    `articles`, each row's judge call sees its whole article as the evidence block (as_run)."""
    rows = load_claims(dataset, split)
    if articles:
        rows = as_run(rows, load_articles(articles))
    if limit is not None:
        rows = _spread(rows, limit)
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "judge": getattr(judge, "name", ""),
              "dataset": str(dataset), "split": split, "rows": len(rows),
              "as_run": sum(1 for r in rows if r.block), **score_judge(judge, rows)}
    if out is not None:
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        (o / "judge_eval.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (o / "judge_eval.md").write_text(markdown(result), encoding="utf-8")
        result["paths"] = [str(o / "judge_eval.json"), str(o / "judge_eval.md")]
    return result


def _spread(rows: list[LabelledClaim], limit: int) -> list[LabelledClaim]:
    # A limited run takes rows from every kind in turn, so each class keeps a rate.
    groups: dict[str, list[LabelledClaim]] = {}
    for r in rows:
        groups.setdefault(r.kind, []).append(r)
    picked: list[LabelledClaim] = []
    while len(picked) < min(limit, len(rows)):
        for g in groups.values():
            if g and len(picked) < limit:
                picked.append(g.pop(0))
    return picked


def markdown(result: dict[str, Any]) -> str:
    """The judge measurement as a short Markdown report."""
    o = result["overall"]
    lines = ["# Citation judge on the labelled faithfulness set", "",
             f"judge `{result['judge']}`, {result['rows']} rows of {result['dataset']}"
             + (f" (split {result['split']})" if result["split"] else "") + f", {result['date']}, "
             f"{result['seconds']} s ({result['seconds_per_row']} s per row)", "",
             "| accuracy | balanced accuracy | F1 (supported) | Cohen's kappa | keep rate of true claims |",
             "|---|---|---|---|---|",
             f"| {o['accuracy']:.3f} | {o['balanced_accuracy']:.3f} | {o['f1']:.3f} | {o['kappa']:.3f} | "
             f"{_f(result['keep_rate'])} |", "", "| kind | label | n | keep / reject rate |", "|---|---|---|---|"]
    for kind, k in result["by_kind"].items():
        label = "supported" if k["supported_label"] else "unsupported"
        rate = f"keep {k['keep_rate']:.3f}" if "keep_rate" in k else f"reject {k['reject_rate']:.3f}"
        lines.append(f"| {kind} | {label} | {k['n']} | {rate} |")
    if result["rejected_by_layer"]:
        lines += ["", "Rejected by layer: " + ", ".join(f"{k} {v}" for k, v in sorted(result["rejected_by_layer"].items()))]
    if result["errors"]:
        lines += ["", "## Disagreements (first 20)", ""]
        lines += [f"- `{e['id']}` {e['kind']} ({e['label']}): {e['claim']}" + (f" — {e['why']}" if e["why"] else "")
                  for e in result["errors"][:20]]
    return "\n".join(lines) + "\n"


def _f(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def judge_measurement(path: str | Path | None, judge_name: str) -> dict[str, Any] | None:
    """The judge's measured accuracy from judge_eval.json, or None; `same_judge` says whether it was
    measured for a judge of this run's name."""
    if not path or not Path(path).is_file():
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        o = data["overall"]
    except (ValueError, KeyError, TypeError):
        return None
    return {"accuracy": o.get("accuracy"), "kappa": o.get("kappa"), "f1": o.get("f1"), "n": o.get("n"),
            "keep_rate": data.get("keep_rate"), "judge": data.get("judge", ""), "date": data.get("date", ""),
            "file": str(path), "same_judge": data.get("judge", "") == judge_name}


def newest_result(folder: str | Path) -> Path | None:
    """The eval-judge results file (*.json with a date) in `folder` whose run is the latest, or None."""
    best: tuple[str, Path] | None = None
    for path in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else ():
        try:
            date = str(json.loads(path.read_text(encoding="utf-8")).get("date") or "")
        except (ValueError, AttributeError):
            continue
        if date and (best is None or date > best[0]):
            best = (date, path)
    return best[1] if best else None
