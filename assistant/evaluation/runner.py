"""Run an eval: ingest a corpus into a fresh store, ask every question, score, aggregate.

    result = run_eval("evals/datasets/seed_briefing.jsonl", ["examples/briefings"], out="evals/reports/seed")

`evaluate(assistant, items, corpus, judge)` is the core with everything injected (tests pass an
Assistant built on a scripted model); `run_eval` builds the Assistant on a temporary data dir,
picks the judge, writes the reports and checks the gates.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..citations import MARKER, is_refusal, split_answer
from ..errors import AssistantError, ConfigError, LLMError
from ..types import Answer, to_jsonable
from . import metrics as M
from .dataset import DatasetError, EvalItem, corpus_hash, file_hash, load_dataset, resolve_gold, select
from .judge import LexicalJudge, LLMJudge, SupportJudge, judge_info

KS = (1, 5, 10)
SEARCH_K = 10
CONTEXT_CHARS = 160
MAX_CONSECUTIVE_ERRORS = 3
STAGES = ("rewrite", "retrieve", "first_token", "generate", "postprocess", "total")


@dataclass
class CaseResult:
    """Everything measured for one question (JSON-ready through to_jsonable)."""

    id: str
    question: str
    gold_answerable: bool
    answered: bool = False
    answer: str = ""
    raw_answer: str = ""
    standalone_question: str = ""
    model: str = ""
    reference: str | None = None
    must_mention: list[str] = field(default_factory=list)
    missed_patterns: list[str] = field(default_factory=list)
    gold_ids: list[str] = field(default_factory=list)
    unresolved_gold: list[str] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    error: str = ""


@dataclass
class EvalResult:
    """A finished run: provenance, aggregate metrics, gates and the per-question records."""

    meta: dict[str, Any]
    metrics: dict[str, Any]
    cases: list[CaseResult]
    gates: list[dict[str, Any]] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole run."""
        return to_jsonable({"meta": self.meta, "metrics": self.metrics, "gates": self.gates,
                            "cases": self.cases})

    @property
    def passed(self) -> bool:
        """True when no gate failed."""
        return all(g["passed"] for g in self.gates)


def score_case(item: EvalItem, answer: Answer, ranked: Sequence[Any], gold: set[str],
               bodies: dict[str, str], judge: SupportJudge) -> CaseResult:
    """Score one answer against its eval item. `ranked` are the top passages of a separate search."""
    c = CaseResult(id=item.id, question=item.question, gold_answerable=item.answerable,
                   answered=bool(answer.answerable), answer=answer.text, raw_answer=answer.raw_text,
                   standalone_question=answer.standalone_question, model=answer.model,
                   reference=item.reference, must_mention=list(item.must_mention), gold_ids=sorted(gold))
    m = c.metrics
    ranked_ids = [p.article_id for p in ranked]
    c.retrieved = [{"rank": i, "article_id": p.article_id, "title": p.title, "gold": p.article_id in gold}
                   for i, p in enumerate(ranked, 1)]
    if gold:
        for k in KS:
            m[f"retrieval.hits@{k}"] = M.hits_at_k(ranked_ids, gold, k)
        for k in (5, 10):
            m[f"retrieval.recall@{k}"] = M.recall_at_k(ranked_ids, gold, k)
        m["retrieval.mrr@10"] = M.reciprocal_rank(ranked_ids, gold, 10)
        m["retrieval.context_hit"] = 1.0 if gold & {p.article_id for p in answer.passages} else 0.0
    if item.evidence:
        texts = [p.text for p in ranked]
        found = M.evidence_found(texts, item.evidence)
        c.evidence = [{"quote": q, "retrieved": f} for q, f in zip(item.evidence, found)]
        m["retrieval.evidence_hits@10"] = 1.0 if any(found) else 0.0
        m["retrieval.evidence_recall@10"] = sum(found) / len(found)
        m["retrieval.evidence_shown"] = M.evidence_shown([e.text for e in answer.evidence], item.evidence)

    # Citations: validity of the keys the model wrote, verbatim quotes, ALCE with the judge.
    written = [k for _, keys in split_answer(answer.raw_text) for k in keys] if answer.raw_text else []
    valid, total = M.citation_validity(written, [e.key for e in answer.evidence])
    verbatim = 0
    titles = {p.article_id: p.title for p in answer.passages}
    for cit in answer.citations:
        body = bodies.get(cit.article_id, "")
        ok = M.is_verbatim(cit.quote, body, cit.start, cit.end)
        verbatim += ok
        c.citations.append({
            "key": cit.key, "article_id": cit.article_id, "title": titles.get(cit.article_id, ""), "quote": cit.quote, "start": cit.start, "end": cit.end,
            "sentence_index": cit.sentence_index, "support": cit.support, "repaired": cit.repaired, "verbatim": ok,
            "before": body[max(0, cit.start - CONTEXT_CHARS):cit.start] if ok else "",
            "after": body[cit.end:cit.end + CONTEXT_CHARS] if ok else "",
        })
    c.counts = {"keys_written": total, "keys_valid": valid, "citations": len(answer.citations),
                "citations_verbatim": verbatim, "sentences_raw": len(answer.sentences),
                "sentences_kept": sum(1 for s in answer.sentences if s.kept)}
    ev_text = {e.key: e.text for e in answer.evidence}
    claims = [(s.text, [ev_text[k] for k in s.keys if k in ev_text]) for s in answer.sentences
              if s.kept and s.note != "connective" and not is_refusal(s.text)] if answer.answerable else []
    if claims:
        if hasattr(judge, "prefetch"):
            judge.prefetch([t for t, _ in claims] + [x for _, srcs in claims for x in srcs])
        res = M.alce(claims, judge.supports)
        m["citations.alce_recall"] = res.recall
        m["citations.alce_precision"] = res.precision
        c.sentences = [{"text": s.text, "sources": list(s.sources), "supported": s.supported,
                        "irrelevant": list(s.irrelevant)} for s in res.sentences]
    m["citations.cited_answer"] = (1.0 if answer.citations else 0.0) if answer.answerable else None

    text = MARKER.sub("", answer.text)
    if item.must_mention:
        ok, c.missed_patterns = M.must_mention(text, item.must_mention)
        m["correctness.must_mention"] = 1.0 if ok else 0.0
    if item.reference:
        m["correctness.token_f1"] = M.token_f1(text, item.reference)
        m["correctness.rougeL"] = M.rouge_l(text, item.reference)
    c.timings = {s: float(answer.timings[f"{s}_s"]) for s in STAGES[:-1] if f"{s}_s" in answer.timings}
    c.timings["total"] = float(answer.latency_s)
    c.usage = dict(answer.usage)
    return c


def aggregate(cases: Sequence[CaseResult]) -> dict[str, Any]:
    """Run-level metrics from per-question records (formulas in docs/evals.md)."""
    ok = [c for c in cases if not c.error]

    def avg(key: str) -> float | None:
        return M.mean(c.metrics.get(key) for c in ok)

    def count(key: str) -> int:
        return sum(1 for c in ok if c.metrics.get(key) is not None)

    def micro(num: str, den: str) -> float | None:
        d = sum(c.counts.get(den, 0) for c in ok)
        return sum(c.counts.get(num, 0) for c in ok) / d if d else None

    retrieval: dict[str, Any] = {k.split(".", 1)[1]: avg(k) for k in (
        *(f"retrieval.hits@{k}" for k in KS), "retrieval.recall@5", "retrieval.recall@10", "retrieval.mrr@10",
        "retrieval.context_hit", "retrieval.evidence_hits@10", "retrieval.evidence_recall@10",
        "retrieval.evidence_shown")}
    retrieval["n_gold"] = count("retrieval.mrr@10")
    retrieval["n_evidence"] = count("retrieval.evidence_hits@10")
    confusion = M.refusal_confusion((c.gold_answerable, c.answered) for c in ok)
    tokens = {k: sum(c.usage.get(k, 0) for c in ok) for k in ("prompt_tokens", "completion_tokens")}
    latency = {s: M.distribution([c.timings.get(s) for c in ok]) for s in STAGES}
    return {
        "retrieval": retrieval,
        "citations": {
            "validity": micro("keys_valid", "keys_written"),
            "verbatim": micro("citations_verbatim", "citations"),
            "alce_recall": avg("citations.alce_recall"),
            "alce_precision": avg("citations.alce_precision"),
            "cited_answers": avg("citations.cited_answer"),
            "kept_sentences": micro("sentences_kept", "sentences_raw"),
            "n_answers": count("citations.alce_recall"),
        },
        "refusals": {**M.refusal_scores(confusion), "confusion": confusion},
        "correctness": {
            "must_mention": avg("correctness.must_mention"), "token_f1": avg("correctness.token_f1"),
            "rougeL": avg("correctness.rougeL"), "n_must_mention": count("correctness.must_mention"),
            "n_reference": count("correctness.token_f1"),
        },
        "cost": {"latency_s": latency, "tokens": {**tokens, "per_question": {
            k: (v / len(ok) if ok else None) for k, v in tokens.items()}}},
        "run": {"questions": len(cases), "errors": len(cases) - len(ok),
                "completed": len(ok) / len(cases) if cases else None},
    }


def evaluate(assistant: Any, items: Sequence[EvalItem], corpus: Sequence[str | Path], judge: SupportJudge,
             progress: bool = True, as_of: str | None = None) -> tuple[list[CaseResult], dict[str, Any]]:
    """Ingest the corpus, ask each question, score it. Returns the cases and provenance facts.
    `as_of` answers every question without its own as_of as of that date (time words resolve against it)."""
    t = time.perf_counter()
    report = assistant.ingest(list(corpus))
    ingest_s = time.perf_counter() - t
    articles = assistant.articles()
    if not articles:
        reasons = "; ".join(f"{f.where}: {f.reason}" for f in report.failed[:3])
        raise DatasetError(f"the corpus gave no articles ({reasons or 'nothing found'})",
                           hint="pass --corpus with briefing files, folders or an articles JSONL")
    from tqdm import tqdm

    cases: list[CaseResult] = []
    streak = 0
    bar = tqdm(items, desc="eval", unit="q", disable=None if progress else True, leave=False)
    for item in bar:
        gold, unresolved = resolve_gold(item.gold_article_ids, articles)
        filters = {"as_of": item.as_of or as_of} if (item.as_of or as_of) else {}
        try:
            answer = assistant.ask(item.question, history=item.history_turns() or None, **filters)
            ranked = assistant.search(answer.standalone_question or item.question, k=SEARCH_K, **filters)
            bodies = assistant.store.bodies({c.article_id for c in answer.citations})
            case = score_case(item, answer, ranked, gold, bodies, judge)
            streak = 0
        except (LLMError, ConfigError) as exc:
            streak += 1
            case = CaseResult(id=item.id, question=item.question, gold_answerable=item.answerable, error=exc.one_line())
            if streak >= MAX_CONSECUTIVE_ERRORS:
                bar.close()
                raise
        except AssistantError as exc:
            case = CaseResult(id=item.id, question=item.question, gold_answerable=item.answerable, error=exc.one_line())
        case.unresolved_gold = unresolved
        cases.append(case)
        done = [x for x in cases if not x.error]
        bar.set_postfix(answered=sum(x.answered for x in done), refused=sum(not x.answered for x in done),
                        errors=len(cases) - len(done))
    bar.close()
    facts = {"articles": len(articles), "corpus_hash": corpus_hash(articles), "ingest_s": round(ingest_s, 2),
             "ingest_failed": [f"{f.where}: {f.reason}" for f in report.failed]}
    return cases, facts


def run_eval(dataset: str | Path, corpus: Sequence[str | Path], out: str | Path | None = None,
             limit: int | None = None, stratified: bool = False, judge: str = "lexical", seed: int = 0,
             thresholds: str | Path | None = None, assistant: Any = None, progress: bool = True,
             as_of: str | None = None) -> EvalResult:
    """The whole run: load and select questions, evaluate on a fresh store, aggregate, gate, report.

    With `assistant=None` an Assistant is built from settings on a temporary data dir (removed
    afterwards). `judge` is "lexical" (offline) or "llm" (needs a configured endpoint).
    """
    from . import gates, report

    items = select(load_dataset(dataset), limit=limit, stratified=stratified, seed=seed)
    if not corpus:
        raise DatasetError("no corpus given", hint="pass --corpus FILE_OR_FOLDER (repeatable)")
    started = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="briefing-eval-") as tmp:
        own = assistant is None
        if own:
            from ..assistant import Assistant

            assistant = Assistant.from_settings(data_dir=Path(tmp) / "data", chroma_url="")
        try:
            the_judge = make_judge(judge, assistant)
            cases, facts = evaluate(assistant, items, corpus, the_judge, progress=progress, as_of=as_of)
        finally:
            if own:
                assistant.close()
    s = assistant.settings
    models = Counter(c.model for c in cases if c.model and not c.model.startswith("none"))
    meta = {
        "date": started.isoformat(timespec="seconds"), "seconds": round((datetime.now(timezone.utc) - started).total_seconds(), 1),
        "dataset": str(dataset), "dataset_hash": file_hash(dataset), "question_ids_hash": _ids_hash(items),
        "questions": len(items), "limit": limit, "stratified": stratified, "seed": seed,
        "corpus": [str(p) for p in corpus], **facts,
        "model": models.most_common(1)[0][0] if models else (s.llm.model or "unknown"),
        "settings_hash": s.settings_hash(), "embedder": getattr(assistant.embedder, "name", ""),
        "temperature": s.llm.temperature, "llm_seed": s.llm.seed, "judge": judge_info(the_judge),
        "warnings": _warnings(s, cases),
    }
    result = EvalResult(meta=meta, metrics=aggregate(cases), cases=cases)
    limits = gates.load_thresholds(thresholds) if thresholds else {}
    result.gates = gates.check(result.metrics, limits)
    if out is not None:
        result.paths = report.write_all(result, Path(out))
    return result


def make_judge(kind: str, assistant: Any) -> SupportJudge:
    """The support judge by name: 'lexical' (offline, on the assistant's embedder) or 'llm'."""
    if kind == "lexical":
        return LexicalJudge(assistant.embedder)
    if kind == "llm":
        if assistant.settings.llm.uses_local and getattr(assistant, "_llm", None) is None:
            raise ConfigError("the LLM judge needs a capable hosted model, but none is configured",
                              hint="set OPENAI_API_KEY or BRIEFING_LLM__BASE_URL and BRIEFING_LLM__MODEL, "
                                   "or use --judge lexical")
        return LLMJudge(assistant.llm)
    raise ConfigError(f"unknown judge {kind!r}", hint="use lexical or llm")


def _ids_hash(items: Sequence[EvalItem]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(i.id for i in items).encode()).hexdigest()[:16]


def _warnings(settings: Any, cases: Sequence[CaseResult]) -> list[str]:
    out = []
    if settings.llm.temperature != 0:
        out.append(f"temperature is {settings.llm.temperature}, so answers may differ between runs")
    unresolved = sorted({g for c in cases for g in c.unresolved_gold})
    if unresolved:
        out.append(f"gold references matching no article: {', '.join(unresolved[:5])}")
    return out
