"""Run an eval: ingest a corpus into a fresh store, ask every question, score, aggregate.

    result = run_eval("evals/datasets/seed_briefing.jsonl", ["examples/briefings"], out="evals/reports/seed")

`evaluate(assistant, items, corpus, judge)` is the core with everything injected (tests pass an
Assistant built on a scripted model); `run_eval` builds the Assistant on a temporary data dir,
picks the judge, writes the reports and checks the gates.
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..answer.citations import MARKER, normalise, split_answer
from ..errors import AssistantError, ConfigError, LLMError
from ..types import REFUSAL, Answer, to_jsonable
from . import correctness as C
from . import failures as F
from . import independent as I
from . import metrics as M
from .dataset import DatasetError, EvalItem, corpus_hash, load_dataset, resolve_gold, select
from .judge import LexicalJudge, SupportJudge, make_judge
from .provenance import run_meta
from .results import CaseResult, EvalResult

_REFUSAL_N = normalise(REFUSAL).rstrip(".")

KS = (1, 5, 10)
SEARCH_K = 10
CONTEXT_CHARS = 160
MAX_CONSECUTIVE_ERRORS = 3
DEFAULT_JUDGE_RESULTS = Path("evals") / "results" / "judge_eval.json"
# first_shown: when the first checked sentence reached the user (issue 26's "first verified sentence").
STAGES = ("rewrite", "retrieve", "first_token", "generate", "first_shown", "postprocess", "total")


# A marker after a closing quote ('… reported.” [3]') belongs to the quoted sentence before it.
_MARKER_AFTER_QUOTE = re.compile(r"([.!?][\"\u201d\u2019)]+)((?:\s*\[[^\]]{1,20}\])+)")
# "The briefing says: “…”": what is claimed is the quoted text, so that is what the judge reads.
_QUOTED_CLAIM = re.compile(r"^[^\"\u201c]{0,60}\b(?:says|said|reports?|reported|writes|wrote)\s*:\s*[\"\u201c](.+)[\"\u201d]\W*$")


def shown_sentences(answer: Answer) -> list[tuple[str, list[int]]]:
    """The sentences the user was shown (`Answer.text`), each with the keys it cites.

    Only the refusal sentinel itself is left out; every other sentence counts, a connective or a
    refusal-shaped sentence that also asserts something included."""
    text = _MARKER_AFTER_QUOTE.sub(lambda m: f"{m.group(2)}{m.group(1)}", answer.text or "")
    return [(t, keys) for t, keys in split_answer(text) if normalise(t).rstrip(".") != _REFUSAL_N]


def claim_of(sentence: str) -> str:
    """What a shown sentence claims: the quoted text of an attributed verbatim quote, else the sentence."""
    m = _QUOTED_CLAIM.match(sentence)
    return m.group(1).strip() if m else sentence


def score_case(item: EvalItem, answer: Answer, ranked: Sequence[Any], gold: set[str],
               bodies: dict[str, str], judge: SupportJudge, similarity: Any = None) -> CaseResult:
    """Score one answer against its eval item. `ranked` are the top passages of a separate search;
    `similarity` (a LexicalJudge) fills the similarity column, never the ALCE numbers."""
    c = CaseResult(id=item.id, question=item.question, gold_answerable=item.answerable,
                   answered=bool(answer.answerable), answer=answer.text, raw_answer=answer.raw_text,
                   standalone_question=answer.standalone_question, model=answer.model,
                   reference=item.reference, must_mention=list(item.must_mention), gold_ids=sorted(gold),
                   qtype=item.qtype, choices=list(item.choices), answer_index=item.answer_index)
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

    # Citations: validity of the keys the model wrote, verbatim quotes, then ALCE over every shown sentence.
    written = [k for _, keys in split_answer(answer.raw_text) for k in keys] if answer.raw_text else []
    valid, total = M.citation_validity(written, [e.key for e in answer.evidence])
    verbatim_keys: set[int] = set()
    quotes: dict[int, str] = {}
    titles = {p.article_id: p.title for p in answer.passages}
    for cit in answer.citations:
        body = bodies.get(cit.article_id, "")
        ok = M.is_verbatim(cit.quote, body, cit.start, cit.end)
        if ok:
            verbatim_keys.add(cit.key)
        quotes.setdefault(cit.key, cit.quote)
        c.citations.append({
            "key": cit.key, "article_id": cit.article_id, "title": titles.get(cit.article_id, ""), "quote": cit.quote, "start": cit.start, "end": cit.end,
            "sentence_index": cit.sentence_index, "support": cit.support, "repaired": cit.repaired, "verbatim": ok,
            "before": body[max(0, cit.start - CONTEXT_CHARS):cit.start] if ok else "",
            "after": body[cit.end:cit.end + CONTEXT_CHARS] if ok else "",
        })
    ev_text = {e.key: e.text for e in answer.evidence}
    shown = shown_sentences(answer)
    claims = [(claim_of(t), [ev_text.get(k) or quotes[k] for k in keys if k in ev_text or k in quotes]) for t, keys in shown]
    unverified = sum(1 for _, keys in shown if not verbatim_keys.intersection(keys))
    c.counts = {"keys_written": total, "keys_valid": valid, "citations": len(answer.citations),
                "citations_verbatim": sum(1 for x in c.citations if x["verbatim"]),
                "sentences_raw": len(answer.sentences), "sentences_kept": sum(1 for s in answer.sentences if s.kept),
                "sentences_shown": len(shown), "sentences_unverified": unverified}
    if claims:
        res = M.alce(claims, judge.supports)
        m["citations.alce_recall"] = res.recall
        m["citations.alce_precision"] = res.precision
        sims = [similarity.score(srcs, t) for t, srcs in claims] if similarity is not None else []
        if sims:
            m["citations.similarity"] = sum(sims) / len(sims)
        why = getattr(judge, "why", None)
        c.sentences = [{"text": shown_text, "claim": s.text, "keys": keys, "sources": list(s.sources), "supported": s.supported,
                        "verified": bool(verbatim_keys.intersection(keys)), "irrelevant": list(s.irrelevant),
                        "why": why(s.sources, s.text) if why and not s.supported else "",
                        "similarity": sims[i] if sims else None}
                       for i, (s, (shown_text, keys)) in enumerate(zip(res.sentences, shown))]
    m["citations.cited_answer"] = (1.0 if answer.citations else 0.0) if answer.answerable else None
    if gold and item.answerable:
        # Independent of the product's checker: does a shown citation point into a page the dataset names?
        m["citations.gold_cited"] = 1.0 if gold & {cit.article_id for cit in answer.citations} else 0.0
    c.failure = F.cause(item, answer) or ""
    # Against the row's gold labels by string rules only: what the product's own checker cannot grade for itself.
    gold_labels = I.Gold(answerable=item.answerable, reference=item.reference, must_mention=tuple(item.must_mention),
                         choices=tuple(item.choices), answer_index=item.answer_index, evidence=tuple(item.evidence))
    seen = I.Shown(answered=c.answered, sentences=tuple(t for t, _ in shown),
                   quotes=tuple(cit.quote for cit in answer.citations))
    m.update({f"independent.{k}": v for k, v in I.case_scores(seen, gold_labels).items()})

    text = MARKER.sub("", answer.text)
    if item.must_mention:
        ok, c.missed_patterns = M.must_mention(text, item.must_mention)
        m["correctness.must_mention"] = 1.0 if ok else 0.0
    if item.must_not_mention:
        ok, c.said_patterns = M.must_not_mention(text, item.must_not_mention)
        m["correctness.must_not_mention"] = 1.0 if ok else 0.0
    if item.reference:
        m["correctness.token_f1"] = M.token_f1(text, item.reference)
        m["correctness.rougeL"] = M.rouge_l(text, item.reference)
    m.update(C.score_answer(text, c.answered, item.reference, item.choices, item.answer_index, judge.supports))
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
    shown = sum(c.counts.get("sentences_shown", 0) for c in ok)
    return {
        "retrieval": retrieval,
        "citations": {
            "validity": micro("keys_valid", "keys_written"),
            "verbatim": micro("citations_verbatim", "citations"),
            "alce_recall": avg("citations.alce_recall"),
            "alce_precision": avg("citations.alce_precision"),
            "similarity": avg("citations.similarity"),
            "cited_answers": avg("citations.cited_answer"),
            "kept_sentences": micro("sentences_kept", "sentences_raw"),
            "unverified_shown": sum(c.counts.get("sentences_unverified", 0) for c in ok) if ok else None,
            "shown_sentences": shown,
            "n_answers": count("citations.alce_recall"),
            "gold_cited": avg("citations.gold_cited"), "n_gold_cited": count("citations.gold_cited"),
            # claims that passed the product's checks, by the check that verified them (verbatim, a deletion-only
            # compression, the model judge, the guards alone)
            "verified_by": {r: sum(c.usage.get(f"verified_{r}", 0) for c in ok)
                            for r in ("verbatim", "deletion", "judge", "guards")},
        },
        "independent": I.aggregate({k.split(".", 1)[1]: v for k, v in c.metrics.items() if k.startswith("independent.")}
                                   for c in ok),
        "failures": F.breakdown([c.failure or None for c in ok]),
        "refusals": {**M.refusal_scores(confusion), "confusion": confusion},
        "correctness": {
            "answer_accuracy": avg("correctness.answer_accuracy"), "exact_match": avg("correctness.exact_match"),
            "token_f1": avg("correctness.token_f1"), "rougeL": avg("correctness.rougeL"),
            "choice_accuracy": avg("correctness.choice_accuracy"), "must_mention": avg("correctness.must_mention"),
            "must_not_mention": avg("correctness.must_not_mention"),
            "n_must_not_mention": count("correctness.must_not_mention"),
            "n_reference": count("correctness.token_f1"), "n_judged": count("correctness.answer_accuracy"),
            "n_choice": count("correctness.choice_accuracy"), "n_must_mention": count("correctness.must_mention"),
        },
        "by_type": C.by_type(ok),
        "cost": {"latency_s": latency, "tokens": {**tokens, "per_question": {
            k: (v / len(ok) if ok else None) for k, v in tokens.items()}}},
        "run": {"questions": len(cases), "errors": len(cases) - len(ok),
                "completed": len(ok) / len(cases) if cases else None},
    }


def ingest_corpus(assistant: Any, corpus: Sequence[str | Path]) -> dict[str, Any]:
    """Ingest the corpus into the assistant's (fresh) store; the provenance facts of the library."""
    t = time.perf_counter()
    report = assistant.ingest(list(corpus))
    ingest_s = time.perf_counter() - t
    articles = assistant.articles()
    if not articles:
        reasons = "; ".join(f"{f.where}: {f.reason}" for f in report.failed[:3])
        raise DatasetError(f"the corpus gave no articles ({reasons or 'nothing found'})",
                           hint="pass --corpus with briefing files, folders or an articles JSONL")
    return {"articles": len(articles), "corpus_hash": corpus_hash(articles), "ingest_s": round(ingest_s, 2),
            "ingest_failed": [f"{f.where}: {f.reason}" for f in report.failed]}


def ask_all(assistant: Any, items: Sequence[EvalItem], judge: SupportJudge, pipeline: Any = None,
            progress: bool = True, as_of: str | None = None, desc: str = "eval",
            journal: Path | None = None) -> list[CaseResult]:
    """Ask each question through `pipeline` (default the assistant itself; anything with `.ask`) over the
    assistant's ingested library and score it. `journal`: a JSONL file each finished case is appended
    to, so a long run that is stopped still leaves its cases."""
    from tqdm import tqdm

    pipeline = pipeline or assistant
    articles = assistant.articles()
    similarity = LexicalJudge(assistant.embedder) if getattr(assistant, "embedder", None) is not None else None
    cases: list[CaseResult] = []
    streak = 0
    bar = tqdm(items, desc=desc, unit="q", disable=None if progress else True, leave=False)
    for item in bar:
        gold, unresolved = resolve_gold(item.gold_article_ids, articles)
        filters = {"as_of": item.as_of or as_of} if (item.as_of or as_of) else {}
        try:
            answer = pipeline.ask(item.question, history=item.history_turns() or None, **filters)
            ranked = assistant.search(answer.standalone_question or item.question, k=SEARCH_K, **filters)
            bodies = assistant.store.bodies({c.article_id for c in answer.citations})
            case = score_case(item, answer, ranked, gold, bodies, judge, similarity=similarity)
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
        case.qtype = item.qtype
        cases.append(case)
        if journal is not None:
            import json

            with journal.open("a", encoding="utf-8") as f:
                f.write(json.dumps(to_jsonable(case), ensure_ascii=False, default=str) + "\n")
        done = [x for x in cases if not x.error]
        bar.set_postfix(answered=sum(x.answered for x in done), refused=sum(not x.answered for x in done),
                        errors=len(cases) - len(done))
    bar.close()
    return cases


def evaluate(assistant: Any, items: Sequence[EvalItem], corpus: Sequence[str | Path], judge: SupportJudge,
             progress: bool = True, as_of: str | None = None) -> tuple[list[CaseResult], dict[str, Any]]:
    """Ingest the corpus, ask each question, score it. Returns the cases and provenance facts.
    `as_of` answers every question without its own as_of as of that date (time words resolve against it)."""
    facts = ingest_corpus(assistant, corpus)
    return ask_all(assistant, items, judge, progress=progress, as_of=as_of), facts


def run_eval(dataset: str | Path, corpus: Sequence[str | Path], out: str | Path | None = None,
             limit: int | None = None, stratified: bool = False, judge: Any = "entailment", seed: int = 0,
             thresholds: str | Path | None = None, assistant: Any = None, progress: bool = True,
             as_of: str | None = None, configs: Sequence[str] = (), baseline: str | Path | None = None,
             skip_metrics: Sequence[str] = (), judge_model: str | None = None, judge_url: str | None = None,
             judge_results: str | Path | None = DEFAULT_JUDGE_RESULTS, factory: Any = None,
             index: str | Path | None = None) -> EvalResult:
    """The whole run: load and select questions, evaluate on a fresh store, aggregate, gate, report.

    With `assistant=None` an Assistant is built by `factory(**overrides)` (default
    Assistant.from_settings) on a temporary data dir (removed afterwards). `judge` is a judge name (judge.make_judge) or a judge object. `configs` are
    "name=key=value,..." specs (configs.py) run on the same library after the default pipeline, each
    with its own report under out/<name>/ and a column in the main report. `baseline`: an earlier
    report.json to compare with. Gates check the default pipeline only. `index`: a data dir kept between
    runs (the corpus is ingested into it, unchanged articles skipped) instead of a temporary one.
    """
    from . import compare, configs as K, gates, report

    items = select(load_dataset(dataset), limit=limit, stratified=stratified, seed=seed)
    if not corpus:
        raise DatasetError("no corpus given", hint="pass --corpus FILE_OR_FOLDER (repeatable)")
    specs = [K.parse_config(c) for c in configs]
    old = compare.load_report(baseline) if baseline else None
    limits = gates.load_thresholds(thresholds) if thresholds else {}
    started = datetime.now(timezone.utc)
    variants: dict[str, EvalResult] = {}
    with tempfile.TemporaryDirectory(prefix="briefing-eval-") as tmp:
        own = assistant is None
        if own:
            if factory is None:
                from ..assistant import Assistant

                factory = Assistant.from_settings
            assistant = factory(data_dir=Path(index) if index else Path(tmp) / "data", chroma_url="")
        try:
            the_judge = judge if not isinstance(judge, str) else make_judge(judge, assistant, judge_model, judge_url)
            facts = ingest_corpus(assistant, corpus)
            journal = _journal(out, "default")
            cases = ask_all(assistant, items, the_judge, progress=progress, as_of=as_of, journal=journal)
            meta = run_meta(dataset, items, limit, stratified, seed, corpus, facts, assistant, cases, the_judge,
                         started, judge_results)
            for spec in specs:
                t0 = datetime.now(timezone.utc)
                pipeline = K.build(spec, assistant)
                vcases = ask_all(assistant, items, the_judge, pipeline=pipeline, progress=progress, as_of=as_of,
                                 desc=spec.name, journal=_journal(out, spec.name))
                vmeta = {**meta, "config": spec.describe(), "seconds": round((datetime.now(timezone.utc) - t0).total_seconds(), 1)}
                variants[spec.name] = EvalResult(meta=vmeta, metrics=aggregate(vcases), cases=vcases)
        finally:
            if own:
                assistant.close()
    meta["seconds"] = round((datetime.now(timezone.utc) - started).total_seconds(), 1)
    meta["configs"] = [s.describe() for s in specs]
    result = EvalResult(meta=meta, metrics=aggregate(cases), cases=cases, variants=variants)
    result.gates = gates.check(result.metrics, limits, skip=skip_metrics)
    if old is not None:
        result.comparison = compare.compare(old, result.to_dict(), baseline_path=str(baseline))
    if out is not None:
        result.paths = report.write_all(result, Path(out))
    return result


def _journal(out: str | Path | None, name: str) -> Path | None:
    # cases-<config>.partial.jsonl in the report folder, started afresh for each run
    if out is None:
        return None
    path = Path(out) / f"cases-{name}.partial.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    return path
