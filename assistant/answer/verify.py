"""The one gate between the model's draft and the user: each sentence is shown only with a citation
that is verbatim at its offsets and an entailment check (entailment.py) that passed.

A sentence that fails is replaced by an attributed verbatim quote of the sentence it cited when that
sentence is about the question ("The briefing says: “…” [3]"), else dropped. A bare "Yes."/"No."
is joined to the sentence it stands on and kept only when the judge accepts the whole as an answer
to the question. A refusal-shaped sentence that asserts anything is checked like any other claim.
Every path that shows answer text (answers, quote style, the timeline) goes through `Verifier`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from .citations import (MARKER, cite, content_stems, is_pure_refusal, split_answer, stem_counts, support,
                        with_markers)
from ..models.embed import Embedder
from .context import opens_on_reference
from .entailment import FRAME_WORDS, Checker, Verdict, answer_shape_ok, question_share
from .guards import check_polarity, hedges
from .names import name_words, names, strip_yes_no
from ..sentences import words
from .injection import defang
from ..types import REFUSAL, Answer, AnswerSentence, Citation, EvidenceSentence

QUOTE_LEAD = "The briefing says:"


@dataclass(frozen=True)
class Checked:
    """One draft sentence after checking: the text shown (empty when dropped) and its citations."""

    draft: str
    shown: str
    citations: tuple[Citation, ...]
    keys: tuple[int, ...]
    support: float
    note: str = ""
    layer: str = ""  # the check that rejected the draft ("" when it passed)

    def record(self) -> AnswerSentence:
        """The per-sentence record kept on the Answer."""
        # A shown sentence is recorded as shown; the model's wording of it stays in the raw draft (debug only).
        return AnswerSentence(self.shown or self.draft, self.keys, self.support, bool(self.shown), self.note)


@dataclass(frozen=True)
class Validated:
    """The outcome of checking a raw model answer against its evidence."""

    text: str
    answerable: bool
    sentences: list[AnswerSentence]
    citations: list[Citation]


class Verifier:
    """Checks the sentences of one answer against the evidence it was written from."""

    def __init__(self, evidence: Sequence[EvidenceSentence], bodies: dict[str, str], embedder: Embedder,
                 checker: Checker, question: str, block: str, repair_support: float = 0.55,
                 quote_fallback: bool = True, min_dates: int = 1, points: bool = False) -> None:
        self.by_key = {e.key: e for e in evidence}
        # An overview's points: a point that fails stands in as a quote of its own sentence without the "answers
        # the question" test, which "Summarize this briefing" can never pass (it shares no word with any sentence).
        self.points = points
        self.evidence = list(evidence)
        self.bodies = bodies
        self.embedder = embedder
        self.checker = checker
        self.question = question
        self.block = block
        self.repair_support = repair_support
        self.quote_fallback = quote_fallback
        self.min_dates = min_dates  # "what changed" sentences must cite two briefing dates
        self.quoted: set[int] = set()
        self._pending = ""  # a bare "Yes."/"No." waiting for the sentence it stands on
        self._ev_vecs = {e.key: v for e, v in zip(self.evidence, embedder.embed([e.text for e in self.evidence]))} \
            if self.evidence else {}

    def check(self, sentence: str, written: Sequence[int], index: int) -> Checked:
        """Check one draft sentence (markers removed, `written` the keys it cited)."""
        lead, body = strip_yes_no(sentence)
        if not lead and _bare_yes_no(sentence):
            self._pending = sentence.strip(" .!,").capitalize()
            return Checked(sentence, "", (), (), 0.0, "bare yes/no: joined to the next sentence")
        lead = lead or self._pending
        self._pending = ""
        if is_pure_refusal(body):
            return Checked(sentence, "", (), (), 0.0, "refusal")
        if only_attribution(body):
            return Checked(sentence, "", (), (), 0.0, "only says who reported something, not what")
        if is_question(body):
            # A question claims nothing: "What happened Wednesday?", an article's subhead copied as a point.
            return Checked(sentence, "", (), (), 0.0, "a question, not a claim")
        valid = [k for k in dict.fromkeys(written) if k in self.by_key]
        notes = [f"dropped unknown key(s) {[k for k in written if k not in self.by_key]}"] \
            if len(valid) < len(written) else []
        vec = self.embedder.embed([body])[0]
        score = self._support(body, vec, valid)
        repaired = False
        verdict = self._verdict(body, valid) if valid else Verdict(False, "citation", "no citation")
        if not verdict.supported:
            best = self._best(body, vec, exclude=valid)
            if best is not None:
                alt = self._verdict(body, [best.key])
                if alt.supported:
                    notes.append(f"{'replaced ' + str(valid) + ' with' if valid else 'attached'} [{best.key}]")
                    valid, verdict, repaired = [best.key], alt, True
                    score = self._support(body, vec, valid)
        cites = [c for c in (self._cite(k, body, score, index, repaired) for k in valid) if c is not None]
        if verdict.supported and len(cites) < len(valid):
            notes.append("a cited sentence is no longer verbatim in its briefing")
            # Judged against all its citations, the claim is shown with fewer: it must hold on those alone.
            left = [c.key for c in cites]
            if left and not self._verdict(body, left).supported:
                verdict = Verdict(False, "citation", "the claim needs a cited sentence that is no longer verbatim")
        if verdict.supported and cites and self._dates_ok(cites):
            shown_keys = [c.key for c in cites]
            text = body
            if lead and self._lead_holds(lead, body, shown_keys):
                text = f"{lead}, {body[:1].lower()}{body[1:]}" if not body.startswith("I ") else f"{lead}, {body}"
            elif lead:
                notes.append(f"dropped the leading {lead!r}: the evidence does not settle the question that plainly")
            self.quoted.update(shown_keys)
            return Checked(sentence, with_markers(text, shown_keys), tuple(cites), tuple(shown_keys), score,
                           "; ".join(notes))
        why = verdict.reason if not verdict.supported else "the citations span one briefing date only"
        notes.append(f"not stated by its evidence: {why}" if not verdict.supported else why)
        quote = None
        if not verdict.supported:
            # "Yes, Russia is stalling [1]": the sentence that says so, with who says so ("experts suspect
            # they are stalling [2]"), may be another one than the model cited. Show that one, quoted.
            source = self._says_it_with_attribution(body, vec)
            if source is not None:
                quote = self._quote([source.key], index, relevant_only=False, fallback=False)
            if quote is not None:
                notes.append(f"[{quote.key}] states it with who says so")
        # A claim that only dropped who says so is the cited sentence itself; any other failure needs
        # the cited sentence to answer the question before it stands in for the claim.
        # A claim about something else than its citation ("similarity") is dropped, not replaced.
        if quote is None and verdict.layer not in ("similarity", "citation", "empty"):
            quote = self._quote(valid or [k for k in written if k in self.by_key], index,
                                relevant_only=verdict.layer != "attribution" and not self.points)
        if quote is not None:
            notes.append(f"shown as a quote of [{quote.key}] instead")
            return Checked(sentence, with_markers(quote_text(quote.quote), [quote.key]), (quote,),
                           (quote.key,), 1.0, "; ".join(notes), verdict.layer)
        return Checked(sentence, "", (), tuple(valid), score, "; ".join(notes), verdict.layer or "citation")

    def holds(self, claim: str, keys: Sequence[int]) -> bool:
        """Is `claim` stated by the sentences under `keys` (the guards, then the judge), without showing it?"""
        valid = [k for k in keys if k in self.by_key]
        return bool(valid) and self._verdict(claim, valid).supported

    def _with_referent(self, key: int) -> list[str]:
        """The sentence under `key`, after the evidence sentence right before it in its article when it opens on a
        pronoun or a role ("The Russian leader ...")."""
        e = self.by_key[key]
        if not opens_on_reference(e.text):
            return [e.text]
        before = [o for o in self.evidence
                  if o.article_id == e.article_id and o.end <= e.start and e.start - o.end <= 3]
        return [before[-1].text, e.text] if before else [e.text]

    def as_lead(self, checked: Checked) -> Checked:
        """A checked sentence about to open the answer must come from sentences that hold what the question
        asks for (a number for "how many", the speaker for "what did X say"); else it is withheld."""
        if not checked.shown:
            return checked
        # "The Russian leader reportedly said ..." answers "What has Putin said ...?" when the sentence before it
        # names him: a sentence opening on a pronoun or a role is read with that one for what the question asks.
        sources = " ".join(t for k in checked.keys if k in self.by_key for t in self._with_referent(k))
        # A faithful sentence about something else ("the White House is frustrated" for "how would Trump
        # ratchet up pressure?") is no answer either: the lead or its sources must have a word of the
        # question (the fewest seen in a right lead on the seed and CLAPnq runs was a third of them).
        about = question_share(self.question, f"{checked.draft} {sources}") > 0
        if answer_shape_ok(self.question, sources) and (about or not content_stems(self.question)):
            return checked
        self.quoted.difference_update(checked.keys)
        why = "its sources do not hold what the question asks for" if about else "it is not about the question"
        note = "; ".join(x for x in (checked.note, f"withheld as the lead: {why}") if x)
        return replace(checked, shown="", citations=(), note=note, layer="question")

    def quote(self, key: int, index: int, must_answer: bool = False, min_share: float = 0.5) -> Checked | None:
        """The exact sentence under `key` as an attributed quote, unless already shown; with
        `must_answer`, only when the checker finds that it answers the question."""
        c = self._quote([key], index, relevant_only=must_answer, fallback=False, min_share=min_share)
        if c is None:
            return None
        text = with_markers(quote_text(c.quote), [key])
        return Checked(text, text, (c,), (key,), 1.0, "exact quote")

    def mark_cited(self, keys: Sequence[int]) -> None:
        """Keys already shown by a checked sentence are not quoted again."""
        self.quoted.update(keys)

    # --- internals ---------------------------------------------------------------------------

    def _verdict(self, claim: str, keys: Sequence[int], skip: Sequence[str] = ()) -> Verdict:
        ev = [self.by_key[k] for k in keys]
        # Names may come from the cited briefings' headlines and other evidence sentences of the same
        # briefings ("Kirill Dmitriev" named once, "Dmitriev" after); the judge still reads the claim.
        articles = {e.article_id for e in ev}
        context = " ".join([f"{e.title} {e.section}" for e in ev] +
                           [e.text for e in self.evidence if e.article_id in articles])
        published = [e.published_at.date() for e in ev if e.published_at]
        return self.checker.check(claim, [e.text for e in ev], question=self.question, block=self.block,
                                  keys=list(keys), published=published, context=context, skip=skip)

    def _says_it_with_attribution(self, claim: str, vec: np.ndarray) -> EvidenceSentence | None:
        """The evidence sentence that states `claim` once its attribution or hedge is counted: it hedges,
        it is close to the claim, and the claim passes every other check against it (judge included)."""
        # Same word forms first: "is stalling" is said by "they are stalling", not by "stalled negotiations".
        forms = {w for w in words(claim) if len(w) > 3} - {n.lower() for n in names(claim)}
        scored = sorted(((self._support(claim, vec, [e.key]), e) for e in self.evidence
                         if e.key not in self.quoted and hedges(e.text)),
                        key=lambda x: (-len(forms & set(words(x[1].text))), -x[0]))
        for score, e in [x for x in scored if x[0] >= self.repair_support][:2]:
            if self._verdict(claim, [e.key], skip=("attribution",)).supported:
                return e
        return None

    def _lead_holds(self, lead: str, body: str, keys: Sequence[int]) -> bool:
        # A plain yes/no answers the question outright; hedged or attributed evidence never does.
        ev = [self.by_key[k].text for k in keys]
        if any(hedges(t) for t in ev) or self.checker.llm is None:
            return False
        # The polarity guard sees the lead with its sentence: "No, ... has played down ..." affirms after a "No".
        if check_polarity(f"{lead}, {body}", " ".join(ev)):
            return False
        v = self.checker.judge(f"{lead}, {body}", ev, question=self.question, block=self.block, keys=list(keys))
        return v.supported

    def _support(self, claim: str, vec: np.ndarray, keys: Sequence[int]) -> float:
        if not keys:
            return 0.0
        return support(claim, vec, [self.by_key[k].text for k in keys], [self._ev_vecs[k] for k in keys])

    def _best(self, claim: str, vec: np.ndarray, exclude: Sequence[int]) -> EvidenceSentence | None:
        scored = [(self._support(claim, vec, [e.key]), e) for e in self.evidence if e.key not in exclude]
        if not scored:
            return None
        score, best = max(scored, key=lambda x: x[0])
        return best if score >= self.repair_support else None

    def _cite(self, key: int, sentence: str, score: float, index: int, repaired: bool) -> Citation | None:
        return cite(self.by_key[key], sentence, self.bodies, score, index, repaired)

    def _dates_ok(self, cites: Sequence[Citation]) -> bool:
        if self.min_dates <= 1:
            return True
        days = {self.by_key[c.key].published_at.date() for c in cites if self.by_key[c.key].published_at}
        return len(days) >= self.min_dates

    def _quote(self, keys: Sequence[int], index: int, relevant_only: bool = True,
               fallback: bool = True, min_share: float = 0.5) -> Citation | None:
        if fallback and not self.quote_fallback:
            return None
        for k in keys:
            e = self.by_key.get(k)
            if e is None or k in self.quoted or is_question(e.text):
                continue
            if relevant_only and not self.checker.answers(self.question, [e.text], block=self.block, keys=[k],
                                                          min_share=min_share):
                continue
            c = cite(e, "", self.bodies, 1.0, index, False, verified_by="exact quote")
            if c is not None:
                self.quoted.add(k)
                return c
        return None


def validate(raw: str, evidence: Sequence[EvidenceSentence], bodies: dict[str, str], embedder: Embedder,
             min_support: float = 0.42, repair_support: float = 0.55, checker: Checker | None = None,
             question: str = "", block: str = "", min_dates: int = 1) -> Validated:
    """Check a whole raw answer at once (`Verifier` does the work sentence by sentence).

    Only sentences with a verbatim citation that passed `checker` (default: the deterministic guards)
    are kept; when nothing is kept the result is the refusal. `min_support` is the similarity floor of
    the default checker (ignored when `checker` is given).
    """
    parts = split_answer(raw)
    if not parts or all(is_pure_refusal(s) for s, _ in parts):
        return Validated(REFUSAL, False, [], [])
    v = Verifier(evidence, bodies, embedder, checker or Checker(embedder=embedder, min_support=min_support), question,
                 block, repair_support, min_dates=min_dates)
    checked = [v.check(s, keys, i) for i, (s, keys) in enumerate(parts)]
    shown = [c for c in checked if c.shown]
    sentences = [c.record() for c in checked]
    if not shown:
        return Validated(REFUSAL, False, sentences, [])
    return Validated(" ".join(c.shown for c in shown), True, sentences, [x for c in shown for x in c.citations])


def shown_citations(checked: Sequence[Checked]) -> list[Citation]:
    """The citations of the sentences that are shown, in order."""
    return [x for c in checked if c.shown for x in c.citations]


def checked_answer(question: str, checked: Sequence[Checked], **fields: Any) -> Answer:
    """The Answer made of checked sentences: the shown ones joined (the refusal when none is shown),
    their citations and a record of every sentence; `fields` are the Answer's other fields."""
    shown = [c for c in checked if c.shown]
    return Answer(question=question, text=" ".join(c.shown for c in shown) if shown else REFUSAL,
                  answerable=bool(shown), citations=shown_citations(checked),
                  sentences=[c.record() for c in checked], **fields)


def is_question(text: str) -> bool:
    """Does the sentence ask rather than state ("What happened Wednesday?")? Neither a claim nor a quote to show."""
    return text.rstrip(" \"'\u201d\u2019)").endswith("?")


_REPORTING = frozenset("according report reports reported say says said note notes noted state states stated "
                       "told tell tells wrote write writes added".split())


def only_attribution(claim: str) -> bool:
    """A sentence that names who reported, said or noted something and nothing of what ("CBS News and Reuters
    reported.", "According to Reuters."): the tail of a cited sentence cut off from its content. A name alone
    ("Steve Witkoff.") is an answer, not this."""
    named = name_words(claim)
    rest = [w for w in words(claim) if w not in named]
    return bool(set(rest) & _REPORTING) and content_stems(" ".join(rest)) <= FRAME_WORDS


def quote_text(quote: str) -> str:
    """An article sentence shown as an attributed quote in the answer text. Markers and chat tokens
    inside it are defanged ("[99]" -> "(99)") so article text cannot pose as a citation; the
    Citation keeps the exact words."""
    return f"{QUOTE_LEAD} \u201c{defang(quote)}\u201d"


# A draft that ends in markers after its full stop, or in a full stop after its markers (markers as
# split_answer reads them).
_CLOSED = re.compile(rf"(?:[.!?][\"”’')]*\s*(?:{MARKER.pattern})+|(?:{MARKER.pattern})+\s*[.!?])\s*$")
_LETTER = re.compile(r"[^\W\d_]")


def finished_claims(raw: str, question: str = "") -> list[tuple[str, list[int]]] | None:
    """The finished sentences of a draft being written, once one of them claims something (not a bare
    "Yes."/"No.", which stands on the next one, nor a restatement of `question`, after which the answer
    comes); None before that. A sentence is finished when its markers close it ("… Wednesday [2]." or
    "… Wednesday. [2]") or the next sentence has begun with a word (so no marker of the finished one can
    still follow)."""
    parts = split_answer(raw)
    if _CLOSED.search(raw):
        done = parts
    elif len(parts) > 1 and _LETTER.search(parts[-1][0]):
        done = parts[:-1]
    else:
        return None
    claims = any(not _bare_yes_no(s) and not restates_question(s, question) for s, _ in done)
    return done if claims else None


# The question proper is its last sentence ("Tim Scott announced his campaign this week. Scott is a
# senator for which state?"); one opening on an auxiliary asks for a verdict, not for a missing word.
_VERDICT_QUESTION = re.compile(r"^\s*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|"
                               r"shall|may|might|must|isn't|aren't|wasn't|didn't|doesn't|hasn't|haven't)\b", re.I)


def question_proper(question: str) -> str:
    """The question's last sentence, the one that asks ("Tim Scott announced his campaign this week. Scott is a
    senator for which state?")."""
    asked = [s for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s.strip()]
    return asked[-1] if asked else ""


def asks_verdict(question: str) -> bool:
    """Is this a yes/no question (its last sentence opens on an auxiliary: "Is Russia stalling?")?"""
    return bool(_VERDICT_QUESTION.match(question_proper(question)))


def restates_question(claim: str, question: str) -> bool:
    """Does the claim only repeat words of a question that asks for something (who, which, how many)?

    The 1.5B model often opens with the question turned into a statement ("Tim Scott announced his
    campaign for president this week.") and names the answer in the next sentence; such a sentence answers
    nothing, however well it is supported. For a yes/no question the same words are the verdict."""
    if not question.strip() or asks_verdict(question):
        return False
    said = stem_counts(strip_yes_no(MARKER.sub("", claim))[1])
    for w in FRAME_WORDS:
        said.pop(w, None)
    # Counted, not as sets: "HBO Max relaunched as a service called Max" answers "... called:" with a word
    # the question already has.
    return bool(said) and not (said - stem_counts(question))


def _bare_yes_no(sentence: str) -> bool:
    return sentence.strip(" .!,").lower() in ("yes", "no")
