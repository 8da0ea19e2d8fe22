"""BriefingRetriever (issue 29 item 8) in a real LangChain chain: real embedded Chroma, the fake embedder,
no network. The Documents carry our citation metadata, and importing `assistant` leaves LangChain out."""

from __future__ import annotations

import subprocess
import sys

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough

from assistant.errors import RequestError

from ..conftest import ROOT

QUESTION = "Is Russia stalling for time?"


@pytest.fixture
def a(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    return fake_assistant


def test_documents_carry_the_citation_metadata_and_the_exact_span(a):
    from assistant import BriefingRetriever

    docs = BriefingRetriever(assistant=a, k=3).invoke(QUESTION)
    assert 1 <= len(docs) <= 3 and all(isinstance(d, Document) for d in docs)
    passages = a.search(QUESTION, k=3)
    assert [d.metadata["chunk_id"] for d in docs] == [p.chunk_id for p in passages]
    for d, p in zip(docs, passages):
        m = d.metadata
        assert set(m) >= {"article_id", "title", "source", "published_at", "url", "chunk_id", "start", "end", "score"}
        body = a.article(m["article_id"]).body
        assert body[m["start"]:m["end"]] == d.page_content  # the span a citation would point at
        assert d.id == m["chunk_id"] and m["title"] == p.title and m["score"] == pytest.approx(p.score)
        assert m["published_at"] == (p.published_at.date().isoformat() if p.published_at else None)


def test_a_real_chain_formats_cited_context_for_a_prompt(a):
    from assistant import BriefingRetriever

    retriever = BriefingRetriever(assistant=a, k=2)

    def cited(docs: list[Document]) -> str:
        return "\n".join(f"[{d.metadata['title']} {d.metadata['start']}:{d.metadata['end']}] {d.page_content}"
                         for d in docs)

    chain = RunnableParallel(context=retriever | RunnableLambda(cited), question=RunnablePassthrough()) | RunnableLambda(
        lambda x: f"Answer from the context only.\n{x['context']}\nQ: {x['question']}")
    prompt = chain.invoke(QUESTION)
    assert prompt.endswith(f"Q: {QUESTION}") and "stalling" in prompt.lower()
    assert prompt.count("\n[") == 2  # one line per retrieved passage
    assert chain.batch([QUESTION, "China"]) and len(chain.batch([QUESTION, "China"])) == 2


def test_filters_and_limits_are_the_assistants(a):
    from assistant import BriefingRetriever

    assert BriefingRetriever(assistant=a, filters={"since": "2099-01-01"}).invoke(QUESTION) == []
    with pytest.raises(RequestError):
        BriefingRetriever(assistant=a, k=10_000).invoke(QUESTION)
    with pytest.raises(ValueError):
        BriefingRetriever(assistant=a, mode="fuzzy")


def test_importing_the_package_does_not_import_langchain():
    code = ("import sys, assistant; assistant.Assistant; assert 'langchain_core' not in sys.modules; "
            "assistant.BriefingRetriever; assert 'langchain_core' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
