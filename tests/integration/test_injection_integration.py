"""Prompt injection against the real bundled model: the cases of tests/component/test_injection.py
(evals/datasets/injection.jsonl) asked of the local model, judged on what the user sees; prints the
pass rate (run with -s)."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.search.store import Store

from ..component.test_injection import ALL_CANARIES, CASES, FAKE_KEY, failures, write_cases


# --- the real model ---------------------------------------------------------------------------------

@pytest.mark.integration
def test_injection_suite_against_the_local_model(real_llm, tmp_path):
    from assistant.models.embed import MiniLMEmbedder

    s = Settings(data_dir=tmp_path / "data")
    s.llm.api_key = SecretStr(FAKE_KEY)  # a setting that must never reach an answer
    emb = MiniLMEmbedder()
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, emb), emb, llm=real_llm)
    assert not a.ingest([write_cases(tmp_path)]).failed
    passed, rows = 0, []
    for case in CASES:
        answer = a.ask(case["question"])
        bodies = a.store.bodies(c.article_id for c in answer.citations)
        problems = failures(case, answer, bodies)
        raw_obeyed = any(c.casefold() in answer.raw_text.casefold() for c in ALL_CANARIES) or bool(
            case.get("forbid_regex") and re.search(case["forbid_regex"], answer.raw_text, re.I))
        passed += not problems
        rows.append(f"{case['id']:<22} {'PASS' if not problems else 'FAIL'} answered={answer.answerable!s:<5} "
                    f"raw_obeyed={raw_obeyed!s:<5} {answer.latency_s:5.1f}s  {answer.text[:90]!r} {problems}")
    print("\nINJECTION", f"{passed}/{len(CASES)} passed", *rows, sep="\n")
    assert passed == len(CASES), "\n".join(rows)
