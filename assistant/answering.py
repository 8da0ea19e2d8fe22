"""The answer pipeline: rewrite a follow-up, retrieve, pick evidence sentences within a token budget,
show them at once, stream the model's answer, then validate its citations."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from .citations import content_stems, is_refusal, validate
from .errors import LLMError
from .injection import clean_answer, defang, drop_echoes, looks_like_instruction, orders_in
from .llm import Completion
from .prompting import load_prompt
from .retrieve import Filters
from .sentences import sentence_spans
from .types import REFUSAL, Answer, AnswerEvent, EvidenceEvent, EvidenceSentence, Passage, TextDelta

if TYPE_CHECKING:
    from .assistant import Assistant

MAX_EVIDENCE = 8
# Below this cosine and with no shared content word, nothing retrieved is about the question:
# refuse at once instead of making the user wait for the model to say so.
_IRRELEVANT_COS = 0.12


def answer_stream(a: "Assistant", question: str, history: Sequence[Any] | None, k: int | None,
                  filters: Filters) -> Iterator[EvidenceEvent | TextDelta | AnswerEvent]:
    """Yield the evidence, then the model's text as it streams, then the validated Answer."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    usage: dict[str, int] = {}
    question = question.strip()
    standalone = question
    if history:
        standalone, used = rewrite_question(a, question, history)
        _add_usage(usage, used)
        timings["rewrite_s"] = round(time.perf_counter() - t0, 3)
    t1 = time.perf_counter()
    qvec = a.embedder.embed([standalone])[0]
    passages = a.retriever.search(standalone, k=k or a.settings.answer_k, filters=filters, query_vector=qvec)
    evidence = select_evidence(a, standalone, qvec, passages, a.settings.context_tokens)
    timings["retrieve_s"] = round(time.perf_counter() - t1, 3)
    yield EvidenceEvent(passages=passages, evidence=evidence, standalone_question=standalone)

    def finish(raw: str, model: str) -> Answer:
        t3 = time.perf_counter()
        bodies = a.store.bodies(e.article_id for e in evidence)
        # Markup the model was never asked for, and sentences carrying out an order hidden in a passage,
        # go before checking (injection.py); raw_text keeps everything the model said.
        # (rendered without the refusal sentence, which an answer may rightly repeat)
        system = load_prompt("answer").render(evidence="", question="", refusal="")[0]["content"]
        text, _ = drop_echoes(clean_answer(raw), orders_in(p.text for p in passages), [e.text for e in evidence],
                              standalone, system)
        checked = validate(text, evidence, bodies, a.embedder, a.settings.min_support, a.settings.repair_support)
        timings["postprocess_s"] = round(time.perf_counter() - t3, 3)
        cited = {c.article_id for c in checked.citations}
        dates = [p.published_at for p in passages if p.article_id in cited and p.published_at]
        return Answer(question=question, text=checked.text, answerable=checked.answerable,
                      citations=checked.citations, passages=passages, model=model, usage=usage,
                      latency_s=round(time.perf_counter() - t0, 3), settings_hash=a.settings.settings_hash(),
                      standalone_question=standalone, evidence=evidence, sentences=checked.sentences,
                      raw_text=raw, timings=timings, as_of=max(dates).date().isoformat() if dates else "")

    if not evidence or _irrelevant(standalone, evidence):
        timings["generate_s"] = 0.0
        yield AnswerEvent(finish(REFUSAL, "none (nothing relevant retrieved)"))
        return
    messages = load_prompt("answer").render(evidence=format_evidence(evidence), question=standalone, refusal=REFUSAL)
    t2 = time.perf_counter()
    raw, model, deltas = "", getattr(a.llm, "name", ""), 0
    for piece in a.llm.stream(messages, max_tokens=a.settings.llm.max_tokens):
        if isinstance(piece, Completion):
            raw, model = piece.text, piece.model or model
            if not piece.usage:
                # Some servers (llama-cpp-python) send no usage when streaming: count instead, and say so.
                count = getattr(a.embedder, "count_tokens", lambda t: len(t) // 4)
                piece = Completion(piece.text, piece.model, {
                    "prompt_tokens": sum(count(m["content"]) for m in messages), "completion_tokens": deltas,
                    "estimated": 1})
            _add_usage(usage, piece.usage)
            break
        if "first_token_s" not in timings:
            timings["first_token_s"] = round(time.perf_counter() - t0, 3)
        raw += piece
        deltas += 1
        yield TextDelta(piece)
    timings["generate_s"] = round(time.perf_counter() - t2, 3)
    yield AnswerEvent(finish(raw, model))


def rewrite_question(a: "Assistant", question: str, history: Sequence[Any]) -> tuple[str, dict[str, int]]:
    """A standalone version of a follow-up question; the original when the model fails or rambles."""
    turns = _history_lines(history)
    if not turns:
        return question, {}
    messages = load_prompt("rewrite_question").render(history="\n".join(turns[-6:]), question=question)
    try:
        out = a.llm.complete(messages, max_tokens=60)
    except LLMError:
        return question, {}
    line = next((ln.strip() for ln in out.text.strip().splitlines() if ln.strip()), "")
    line = line.removeprefix("Standalone question:").strip().strip('"')
    if not line or len(line) > 4 * len(question) + 200:
        return question, out.usage
    return line, out.usage


def select_evidence(a: "Assistant", question: str, qvec: np.ndarray, passages: Sequence[Passage],
                    budget_tokens: int) -> list[EvidenceSentence]:
    """The sentences of the passages that best match the question, within a token budget.

    Scored by cosine to the question plus lexical overlap plus a small prior for the passage's
    rank; presented best first.
    """
    cands: list[tuple[Passage, int, int, str, int]] = []
    for rank, p in enumerate(passages):
        for s, e in sentence_spans(p.text, offset=p.start):
            text = p.text[s - p.start:e - p.start]
            if looks_like_instruction(text):  # orders to the model hidden in an article are not evidence
                continue
            if len(text) >= 25 or text.endswith((".", "!", "?", "\u201d", '"')):  # skip bare headlines
                cands.append((p, s, e, text, rank))
    if not cands:
        return []
    vecs = a.embedder.embed([c[3] for c in cands])
    q_stems = content_stems(question)
    scored = []
    for (p, s, e, text, rank), v in zip(cands, vecs):
        lex = len(q_stems & content_stems(text)) / len(q_stems) if q_stems else 0.0
        scored.append((float(np.dot(qvec, v)) + 0.3 * lex + 0.05 / (1 + rank), p, s, e, text))
    scored.sort(key=lambda x: -x[0])
    chosen, used = [], 0
    count = getattr(a.embedder, "count_tokens", lambda t: len(t) // 4)
    for score, p, s, e, text in scored:
        cost = count(text) + 12  # the key and the header around each sentence
        if chosen and (used + cost > budget_tokens or len(chosen) >= MAX_EVIDENCE):
            continue
        chosen.append((score, p, s, e, text))
        used += cost
    # Best first: small models cite [1] far more often than they should, so [1] had better be
    # the strongest sentence; the section headers still say where each sentence comes from.
    return [EvidenceSentence(key=i, article_id=p.article_id, chunk_id=p.chunk_id, text=text, start=s, end=e,
                             score=round(score, 4), title=p.title, section=p.section, published_at=p.published_at)
            for i, (score, p, s, e, text) in enumerate(chosen, 1)]


def format_evidence(evidence: Sequence[EvidenceSentence]) -> str:
    """Evidence as keyed data lines, grouped under a header per article and section."""
    lines: list[str] = []
    last = None
    for e in evidence:
        header = (e.title, e.section, e.published_at)
        if header != last:
            date = e.published_at.date().isoformat() if e.published_at else "undated"
            label = f"{e.title} | {date}" + (f" | {e.section}" if e.section else "")
            lines.append(f"## {_defang(label)}")
            last = header
        lines.append(f"[{e.key}] {_defang(e.text)}")
    return "\n".join(lines)


def _defang(text: str) -> str:
    # Article text must not close the evidence block, pose as a chat role marker or carry citation-like
    # markers ([99], [S7]) the model could copy: see injection.defang.
    return defang(text)


def _irrelevant(question: str, evidence: Sequence[EvidenceSentence]) -> bool:
    q_stems = content_stems(question)
    if any(q_stems & content_stems(e.text) for e in evidence):
        return False
    # With no shared word, an evidence score is its cosine plus at most the 0.05 rank prior.
    return max(e.score for e in evidence) < _IRRELEVANT_COS + 0.05


def _history_lines(history: Sequence[Any]) -> list[str]:
    lines: list[str] = []
    for turn in history:
        if isinstance(turn, dict):
            role, content = turn.get("role", "user"), turn.get("content", "")
            if isinstance(content, Answer):
                content = content.text
            lines.append(f"{'User' if role == 'user' else 'Assistant'}: {str(content).strip()}")
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            q, ans = turn
            lines.append(f"User: {str(q).strip()}")
            if ans:
                lines.append(f"Assistant: {ans.text if isinstance(ans, Answer) else str(ans).strip()}")
        elif isinstance(turn, str):
            lines.append(f"User: {turn.strip()}")
    # Refusals carry no context worth resolving against.
    return [ln for ln in lines if not is_refusal(ln.split(": ", 1)[-1])]


def _add_usage(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in (more or {}).items():
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value
