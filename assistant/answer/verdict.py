"""The verdict that opens an answer to a yes/no or true/false question.

A reader who asks "Is Russia stalling?" wants the verdict first, and in news the verdict is usually someone's:
"Many Western experts suspect so [3]." Quoting the sentence alone leaves the reader to find it. Three verdicts
are built here, each from words the cited sentence itself holds or from a check that already passed, never from
the draft's wording:

- attributed: a sentence in which a speaker (a noun phrase, not a bare pronoun) says, suspects, believes ...
  a clause holding every content word of the question's predicate: "<speaker> <verb> so";
- denied: a sentence that negates the question's verb (span.denials) answers "No" to a question that is not
  itself negative;
- stated: a true/false question ("True or false: X", "Is it true that X?") whose statement X passes the same
  checks as any claim against a cited sentence: "True" / "Yes";
- corrected: a "why did X do Y?" question whose premise a sentence denies ("which the Trump administration and
  the Kremlin have not confirmed"): the question's own subject and object around the sentence's negated verb,
  "The Kremlin has not confirmed Dmitriev's visit", shown only if it passes the claim checks against that
  sentence.

The sentence is quoted right after its verdict, so what the verdict rests on is on the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from .citations import content_stems
from .guards import negated_words
from .names import name_words
from .verify import Verifier, asks_verdict, question_proper
from ..types import EvidenceSentence

# Verbs that attribute a view or a claim to a speaker (a closed class, not words of any one text).
_ATTRIBUTION = ("suspect|suspects|suspected|believe|believes|believed|think|thinks|thought|say|says|said|argue|"
                "argues|argued|claim|claims|claimed|fear|fears|feared|insist|insists|insisted|"
                "allege|alleges|alleged|doubt|doubts|doubted|predict|predicts|predicted|"
                "contend|contends|contended|acknowledge|acknowledges|acknowledged|assert|asserts|asserted|"
                "conclude|concludes|concluded|report|reports|reported")
_VERB = re.compile(r"\b(?:" + _ATTRIBUTION + r")\b(?:\s+that\b)?", re.I)
_BOUNDARY = re.compile(r"[:;,\u2014\u2013(\"\u201c]|\s-\s")
_POSTPOSED = re.compile(r"\s*(?:[,.;]|$)")  # the verb ends its clause: "..., a British analyst argued, adding"
_POSTPOSED_WHO = re.compile(r",\s+((?:[\w'\u2019.-]+\s+){1,6})$")
_CLAUSE_END = re.compile(r"[:;\u2014\u2013]")
_HEDGES = re.compile(r"\b(?:expect(?:s|ed)?|plan(?:s|ned)?|set|hope[sd]?|want(?:s|ed)?|wish(?:es|ed)?|may|might|"
                     r"could|would|likely|unlikely|possibly|perhaps|probably|if|whether)\b")
_LINKS = frozenset("and or but while though although as since because yet so however meanwhile".split())
_SUBORDINATE = re.compile(r"[,(]|\b(?:as|while|because|since|after|before|when|although|though|but|and|which|who|"
                          r"whom|whose|where|until|unless)\b", re.I)
STATEMENT_CHECKS = 2  # sentences a true/false question's statement is checked against (one judge call each at most)
_PRONOUNS = frozenset("he she they it we i you this that these those who which one".split())
_STATEMENT = re.compile(r"^\s*(?:true\s+or\s+false|false\s+or\s+true|is\s+it\s+true\s+that|is\s+it\s+the\s+case\s+"
                        r"that)\s*[:,?-]?\s*", re.I)
_NEGATIVE_QUESTION = re.compile(r"\b(?:not|never|n't)\b", re.I)


VERDICT_ROUTES = {"attributed": "who says so, in that sentence", "denied": "it denies the question's verb",
                  "stated": "the question's statement passed the claim checks against it",
                  "corrected": "it denies the question's premise, and the correction passed the claim checks"}
_WHY = re.compile(r"^\s*why\s+(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\s+(.+?)\s*\?*\s*$",
                  re.I)
_AUX = "is|are|was|were|do|does|did|has|have|had|can|could|will|would"
_NEGATED_VERB = re.compile(r"\b(" + _AUX + r")(?:\s+(?:not|never)\s+|n['\u2019]t\s+)([A-Za-z]+)", re.I)
# The auxiliary as a singular subject takes it ("the Kremlin has"), and as a plural one ("the talks have").
_SINGULAR = {"have": "has", "do": "does", "are": "is", "were": "was"}
_PLURAL = {v: k for k, v in _SINGULAR.items()}


@dataclass(frozen=True)
class VerdictLead:
    """The verdict's words (without the citation) and the evidence key it rests on."""

    text: str
    key: int
    route: str  # "attributed", "denied" or "stated": which rule built it


def asks_premise(question: str) -> bool:
    """A "why did X do Y?" question, which presupposes that X did Y."""
    return bool(_WHY.match(question_proper(question)))


def wants_verdict(question: str) -> bool:
    """A question whose answer may open on a verdict: yes/no, true/false, or a premise to correct."""
    return asks_yes_no(question) or asks_premise(question)


def corrections(question: str, sentence: str) -> list[str]:
    """What a sentence denying a "why did X do Y?" question's premise says instead, in the question's words around
    the sentence's own negated verb: "The Kremlin has not confirmed Dmitriev's visit", then "... confirmed it".

    Empty unless the sentence negates the question's verb with an auxiliary ("have not confirmed", "didn't sign")
    and holds the subject's content words. The caller checks the text like any claim before showing it."""
    m = _WHY.match(question_proper(question))
    if not m:
        return []
    words = m.group(2).split()
    for found in _NEGATED_VERB.finditer(sentence.replace("\u2019", "'")):
        aux, verb = found.group(1).lower(), found.group(2)
        at = next((i for i, w in enumerate(words[1:], 1) if _same_verb(w, verb)), None)
        if at is None:
            continue
        subject, obj = " ".join(words[:at]), " ".join(words[at + 1:]).rstrip("?.! ")
        if not content_stems(subject) or not content_stems(subject) <= content_stems(sentence):
            continue
        plural = " and " in f" {subject.lower()} " or subject.lower().endswith("s")
        aux = (_PLURAL if plural else _SINGULAR).get(aux, aux)
        said = f"{subject[:1].upper()}{subject[1:]} {aux} not {verb}"
        return [f"{said} {obj}", f"{said} it"] if obj else [said]
    return []


def _same_verb(word: str, verb: str) -> bool:
    """The question's base form and the sentence's form of one verb ("confirm" / "confirmed", "sign" / "signed")."""
    stems = content_stems(word)
    return bool(stems) and stems == content_stems(verb)


def asks_yes_no(question: str) -> bool:
    """A yes/no question ("Is Russia stalling?") or a true/false one ("True or false: ...")."""
    return asks_verdict(question) or statement(question) is not None


def statement(question: str) -> str | None:
    """The statement a true/false question asks about ("True or false: Koepka won the title." -> "Koepka won the
    title."), else None."""
    asked = question_proper(question)
    m = _STATEMENT.match(asked)
    rest = asked[m.end():].strip().rstrip("?").strip() if m else ""
    return rest[:1].upper() + rest[1:] if len(rest.split()) >= 3 else None


def attributed(question: str, sentence: str) -> str | None:
    """"<speaker> <verb> so" when `sentence` has a speaker who says, suspects, believes ... a clause that holds
    every content word of the yes/no question's predicate (its words other than names), while the sentence
    names what the question names (or a word that starts with it: "Russia" in "Russian officials"). None else."""
    if not asks_verdict(question) or _NEGATIVE_QUESTION.search(question_proper(question)):
        return None
    asked = question_proper(question)
    named = _named(asked)
    predicate = _predicate(asked, named)
    if not predicate:
        return None
    lowered = sentence.lower()
    if any(not re.search(r"\b" + re.escape(n), lowered) for n in named):
        return None
    for m in _VERB.finditer(sentence):
        after = _POSTPOSED.match(sentence[m.end():])
        lead = _POSTPOSED_WHO.search(sentence[:m.start()])
        if after and lead:
            # "Russia was the weaker partner ..., a British analyst argued, adding ...": the attribution follows
            # what it attributes, which is everything before it in its clause.
            what = _CLAUSE_END.split(sentence[:lead.start()])[-1]
            who = " ".join(lead.group(1).split())
            if _says(asked, predicate, what) and content_stems(who):
                return f"{who} {m.group(0).split()[0]} so"
            continue
        before = _BOUNDARY.split(sentence[:m.start()])[-1].split()
        while before and before[0].lower() in _LINKS:
            before = before[1:]
        if not before or len(before) > 6 or not content_stems(" ".join(before)) or before[-1].lower() in _PRONOUNS:
            continue
        who, verb = " ".join(before), m.group(0).split()[0]
        # What is attributed is the complement's main clause: in "suspect they are stalling for time as Russian
        # troops make progress", the progress is the sentence's own statement, not the experts' suspicion.
        what = _SUBORDINATE.split(_CLAUSE_END.split(sentence[m.end():])[0], maxsplit=1)[0]
        if _says(asked, predicate, what):
            return f"{who} {verb} so"
    return None


def _named(asked: str) -> set[str]:
    """The lower-cased words of the names in the question proper (not its opening "Is", which names() may take)."""
    return {w for w in name_words(asked) if content_stems(w)}


def predicate_stems(question: str) -> set[str]:
    """The content stems of what the question asks about its names ("Is Russia stalling?" -> {"stall"}): a
    sentence that shares only the names is about the subject, not about the question."""
    asked = question_proper(question)
    return _predicate(asked, _named(asked))


def _predicate(asked: str, named: set[str]) -> set[str]:
    return content_stems(" ".join(w for w in re.findall(r"[\w'\u2019-]+", asked) if w.lower() not in named))


def _says(asked: str, predicate: set[str], what: str) -> bool:
    """Does the attributed clause say what the question asks, not less: every content word of its predicate, no
    negation, and no hope or hedge the question lacks ("said they hope outreach can split Moscow away" is not
    "said so" to "Can outreach split Moscow away?")."""
    hedges = set(_HEDGES.findall(what.lower())) - set(_HEDGES.findall(asked.lower()))
    return predicate <= content_stems(what) and not negated_words(what)[0] and not hedges


def find(question: str, evidence: Sequence[EvidenceSentence], among: Sequence[int], denied: Sequence[int],
         stated: Sequence[int] = ()) -> VerdictLead | None:
    """The verdict for a yes/no or true/false question, resting on one of the keys in `among` (best first).

    `denied`: keys whose sentence denies the question's verb (span.denials); `stated`: keys against which the
    question's statement has passed the claim checks (the pipeline checks it: this module does not judge)."""
    if not asks_yes_no(question):
        return None
    asked = question_proper(question).lower()
    if stated:
        return VerdictLead("True" if asked.startswith(("true", "false")) else "Yes", stated[0], "stated")
    by_key = {e.key: e for e in evidence}
    for key in among:
        if key in by_key:
            said = attributed(question, by_key[key].text)
            if said:
                return VerdictLead(said, key, "attributed")
    if asks_verdict(question) and not _NEGATIVE_QUESTION.search(asked) and not asked.startswith("why"):
        for key in among:
            if key in denied:
                return VerdictLead("No", key, "denied")
    return None


def verdict_for(verifier: Verifier, question: str, drafted: Sequence[tuple[str, Any]], denied: Sequence[int],
                among: Sequence[int]) -> VerdictLead | None:
    """The verdict for a yes/no or true/false question, resting on one of `among`, or the correction of a "why"
    question's premise that a sentence in `denied` contradicts (checked like any claim); a true/false question's
    statement is checked like any claim (guards, then the judge) against the draft's citations and the best
    evidence first; then who says so, or a denial (`find`)."""
    if asks_premise(question):
        for key in [k for k in among if k in denied] + [k for k in denied if k not in among]:
            for text in corrections(question, verifier.by_key[key].text) if key in verifier.by_key else []:
                if verifier.holds(text, [key]):
                    return VerdictLead(text, key, "corrected")
        return None
    claim = statement(question)
    stated: list[int] = []
    if claim:
        cited = [k for _, ks in drafted for k in ks if k in verifier.by_key]
        for key in list(dict.fromkeys(cited + list(among)))[:STATEMENT_CHECKS]:
            if verifier.holds(claim, [key]):
                stated.append(key)
                break
    return find(question, verifier.evidence, among, denied, stated)
