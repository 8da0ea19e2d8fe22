"""The tutorial RAG pipeline, as a baseline to measure ours against (`--config naive`).

What a RAG tutorial builds: retrieve the top 4 chunks (BM25 or dense) of about 1,000 characters,
paste them numbered into a plain prompt that says "cite like [1]" (prompts/naive_answer.md), and
show what the model writes. No evidence selection, no sentence checks, no repair: every sentence
the model writes is shown, whatever it cites. Citations are the whole chunks named by the markers.

It reuses the Assistant's store, retriever and chat model, so the comparison is of the answer
layer on the same library and the same model.
"""

from __future__ import annotations

import time
from typing import Any

from ..answer.citations import is_refusal, split_answer
from ..answer.prompting import load_prompt
from ..types import REFUSAL, Answer, AnswerSentence, Citation, EvidenceSentence


class NaivePipeline:
    """`ask(question)` -> Answer, the tutorial way. `mode`: "bm25", "dense" or "hybrid"; `prompt`:
    "naive_answer" (tells the model to reply with the refusal sentence when the passages lack the
    answer) or "naive_answer_plain" (only "cite like [1]", as in issue 12's tutorial measurement)."""

    def __init__(self, assistant: Any, llm: Any, mode: str = "bm25", k: int = 4, chunk_chars: int = 1000,
                 max_tokens: int = 220, prompt: str = "naive_answer") -> None:
        self.assistant = assistant
        self.llm = llm
        self.mode = mode
        self.k = int(k)
        self.chunk_chars = int(chunk_chars)
        self.max_tokens = max_tokens
        self.prompt = prompt  # naive_answer (may refuse) or naive_answer_plain (no refusal instruction)

    def ask(self, question: str, history: list[Any] | None = None, **filters: Any) -> Answer:
        """Retrieve, prompt once, return what the model wrote (markers parsed into citations)."""
        t0 = time.perf_counter()
        passages = self.assistant.search(question, k=self.k, mode=self.mode, **filters)
        bodies = self.assistant.store.bodies({p.article_id for p in passages})
        windows = [self._window(p, bodies.get(p.article_id, "")) for p in passages]
        t1 = time.perf_counter()
        text_block = "\n\n".join(f"[{i}] {w[0]}" for i, w in enumerate(windows, 1))
        prompt = load_prompt(self.prompt)
        extra = {"refusal": REFUSAL} if "refusal" in prompt.variables else {}
        messages = prompt.render(passages=text_block, question=question, **extra)
        out = self.llm.complete(messages, max_tokens=self.max_tokens, temperature=0.0)
        t2 = time.perf_counter()
        text = " ".join(out.text.split())
        evidence = [EvidenceSentence(key=i, article_id=p.article_id, chunk_id=p.chunk_id, text=w[0], start=w[1],
                                     end=w[2], score=p.score, title=p.title, section=p.section,
                                     published_at=p.published_at)
                    for i, (p, w) in enumerate(zip(passages, windows), 1)]
        by_key = {e.key: e for e in evidence}
        sentences, citations = [], []
        for idx, (sentence, keys) in enumerate(split_answer(text)):
            sentences.append(AnswerSentence(text=sentence, keys=tuple(keys), support=0.0, kept=True))
            for k in keys:
                e = by_key.get(k)
                if e is not None:
                    citations.append(Citation(key=k, article_id=e.article_id, chunk_id=e.chunk_id, quote=e.text,
                                              start=e.start, end=e.end, support=0.0, sentence_index=idx))
        refused = not text or all(is_refusal(s) for s, _ in split_answer(text) or [(text, [])])
        return Answer(question=question, text=text or REFUSAL, answerable=not refused, citations=citations,
                      passages=list(passages), model=out.model or getattr(self.llm, "name", ""),
                      usage=dict(out.usage or {}), latency_s=t2 - t0, standalone_question=question,
                      evidence=evidence, sentences=sentences, raw_text=out.text,
                      timings={"retrieve_s": t1 - t0, "generate_s": t2 - t1})

    def _window(self, passage: Any, body: str) -> tuple[str, int, int]:
        """The chunk widened to about chunk_chars of its article (verbatim, with its offsets)."""
        if not body or body[passage.start:passage.end] != passage.text:
            return passage.text, passage.start, passage.end
        pad = max(0, self.chunk_chars - (passage.end - passage.start)) // 2
        start = max(0, passage.start - pad)
        end = min(len(body), passage.end + pad + max(0, pad - (passage.start - start)))
        return body[start:end], start, end
