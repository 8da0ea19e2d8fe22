"""Deterministic claim guards: what a similarity score cannot see, checked word by word.

Each guard compares one answer claim with the evidence sentences it cites and returns a reason
string when the claim says something the evidence does not: a number, date or quantity that is
not there (quantities.py); a negation flipped; a name that is not there (names.py); an attributed
or hedged statement turned into plain fact. They are cheap, explainable and strict on purpose: `entailment.Checker` runs
them before the model judge, and `evals/faithfulness.py` measures what each one catches and what
true claims it wrongly rejects.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Callable, Sequence

from ..sentences import words
from .names import check_names, check_speaker, names, report_dropped, strip_yes_no
from .quantities import check_numbers
from .structure import (check_cause, check_conflation, check_exclusive, check_modality, check_roles, check_scope,
                        check_subject)

# Negation cues; the word they govern is the next content word (or the verb "n't" is attached to).
_NEG = frozenset("not no never none nobody nothing neither nor without cannot cant wont dont doesnt didnt isnt "
                 "arent wasnt werent hasnt havent hadnt couldnt wouldnt shouldnt mustnt".split())
_NEG_PHRASES = re.compile(r"\b(no longer|failed to|fails to|fail to|refused to|refuses to|declined to|"
                          r"has yet to|have yet to|is yet to|are yet to|ruled out)\b", re.I)
# Words that flip a claim's meaning without a negation word.
_ANTONYMS = [("accept", "reject"), ("confirm", "deny"), ("increase", "decrease"), ("rise", "fall"),
             ("win", "lose"), ("agree", "disagree"), ("support", "oppose"), ("allow", "ban"),
             ("approve", "reject"), ("open", "close"), ("before", "after"), ("more", "less"), ("more", "fewer"),
             ("higher", "lower"), ("larger", "smaller"), ("gain", "loss"), ("success", "failure"),
             ("succeed", "fail"), ("friend", "enemy"), ("ally", "enemy"), ("strong", "weak"),
             ("stronger", "weaker"), ("quick", "lengthy"), ("quick", "slow"), ("easy", "hard"),
             ("easy", "difficult"), ("likely", "unlikely"), ("guilty", "innocent"), ("legal", "illegal"),
             ("public", "private"), ("publicly", "privately"), ("first", "last"), ("earliest", "latest"),
             ("largest", "smallest"), ("increased", "reduced"), ("raise", "cut"), ("hire", "fire"),
             ("always", "never"), ("all", "none"), ("up", "down"), ("north", "south"), ("east", "west"),
             ("buy", "sell"), ("import", "export"), ("western", "eastern"), ("northern", "southern"),
             ("upper", "lower"), ("superior", "inferior"), ("inner", "outer"), ("internal", "external"),
             ("oldest", "newest"), ("oldest", "youngest"), ("older", "younger"), ("older", "newer"),
             ("sun", "moon"), ("male", "female"), ("men", "women"), ("husband", "wife"), ("father", "mother"),
             ("son", "daughter"), ("brother", "sister"), ("king", "queen"), ("day", "night"),
             ("summer", "winter"), ("major", "minor"), ("high", "low"), ("long", "short"), ("early", "late"),
             ("victory", "defeat"), ("won", "lost"), ("attack", "defend"), ("domestic", "foreign"),
             ("lift", "impose"), ("end", "start"), ("end", "begin"),
             ("ended", "began"), ("dead", "alive"), ("positive", "negative"), ("maximum", "minimum"),
             ("few", "many"), ("sparsely", "densely"), ("identical", "different"), ("rare", "common"),
             ("rarely", "commonly"), ("cheap", "expensive"), ("rich", "poor"), ("wet", "dry")]
# Attribution and hedge words: evidence that carries one makes a claim that carries none overstate it.
_NEITHER = re.compile(r"\bneither\b(.*?)\bnor\b(.*?)\b(has|have|is|are|was|were|did|does|do|can|could|will|would)\b",
                      re.I)
_HEDGES = frozenset(
    "suspect suspects suspected reportedly reported reports report may might could would can according said say "
    "says told tell tells believe believes believed argue argues argued claim claims claimed allege alleges "
    "alleged allegedly expect expects expected likely unlikely appear appears appeared seem seems seemed "
    "suggest suggests suggested estimate estimates estimated accuse accuses accused warn warns warned think "
    "thinks thought assert asserts asserted insist insists insisted predict predicts predicted possibly "
    "perhaps probably purportedly apparently apparent stated states speculate speculated contend contended "
    "maintain maintained acknowledged acknowledging fear fears feared hope hopes hoped doubt doubts doubted "
    "seemingly proposed propose proposes arguing saying claiming warning suggesting insisting worried worry "
    "concerned believing expecting supposedly rumored rumoured assertion described describes describe "
    "describing".split())
_HEDGE_PHRASES = re.compile(r"\b(according to|is expected to|are expected to|was expected to|in what would|"
                            r"is said to|are said to|is believed to|are believed to|is thought to)\b", re.I)
def negated_words(text: str) -> tuple[set[str], set[str]]:
    """(stems under a negation, stems not under one); a negation governs the next content word."""
    # "Neither A nor B has confirmed it" negates the verb, not A and B.
    t = _NEITHER.sub(lambda m: f"{m.group(1)} and {m.group(2)} {m.group(3)} not ", text.replace("\u2019", "'"))
    t = _NEG_PHRASES.sub(" not ", t)
    # "no one could enter" negates "enter" (not "one"); "a specialist rather than an alchemist" negates "alchemist"
    t = re.sub(r"\bno[- ]one\b", "nobody", t, flags=re.I)
    t = re.sub(r"\b(rather than|instead of)\b", " not ", t, flags=re.I)
    toks = [w.replace("'", "") for w in re.findall(r"[A-Za-z][A-Za-z']*", t)]
    toks = [("not" if w.lower().endswith("nt") and w.lower() in _NEG else w.lower()) for w in toks]
    neg, pos = set(), set()
    pending = False
    for w in toks:
        if w in _NEG:
            pending = True
            continue
        if w in _FUNCTION:
            continue
        (neg if pending else pos).add(_root(w))
        pending = False
    return neg, pos


_FUNCTION = frozenset("a an the be is are was were been being to of in on at by for with as it its this that "
                      "has have had do does did can could will would should may might must yet so very "
                      "any anything ever even".split())


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=4096)
def _root(word: str) -> str:
    return _stemmer().stemWord(word)


def check_polarity(claim: str, evidence: str) -> str:
    """A negation the evidence does not have (or drops one it has), a word swapped for its antonym, or a
    "No, ..." that goes on to affirm (a "Yes, ..." that goes on to deny)."""
    lead, body = strip_yes_no(claim)
    c_neg, c_pos = negated_words(body)
    if lead == "No" and not c_neg:
        return "the claim answers 'No' and then affirms"
    if lead == "Yes" and c_neg:
        return "the claim answers 'Yes' and then denies"
    e_neg, e_pos = negated_words(evidence)
    for w in sorted(c_neg):
        if w in e_pos and w not in e_neg:
            return f"the claim negates '{w}', the evidence does not"
    for w in sorted(c_pos):
        if w in e_neg and w not in e_pos:
            return f"the evidence negates '{w}', the claim does not"
    c_all, e_all = c_neg | c_pos, e_neg | e_pos
    flipped = _prefix_antonym(body, evidence)
    if flipped:
        return flipped
    for a, b in _ANTONYMS:
        for x, y in ((a, b), (b, a)):
            rx, ry = _root(x), _root(y)
            if rx in c_all and rx not in e_all and ry in e_all:
                return f"the claim says '{x}' where the evidence says '{y}'"
    return ""


_NEG_PREFIX = ("un", "in", "im", "il", "ir", "dis", "non")


def _prefix_antonym(claim: str, evidence: str) -> str:
    """A word the evidence has with a negating prefix and the claim without it, or the reverse ("dependent" for
    "independent", "likely" for "unlikely"): the meaning flipped by morphology, no word list needed."""
    c = {w.lower() for w in words(claim)}
    e = {w.lower() for w in words(evidence)}

    def negated(word: str) -> bool:  # "don't seem the least bit interested" is "uninterested"
        return bool(re.search(rf"(\b(?:not|no|never|without)\b|n\s?['\u2019]t\b)[^.;,]{{0,40}}\b{word}\b", evidence, re.I))

    for w in sorted(c - e):
        for p in _NEG_PREFIX:
            if w.startswith(p) and len(w) - len(p) >= 4 and w[len(p):] in e and w[len(p):] not in c \
                    and not negated(w[len(p):]):
                return f"the claim says '{w}' where the evidence says '{w[len(p):]}'"
            if len(w) >= 4 and p + w in e and p + w not in c:
                return f"the claim says '{w}' where the evidence says '{p + w}'"
    return ""


def hedges(text: str) -> set[str]:
    """Attribution and hedge words in the text ("said", "reportedly", "may", "according to" ...)."""
    found = {m.group(0).lower() for m in _HEDGE_PHRASES.finditer(text)}
    for m in re.finditer(r"[A-Za-z]+", text):
        w = m.group(0)
        if w.lower() not in _HEDGES:
            continue
        # Capitalised mid-sentence it is part of a name: "in May", "the United States", "Consumer Reports".
        if w[0].isupper() and m.start() > 0 and not re.search(r"[.!?:\"\u201c]\s*$", text[:m.start()]):
            continue
        if w.lower().startswith("report") and re.match(r"\s+(for|to work|back)\b", text[m.end():]):
            continue  # "reported for duty" is not a report
        if w.lower().startswith("maintain") and not re.match(r"\s*(that\b|,|:|\"|\u201c)", text[m.end():]):
            continue  # "maintained political affinities" kept them; "maintained that ..." asserts
        found.add(w.lower())
    return found


def check_attribution(claim: str, evidence: str) -> str:
    """Evidence that attributes or hedges ("experts suspect", "reportedly", "X said") needs a claim that does too.

    Only the clauses the claim draws on count, plus short attribution clauses that cover the whole
    sentence ("..., Reuters reported."): a "said" in another clause does not make a fact a report.
    """
    body = strip_yes_no(claim)[1]
    c_hedges = hedges(body)
    # Saying who reports it does not keep a hedge: "agreed to meet, Reuters reported" overstates
    # "is expected to meet, Reuters reported". An attributed claim still needs the evidence's modality.
    modal_only = bool(c_hedges) and c_hedges <= _LIKELIHOOD and not _CLAIM_ATTRIBUTES.search(body)
    if (c_hedges or _CLAIM_ATTRIBUTES.search(body)) and not modal_only:
        who = check_speaker(body, evidence) or report_dropped(body, evidence)
        if who:
            return who
        return "" if c_hedges & _LIKELIHOOD else _modal_dropped(body, evidence)
    c_stems = _stems(body)
    # Names say who a clause is about, not whether it is hedged: "Perhaps his most notable work is
    # Capitalism and Underdevelopment" hedges "most notable", and a claim that drops that is no overstatement.
    c_plain = _stems(body, keep_names=False)
    found: set[str] = set()
    sentences = re.split(r"(?<=[.!?])\s+", evidence)
    if modal_only and any(not _who_says(x) and _fuzzy_overlap(_stems(x), c_stems)
                          >= 0.8 * len(c_stems) for x in sentences):
        return ""  # the claim keeps the likelihood of a cited sentence that names no one
    for sentence in sentences:
        clauses = [c for c in _CLAUSE.split(sentence) if c.strip()]
        covered = [False] * len(clauses)
        for i, clause in enumerate(clauses):
            # A claim that keeps the likelihood ("is unlikely to", "could") must still say who thinks so.
            h = _who_says(clause) if modal_only else hedges(clause)
            if not h:
                continue
            stems = _stems(clause)
            short = len(stems - c_stems) <= 4
            covered[i] = True
            # "X said that ...", "it was reported that ...": everything after the reporting verb is reported.
            if _REPORTS_THAT.search(clause) or (short and i + 1 < len(clauses)):
                for j in range(i + 1, len(clauses)):
                    if _CONTRAST.match(clauses[j]):
                        break
                    covered[j] = True
            if short and i == len(clauses) - 1 and i > 0 and not _CONTRAST.match(clause):  # "..., Reuters reported."
                covered = [True] * len(clauses)
            found |= h
        if any(covered):
            hedged_clauses = [c for c, cov in zip(clauses, covered) if cov]
            hedged = set().union(*(_stems(c) for c in hedged_clauses))
            # ... when the claim draws on another evidence sentence; one hedged sentence cited alone stays hedged.
            only_names = len(sentences) > 1 and not _fuzzy_overlap(
                set().union(*(_stems(c, keep_names=False) for c in hedged_clauses)), c_plain)
            # The claim may draw on a clause the hedge does not reach ("..., although no civilian has
            # received it since 1879"): then it must share more with that clause than with the hedged ones.
            plain = set().union(*(_stems(c) for c, cov in zip(clauses, covered) if not cov))
            elsewhere = _fuzzy_overlap(plain, c_stems) > _fuzzy_overlap(hedged, c_stems)
            if not only_names and (len(clauses) == 1 or (_fuzzy_overlap(hedged, c_stems) >= min(2, len(c_stems))
                                                         and not elsewhere)):
                return (f"the evidence attributes or hedges it ({', '.join(sorted(found)[:3])}); "
                        "the claim states it as fact")
        found = set()
    return ""


def _modal_dropped(claim: str, evidence: str) -> str:
    """A hedge of likelihood whose verb the claim states plainly ("is expected to meet" -> "agreed to meet"),
    unless the hedge sits under a reporting word and the claim reports too ("concerned that they might
    lose" -> "worried about losing")."""
    c_roots = {_root(w) for w in words(claim)}
    reports = bool(hedges(claim) - _MODAL) or bool(_CLAIM_ATTRIBUTES.search(claim))
    for m in _MODAL_VERB.finditer(evidence):
        before = words(evidence[max(0, m.start() - 80):m.start()])
        if reports and any(w in _HEDGES and w not in _MODAL for w in before):
            continue
        if _root(m.group(2).lower()) in c_roots:
            return f"the evidence hedges it ({m.group(1).lower()} {m.group(2)}); the claim states it as certain"
    return ""


# Hedges of likelihood, as against attribution ("said", "reported"); "can" and "would" are left out
# ("can not accept", reported speech's "would").
_MODAL = frozenset("may might could expect expects expected likely unlikely possibly perhaps probably apparent appear "
                   "appears appeared seem seems seemed seemingly apparently supposedly purportedly allegedly".split()) \
    | {"is expected to", "are expected to", "was expected to"}
_LIKELIHOOD = _MODAL | {"can", "would", "could"}
# Hedges that say how sure, not who says so: a claim keeping a likelihood may drop these.
_NOT_A_SPEAKER = frozenset({"suggest", "suggests", "suggested", "suggesting", "in what would", "reportedly"})


def _who_says(text: str) -> set[str]:
    """The hedges of `text` that say who says so ("said", "believe"), not how likely it is."""
    return hedges(text) - _LIKELIHOOD - _NOT_A_SPEAKER
_MODAL_VERB = re.compile(r"\b(may|might|could|(?:is|are|was|were) expected to|(?:is|are|was|were) likely to|"
                         r"(?:is|are|was|were) unlikely to|possibly|perhaps|probably|seemingly|apparently|"
                         r"supposedly|allegedly)\s+(?:(?:be|have|been|not|also|to|still|soon)\s+)*([A-Za-z]+)", re.I)
_REPORTS_THAT = re.compile(r"\b(said|says|reported|argued|argues|estimated|believed|believes|claimed|claims|"
                           r"suspect|suspects|suggested|warned|assertion|view|concerned|feared|fears|hoped|"
                           r"stated|announced|acknowledged|insisted|noted|added|told)\b(\s+\w+){0,3}?\s+that\b", re.I)


def _fuzzy_overlap(a: set[str], b: set[str]) -> int:
    """Shared stems, counting related forms ("russia"/"russian", "ukrain"/"ukrainian") as one."""
    return sum(1 for x in b if any(x == y or (min(len(x), len(y)) >= 4 and abs(len(x) - len(y)) <= 3
                                              and (x.startswith(y) or y.startswith(x))) for y in a))


# A hedge governs its clause; "although", "but", "whereas" start a clause it does not reach
# ("It may be awarded to civilians although no civilian has received it since 1879").
_CONTRAST = re.compile(r"\s*(?:although|though|whereas|but)\s", re.I)
_CLAUSE = re.compile(r"\s*[,;:()\u2014\u2013]\s*|\s+-\s+|\s+(?=(?:although|though|whereas|but|after|before|since)\s)")
# A claim that reports a view in other words than the evidence ("Quesnay held that", "is generally
# seen as") attributes it: only the claim side reads these, so evidence stays strictly checked.
_CLAIM_ATTRIBUTES = re.compile(r"\b((?:held|holds|maintained|maintains|contended|contends|wrote|writes|explained|"
                               r"explains)\s+that|(?:is|are|was|were)\s+(?:widely|generally|often|commonly)\s+(?:seen|regarded|"
                               r"considered|viewed)\s+as|in (?:his|her|their|the) view)\b", re.I)


def _stems(text: str, keep_names: bool = True) -> set[str]:
    """Content-word stems; `keep_names=False` leaves out the words `names` finds (people, places, titles)."""
    if not keep_names:
        for name in sorted(set(names(text)), key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text)
    return {_root(w) for w in words(text) if w not in _FUNCTION and w not in _HEDGES and w not in _PRONOUNS
            and len(w) > 2}


_PRONOUNS = frozenset("his her hers him she they them their theirs its who whom whose which what our ours you "
                      "your and but nor one".split())


def check_predicate(claim: str, evidence: str) -> str:
    """A claim that shares only names with its evidence says something of them the evidence does not: "Kevin
    McCarthy sparked a dayslong stalemate" cited to "Kevin McCarthy was once rejected for a House internship" (the
    draft took its words from the question). At least one of the claim's other content words, or a related form,
    must be in the evidence; a claim with fewer than two such words is left to the other checks."""
    said = _stems(claim, keep_names=False)
    if len(said) < 2 or _fuzzy_overlap(_stems(evidence), said):
        return ""
    return f"none of the claim's words besides its names ({', '.join(sorted(said))}) is in the cited evidence"


GUARDS: dict[str, Callable[..., str]] = {
    "numbers": check_numbers,
    "polarity": check_polarity,
    "names": check_names,
    "attribution": check_attribution,
    "scope": check_scope,
    "modality": check_modality,
    "exclusive": check_exclusive,
    "cause": check_cause,
    "roles": check_roles,
    "conflation": check_conflation,
    "predicate": check_predicate,
    "subject": check_subject,
}


def run_guards(claim: str, evidence: Sequence[str], published: Sequence[date] = (), context: str = "",
               skip: Sequence[str] = ()) -> tuple[str, str]:
    """(guard name, reason) of the first guard the claim fails, or ("", "") when it passes them all.

    `context` (the cited briefings' titles, sections and other evidence sentences) counts for names only:
    a headline may name who a sentence is about, but not stand in for a name the sentence has.
    """
    joined = " ".join(evidence)
    for name, guard in GUARDS.items():
        if name in skip:
            continue
        if name == "numbers":
            why = guard(claim, joined, published)
        elif name == "names":
            why = guard(claim, joined, context)
        elif name == "conflation":  # which sentence says what, and when: the one guard that needs them apart
            why = guard(claim, evidence, published if len(published) == len(evidence) else ())
        else:
            why = guard(claim, joined)
        if why:
            return name, why
    return "", ""
