"""The answer pipeline as users get it: the shipped defaults (Settings() with no overrides, no env, no .env),
which for the bundled model mean quote style with the model judge on, run with a scripted model that drafts
from a script and answers every judge prompt by rule.

The `settings` fixture of tests/conftest.py is prose style with the judge off (scripted tests need one reply
per answer); these tests are the ones that check what ships.
"""

from __future__ import annotations

import os
import re

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.models.llm import Completion
from assistant.search.store import Store
from assistant.types import REFUSAL

from ..support.fakes import FakeEmbedder, ScriptedChat

THINK_TANK = ("Some in Moscow may be more open to a rebalancing of the relationship: "
              "A Russian think tank in February proposed to the Kremlin possible limits on cooperation with China on "
              "infrastructure, technology, and military issues as part of a US peace deal.")
MEET = ("Dmitriev is expected to meet with US President Donald Trump’s special envoy Steve Witkoff on Wednesday, "
        "CBS News and Reuters reported.")
# Words a claim may carry that its evidence need not: grammar, not content.
FUNCTION = {"a", "an", "the", "of", "to", "in", "on", "and", "or", "is", "are", "was", "were", "with", "as", "by",
            "for", "at", "that", "this", "it", "its", "s"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))) - FUNCTION


class RuleChat(ScriptedChat):
    """Drafts by question from `drafts` (`{key:phrase}` becomes the key of the evidence line holding the phrase);
    judges by rule: a claim is stated when every content word of it is in the evidence it cites, and evidence
    answers a question when it holds the phrase `answers` gives for that question. Anything else it is sent
    (a rewrite, an unknown prompt) fails the test."""

    def __init__(self, drafts: dict[str, str], answers: dict[str, str]) -> None:
        super().__init__()
        self.drafts, self.answers = drafts, answers
        self.claims: list[tuple[str, str]] = []  # (claim, "yes"/"no") for every claim judged

    @staticmethod
    def _lines(user: str, keys: str) -> list[str]:
        wanted = re.findall(r"\d+", keys)
        return [m.group(2) for m in re.finditer(r"^\[(\d+)\] (.*)$", user, re.M) if m.group(1) in wanted]

    def _next(self, messages: list[dict]) -> str:
        self.history.append(messages)
        user = messages[-1]["content"]
        if claim := re.search(r"^Claim: (.*)$", user, re.M):
            keys = re.search(r"Does evidence ((?:\[\d+\])+) state this claim", user).group(1)
            cited = " ".join(self._lines(user, keys))
            verdict = "yes" if words(claim.group(1)) <= words(cited) else "no"
            self.claims.append((claim.group(1), verdict))
            return verdict
        if asked := re.search(r"Does evidence ((?:\[\d+\])+) by itself answer", user):
            question = re.search(r"^Question: (.*)$", user, re.M).group(1).strip()
            phrase = self.answers.get(question)
            return "yes" if phrase and any(phrase in line for line in self._lines(user, asked.group(1))) else "no"
        question = re.search(r"^Question: (.*)$", user, re.M)
        assert question and "Answer with citations" in user, f"unexpected prompt: {user[-300:]}"
        draft = self.drafts[question.group(1).strip()]

        def key(match: re.Match) -> str:
            line = next(ln for ln in user.splitlines() if match.group(1) in ln)
            return re.match(r"\[(\d+)\]", line).group(1)

        return re.sub(r"\{key:([^}]*)\}", key, draft)

    def complete(self, messages: list[dict], **_: object) -> Completion:
        text = self._next(messages)
        return Completion(text=text, model=self.name, usage={"prompt_tokens": 0, "completion_tokens": 1})


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Settings:
    """Settings as shipped: no BRIEFING_ variable, no .env, only a private data dir."""
    for var in [v for v in os.environ if v.startswith("BRIEFING_")]:
        monkeypatch.delenv(var)
    return Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]


def assistant_for(settings: Settings, seed_dir, chat: RuleChat) -> Assistant:
    embedder = FakeEmbedder()
    a = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder, llm=chat)
    a.ingest([seed_dir])
    return a


def verbatim(a: Assistant, answer) -> None:
    """Every citation of the answer is the exact text of its article at its offsets."""
    bodies = a.store.bodies({c.article_id for c in answer.citations})
    assert answer.citations
    for c in answer.citations:
        assert bodies[c.article_id][c.start:c.end] == c.quote, c


def _ask_drafted(shipped: Settings, seed_dir, q: str, claim: str, phrase: str):
    """Ask `q` with `claim` as the draft, citing the evidence sentence holding `phrase` (the judge's rule for `q`
    too). -> (assistant, chat, answer)."""
    chat = RuleChat({q: f"{claim} [{{key:{phrase}}}]."}, {q: phrase})
    a = assistant_for(shipped, seed_dir, chat)
    return a, chat, a.ask(q)


def test_the_shipped_defaults_are_quote_style_with_the_model_judge(shipped):
    # "auto" resolves to quote style for the bundled model (no endpoint configured): what these tests run.
    assert shipped.llm.uses_local and shipped.answer.style == "auto" and shipped.answer_style == "quote"
    assert shipped.answer.judge and shipped.answer.lead and not shipped.answer.quote_on_refusal


def test_a_supported_claim_is_shown_first_with_its_verbatim_citation(shipped, seed_dir):
    q = "What did a Russian think tank propose to the Kremlin?"
    claim = "In February, a Russian think tank proposed possible limits on cooperation with China to the Kremlin"
    a, chat, answer = _ask_drafted(shipped, seed_dir, q, claim, "think tank")
    assert answer.style == "quote" and answer.answerable
    assert answer.text.startswith(claim + " [")  # the checked lead, in the model's words
    assert [c.quote for c in answer.citations] == [THINK_TANK]
    verbatim(a, answer)
    # The lead was put to the model judge (reordered words are no deletion-only compression), which said yes.
    assert (claim + ".", "yes") in chat.claims or (claim, "yes") in chat.claims, chat.claims


def test_an_unsupported_claim_is_not_shown_and_the_sentence_that_answers_is_quoted(shipped, seed_dir):
    q = "Who is Dmitriev expected to meet in Washington?"
    # Every name is in the cited sentence; "dinner" is not, and no guard has a rule for it: the judge decides.
    claim = "Dmitriev is expected to meet Steve Witkoff over dinner on Wednesday, CBS News and Reuters reported"
    a, chat, answer = _ask_drafted(shipped, seed_dir, q, claim, "Steve Witkoff")
    assert "dinner" not in answer.text
    verdicts = [v for c, v in chat.claims if "dinner" in c]
    assert verdicts and set(verdicts) == {"no"}  # the judge was asked, and said no
    assert not any("dinner" in s.text for s in answer.sentences if s.kept)
    # What is shown instead: the draft's words that the cited sentence holds verbatim ("Steve Witkoff") as the
    # direct answer, then that sentence itself as the briefing's words; both cite only it, at its exact offsets.
    assert answer.answerable and answer.text.startswith("Steve Witkoff [") and f"“{MEET}”" in answer.text
    assert {c.quote for c in answer.citations} == {MEET}
    verbatim(a, answer)


def test_a_refused_draft_is_a_refusal_with_nothing_cited(shipped, seed_dir):
    q = "What is the population of Ukraine?"
    chat = RuleChat({q: REFUSAL}, {})
    answer = assistant_for(shipped, seed_dir, chat).ask(q)
    assert answer.style in ("quote", "") and not answer.answerable
    assert answer.text == REFUSAL and answer.citations == []
    assert chat.claims == []  # nothing was claimed, so nothing was judged
