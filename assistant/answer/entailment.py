"""Does the cited evidence state the claim? Deterministic guards first, then the chat model as a judge.

The guards (guards.py) catch changed numbers and dates, flipped negations, names that are not in
the evidence and attributions turned into facts, in microseconds. What passes them goes to the
configured chat model, asked one yes/no question per claim with its answer constrained to one
word (a llama.cpp grammar where the endpoint takes one). The judge prompt opens with the same
system message and evidence block as the answer prompt, so llama.cpp reuses the evidence it has
just read and a check costs only the claim's tokens.

Fail closed: a judge that errors or answers anything but "yes" rejects the claim.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

from ..errors import LLMError
from .citations import content_stems, lexical_support, normalise, support
from .guards import run_guards
from .quantities import numbers
from .names import names, strip_yes_no
from .compression import verified_by_deletion
from .prompting import load_prompt
from ..types import REFUSAL

log = logging.getLogger(__name__)

YES_NO_GRAMMAR = 'root ::= ("yes" | "no")'
JUDGE_OFF_NOTE = ("Checked without the model judge (BRIEFING_ANSWER__JUDGE=false): a quoted sentence counts as an "
                  "answer only when it has what the question asks for and every word of the question.")


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one claim: supported, or which layer rejected it and why."""

    supported: bool
    layer: str = ""  # "" when supported; else "numbers", "polarity", "names", "attribution", "addition", "judge", ...
    reason: str = ""
    judged: bool = False  # the model judge was asked
    route: str = ""  # how a supported claim was verified: "verbatim", "deletion", "judge" or "guards"
    p_yes: float | None = None  # the judge's probability of "yes" over "yes"/"no", when the endpoint reports it


def evidence_block(evidence: Sequence[str], keys: Sequence[int] | None = None) -> str:
    """Evidence as the keyed lines the prompts show ("[1] ..."), for checks outside an answer."""
    keys = list(keys) if keys is not None else list(range(1, len(evidence) + 1))
    return "\n".join(f"[{k}] {text}" for k, text in zip(keys, evidence))


class Checker:
    """Checks claims against the evidence sentences they cite.

    `llm`: a ChatModel for the judge layer (None: guards only). `constrain`: "grammar" sends a
    llama.cpp GBNF grammar so the judge can only say yes or no; "none" parses the first word.
    `skip`: guard names to leave out (for measuring each layer).
    """

    def __init__(self, llm: Any | None = None, constrain: str = "none", guards: bool = True,
                 skip: Sequence[str] = (), embedder: Any | None = None, min_support: float = 0.42,
                 threshold: float | None = None) -> None:
        self.llm = llm
        # The claim judge says yes when P(yes) over "yes"/"no" reaches this (chosen on the labelled dev set, see
        # AnswerSettings.judge_threshold); None: its own word. Endpoints that report no log probabilities: its word.
        self.threshold = threshold
        self.constrain = constrain
        self.guards = guards
        self.skip = tuple(skip)
        self.embedder = embedder
        self.min_support = min_support
        self.judge_calls = 0
        self.routes: dict[str, int] = {}  # supported claims by the route that verified them
        self.failures: list[str] = []  # judge calls that failed: their claims were not checked, not refuted
        self.notes: list[str] = []  # what the user should know about how the claims were checked
        self._vecs: dict[str, Any] = {}

    @property
    def name(self) -> str:
        """What this checker runs, for reports."""
        layers = ["guards"] if self.guards else []
        if self.llm is not None:
            layers.append(f"judge:{getattr(self.llm, 'name', 'model')}")
        return "+".join(layers) or "nothing"

    def check(self, claim: str, evidence: Sequence[str], *, question: str = "", block: str | None = None,
              keys: Sequence[int] | None = None, published: Sequence[date] = (), context: str = "",
              skip: Sequence[str] = ()) -> Verdict:
        """Is `claim` stated by the `evidence` sentences (the ones it cites)?

        `block` and `keys`: the full evidence block the answer prompt showed and the keys cited, so the
        judge prompt shares the answer prompt's prefix. `question`: given to the judge when the claim
        opens with yes/no, which answers it. `published`: dates of the cited briefings (a date in the
        claim may be one of them). `context`: titles and sections (names only). `skip`: guards left out for
        this call, on top of the checker's own.
        """
        verdict = self._check(claim, evidence, question=question, block=block, keys=keys, published=published,
                              context=context, skip=(*self.skip, *skip))
        if verdict.supported:
            route = verdict.route or ("judge" if verdict.judged else "guards")
            self.routes[route] = self.routes.get(route, 0) + 1
        return verdict

    def _check(self, claim: str, evidence: Sequence[str], *, question: str, block: str | None,
               keys: Sequence[int] | None, published: Sequence[date], context: str, skip: Sequence[str]) -> Verdict:
        if not evidence or not claim.strip():
            return Verdict(False, "empty", "no claim or no cited evidence")
        if any(_plain(claim) == _plain(e) for e in evidence):
            return Verdict(True, reason="the claim is the cited sentence, word for word", route="verbatim")
        added = _wrapped(claim, evidence)
        if added:
            return Verdict(False, "addition", f"the claim adds '{added}' to its cited sentence")
        if "similarity" not in skip:
            score = self.similarity(strip_yes_no(claim)[1], evidence)
            if score < self.min_support:
                return Verdict(False, "similarity", f"the claim is not about what the evidence says (support {score:.2f})")
        if self.guards:
            layer, why = run_guards(claim, evidence, published, context, skip)
            if layer:
                return Verdict(False, layer, why)
        if verified_by_deletion(claim, evidence):
            # Words deleted, none added, nothing that carries meaning on its own dropped: no judge call.
            return Verdict(True, reason="the claim is its cited sentence with words left out", route="deletion")
        if self.llm is None:
            return Verdict(True)
        return self.judge(claim, evidence, question=question, block=block, keys=keys)

    def similarity(self, claim: str, evidence: Sequence[str]) -> float:
        """Lexical coverage and embedding cosine (citations.support); lexical coverage alone without an embedder.

        Not a test of entailment (it cannot see negation or changed numbers): a floor that keeps a
        claim about something else from reaching the other layers.
        """
        if self.embedder is None:
            return lexical_support(claim, evidence)
        todo = [t for t in dict.fromkeys([claim, *evidence]) if t not in self._vecs]
        if todo:
            if len(self._vecs) + len(todo) > 4096:  # a long eval run: keep the cache bounded
                self._vecs.clear()
                todo = list(dict.fromkeys([claim, *evidence]))
            self._vecs.update(zip(todo, self.embedder.embed(todo)))
        return support(claim, self._vecs[claim], list(evidence), [self._vecs[e] for e in evidence])

    def answers(self, question: str, evidence: Sequence[str], *, block: str | None = None,
                keys: Sequence[int] | None = None, min_share: float = 0.5) -> bool:
        """Does the evidence answer the question? Two cheap conditions first (it has what the question
        asks for, a number for "how many", a date for "when", a name for "who"; and most of the question's
        content words, `min_share` of them), then the model judge when there is one.

        Without a judge the words alone decide, so they must all be there: half the question's words is
        a sentence on the same topic, not an answer ("talks opened in Riyadh" for "why did the talks in
        Riyadh collapse?"). The first such call adds JUDGE_OFF_NOTE to `notes`."""
        joined = " ".join(evidence)
        if not answer_shape_ok(question, joined):
            return False
        if self.llm is None:
            if JUDGE_OFF_NOTE not in self.notes:
                self.notes.append(JUDGE_OFF_NOTE)
            return question_share(question, joined) >= 1.0
        if question_share(question, joined) < min_share:
            return False
        if block is None or keys is None:
            keys = list(range(1, len(evidence) + 1))
            block = evidence_block(evidence, keys)
        messages = load_prompt("answers_question").render(
            evidence=block, question=question, keys=" and ".join(f"[{k}]" for k in keys), refusal=REFUSAL)
        return self._ask_yes_no(messages)

    def _ask_yes_no(self, messages: list[dict[str, str]], scored: bool = False) -> bool:
        return self._yes_no(messages, scored)[0]

    def _yes_no(self, messages: list[dict[str, str]], scored: bool) -> tuple[bool, float | None]:
        """The judge's yes/no; `scored`: also P(yes), and with a threshold, P(yes) >= threshold decides."""
        opts: dict[str, Any] = {"max_tokens": 2, "temperature": 0.0}
        if self.constrain == "grammar":
            opts["grammar"] = YES_NO_GRAMMAR
        if scored:
            opts["top_logprobs"] = 10
        self.judge_calls += 1
        try:
            out = self.llm.complete(messages, **opts)
        except LLMError as exc:
            # Not shown (a "no"), but recorded: an answer whose claims could not be checked is not a refusal.
            log.warning("the model judge failed; the claim is not shown: %s", exc)
            self.failures.append(exc.one_line())
            return False, None
        said = _first_word(out.text) == "yes"
        p = p_yes(getattr(out, "first_token", ()))
        if self.threshold is None or p is None:
            return said, p
        return p >= self.threshold, p

    def judge(self, claim: str, evidence: Sequence[str], *, question: str = "", block: str | None = None,
              keys: Sequence[int] | None = None) -> Verdict:
        """The model layer alone: one constrained yes/no question."""
        if self.llm is None:
            return Verdict(False, "judge", "no model to judge with")
        if block is None or keys is None:
            keys = list(range(1, len(evidence) + 1))
            block = evidence_block(evidence, keys)
        lead, _ = strip_yes_no(claim)
        context = f"Question: {question}\n" if question and lead else ""
        messages = load_prompt("check_claim").render(
            evidence=block, context=context, claim=claim, keys=" and ".join(f"[{k}]" for k in keys), refusal=REFUSAL)
        # Log probabilities only when a threshold asks for them: llama-cpp-python's server refuses them (HTTP 500)
        # unless started with logits_all, which keeps every prompt token's logits.
        yes, p = self._yes_no(messages, scored=self.threshold is not None)
        if yes:
            return Verdict(True, judged=True, p_yes=p)
        return Verdict(False, "judge", "the model judge did not find the claim in the evidence", judged=True, p_yes=p)


_ASKS_NUMBER = re.compile(r"\bhow (many|much|long|far|old|big|large)\b|\bwhat (number|percentage|share|amount)\b|"
                          r"\b(population|price|cost|death toll|number of)\b", re.I)
_ASKS_DATE = re.compile(r"^\s*when\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|day|month)\b", re.I)
_ASKS_NAME = re.compile(r"^\s*(who|whom)\b|\bwhat is the name\b|\bwho\b", re.I)
_TIME_WORDS = re.compile(r"\b(\d{4}|january|february|march|april|may|june|july|august|september|october|november|"
                         r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|"
                         r"week|month|year|ago|since|until|morning|evening|night)\b", re.I)


# "What did China's foreign minister say about ...": the answer is what *that* speaker said.
_ASKS_SPEAKER = re.compile(r"^\s*(?:what|how)\s+(?:did|does|do|has|have|had|would|will)\s+(.+?)\s+(?:say|said|tell|told|"
                           r"propose|proposed|describe|described|argue|argued|recommend|recommended|claim|claimed|"
                           r"warn|warned|suggest|suggested|announce|announced|write|wrote|predict|predicted)\b", re.I)


def asks_speaker(question: str) -> bool:
    """Is this a "what did X say / propose / tell ..." question?"""
    return bool(_ASKS_SPEAKER.match(question))


def speaker_in(question: str, evidence: str) -> bool:
    """For "what did X say/propose/tell ..." questions: every content word of X is in the evidence
    ("foreign minister" for "China's foreign minister"); True for other questions."""
    m = _ASKS_SPEAKER.match(question)
    if not m:
        return True
    have = content_stems(evidence)
    return all(_word_in(w, have) for w in content_stems(m.group(1)))


def question_share(question: str, text: str) -> float:
    """The share of the question's content words the text holds (0 for a question without any)."""
    q = content_stems(question)
    have = content_stems(text)
    return sum(1 for w in q if _word_in(w, have)) / len(q) if q else 0.0


def _word_in(stem: str, have: set[str]) -> bool:
    """The stem, or a word sharing its first five letters ("minist" / "ministri"), is among `have`."""
    return stem in have or any(min(len(stem), len(h)) >= 4 and (h.startswith(stem[:5]) or stem.startswith(h[:5]))
                               for h in have)


def answer_shape_ok(question: str, evidence: str) -> bool:
    """The evidence has the kind of thing the question asks for: a number, a date, a name, the speaker asked about."""
    if not speaker_in(question, evidence):
        return False
    counts = {n for n in numbers(evidence) - {"1"}  # neither a year nor a rank ("first") is a count
              if not n.startswith("ord") and not (n.isdigit() and 1900 <= int(n) <= 2100)}
    if _ASKS_NUMBER.search(question) and not counts:
        return False
    if _ASKS_DATE.search(question) and not _TIME_WORDS.search(evidence):
        return False
    if _ASKS_NAME.search(question) and not names(evidence):
        return False
    return True


# Words a claim may put around a sentence it copies without adding a fact ("According to the briefing, ...").
FRAME_WORDS = frozenset(content_stems("according to the briefing briefings article news report reported says said "
                                 "states stated notes noted yes no"))


def _wrapped(claim: str, evidence: Sequence[str]) -> str:
    """The words a claim adds around a cited sentence it contains word for word, when they say something the
    evidence does not ("Charlotte Lucas was played by" + "This biographical article needs additional
    citations ..."): the judge reads the copied sentence and says yes. Names are left to the names guard."""
    body = _words(strip_yes_no(claim)[1])
    known = content_stems(" ".join(evidence)) | FRAME_WORDS
    spoken = {n.lower() for n in names(claim)}
    for e in evidence:
        sentence = _words(e)
        if len(sentence) < 22 or sentence not in body or sentence == body:
            continue
        extra = body.replace(sentence, " ")
        if any(w not in spoken and not content_stems(w) <= known for w in re.findall(r"[a-z][a-z'-]*", extra)):
            return " ".join(extra.split())
    return ""


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+(?:'[a-z]+)?", _plain(text).replace("\u2019", "'"))) + " "


def _plain(text: str) -> str:
    """Text compared word for word: case, quote marks, spacing and the closing stop do not count."""
    return normalise(text.replace("\u201c", '"').replace("\u201d", '"')).rstrip(" .!?")


def p_yes(first_token: Sequence[tuple[str, float]]) -> float | None:
    """P("yes") / (P("yes") + P("no")) over the first token's alternatives ("Yes", " yes", "no" ... summed);
    None when neither is among them."""
    yes = sum(math.exp(lp) for t, lp in first_token if t.strip().lower() == "yes")
    no = sum(math.exp(lp) for t, lp in first_token if t.strip().lower() == "no")
    return yes / (yes + no) if yes + no > 0 else None


def _first_word(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.strip().lower().split()[0]) if text.strip() else ""
