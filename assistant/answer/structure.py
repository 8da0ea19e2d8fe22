"""Guards for what a claim's grammar adds: scope, modality, exclusivity, cause, who does what to whom.

Each rule works on a closed word class of English (quantifiers, modals, superlatives, causal connectives)
or on the order of the names a claim shares with its evidence, never on words taken from labelled rows:
a claim may keep or weaken what its evidence says, never strengthen it or add to it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Sequence

from ..sentences import words
from .citations import content_stems
from .names import names, strip_yes_no

# Quantifier scale: a claim may use a word of the evidence's rank or lower, never a higher one.
_SCOPE = {**dict.fromkeys("all every each entire whole always none nobody everyone everybody everything "
                          "universally".split(), 4),
          **dict.fromkeys("most majority mostly largely generally usually".split(), 3),
          **dict.fromkeys("many numerous much widely often frequently".split(), 2),
          **dict.fromkeys("several some few various certain sometimes occasionally".split(), 1)}
# How often or how nearly: frequency and approximation adverbs (scope over time or degree).
_HOW_OFTEN = frozenset("often usually sometimes occasionally frequently generally typically mostly largely partly "
                       "nearly almost mainly primarily commonly normally rarely seldom".split())
# Any approximation in the claim keeps the evidence's ("roughly 600 years" for "nearly 600 years"): the judge's to weigh.
_ROUGHLY = frozenset("roughly about around approximately some circa almost nearly".split())
# Bare plural after these is generic ("Experts suspect"): dropping the quantifier widens the scope.
_DROPPABLE = frozenset("many most some several few numerous".split())
# Modality: the evidence says something may, will or is planned to happen; the claim must keep that.
_MODAL = frozenset("may might could would will shall should can cannot must expected expects expect plans plan planned "
                   "planning intends intend intended aims aim aimed considering considered consider proposed "
                   "propose proposes possible possibly potential potentially likely unlikely hopes hope hoped "
                   "seeks seek sought wants want wanted trying try tried attempt attempting".split())
# Irregular pasts of English verbs, so "met" is the verb of "is expected to meet".
_PAST = {"met": "meet", "won": "win", "lost": "lose", "held": "hold", "made": "make", "took": "take",
         "gave": "give", "went": "go", "came": "come", "left": "leave", "sent": "send", "began": "begin",
         "bought": "buy", "sold": "sell", "told": "tell", "said": "say", "paid": "pay", "led": "lead", "ran": "run",
         "saw": "see", "found": "find", "kept": "keep", "struck": "strike", "fell": "fall", "rose": "rise",
         "spent": "spend", "brought": "bring", "chose": "choose", "wrote": "write", "spoke": "speak",
         "became": "become", "grew": "grow", "drew": "draw", "threw": "throw", "built": "build", "sought": "seek",
         "fought": "fight", "caught": "catch", "taught": "teach", "thought": "think", "meant": "mean",
         "stood": "stand", "broke": "break", "chosen": "choose", "written": "write", "taken": "take",
         "given": "give", "begun": "begin", "done": "do", "did": "do", "had": "have", "was": "be", "were": "be"}
_FUTURE = frozenset("will shall".split())
_AUX = frozenset("be been being have has had to not also still now soon".split())
# Exclusivity and superlatives: a claim may not add one its evidence lacks.
_EXCLUSIVE = frozenset("only sole solely exclusively alone unique uniquely never always entirely completely "
                       "totally".split())
_NOT_SUPERLATIVE = frozenset("interest suggest request protest arrest harvest forest honest modest invest contest "
                             "digest manifest conquest guest quest rest test west nest chest pest vest zest "
                             "priest earnest behest midwest northwest southwest inquest bequest attest detest "
                             "infest ingest divest wrest lest".split())
_CAUSAL = re.compile(r"\b(because|due to|as a result|resulting in|resulted in|result of|in order to|so that|"
                     r"therefore|thus|hence|consequently|led to|leads to|leading to|caused|causes|causing|"
                     r"owing to|thanks to|in response to|prompted|prompting|the reason|reason why|in retaliation)\b",
                     re.I)
_PASSIVE_BY = re.compile(r"\b(?:was|were|is|are|be|been|being)\s+(?:\w+\s+){0,2}?\w+(?:ed|en|n|t)\s+by\b", re.I)
_REPORTING = re.compile(r"\b(said|says|say|told|tells|reported|reports|according|argued|argues|wrote|writes|"
                        r"announced|claimed|believes|believe|suspect|suspects)\b", re.I)


def _toks(text: str) -> list[str]:
    return [w.lower() for w in words(text)]


def _superlatives(toks: Sequence[str]) -> set[str]:
    out = set()
    for i, w in enumerate(toks):
        if w in ("most", "least") and i + 1 < len(toks) and toks[i + 1] not in _SCOPE and len(toks[i + 1]) > 3 \
                and i and toks[i - 1] in _BEFORE_SUPERLATIVE:
            out.add(f"{w} {toks[i + 1]}")  # "the most likely", "is least expensive"; "most filming" is a quantity
        elif w in ("best", "worst", "largest", "biggest", "smallest", "highest", "lowest", "greatest", "latest",
                   "earliest", "oldest", "newest", "youngest", "longest", "shortest", "fastest"):
            out.add(w)
        elif len(w) > 5 and w.endswith("est") and w not in _NOT_SUPERLATIVE:
            out.add(w)
    return out


_BEFORE_SUPERLATIVE = frozenset("the its his her their our is are was were be been to".split())


def check_scope(claim: str, evidence: str) -> str:
    """A quantifier stronger than the evidence's ("most" for "many"), or one dropped so that a bare plural
    speaks for a whole group ("Experts suspect" for "Many Western experts suspect")."""
    body = re.sub(r"\beach\b(?=\s*[,.;:]|\s*$)", " ", strip_yes_no(claim)[1])  # "20 days each" distributes
    c, e = _toks(body), _toks(evidence)
    e_rank = max((_SCOPE[w] for w in e if w in _SCOPE), default=0)
    for w in c:
        if w in _SCOPE and w not in e and _SCOPE[w] > e_rank:
            return f"the claim says '{w}' where the evidence's scope is narrower"
    c_set = set(c)
    # "often easier" -> "easier", "nearly every way" -> "every way": a hedge of how often or how nearly, dropped
    # before words the claim keeps, makes it always or wholly so. Any word of the class in the claim is left to the judge.
    if not (c_set & (_HOW_OFTEN | _ROUGHLY)):
        pairs = set(zip(c, c[1:]))
        for i, w in enumerate(e[:-2]):
            # the two words after it, kept side by side in the claim: the same phrase, not a word met elsewhere
            if w in _HOW_OFTEN and len(e[i + 1]) > 2 and (e[i + 1], e[i + 2]) in pairs:
                return f"the claim drops '{w}' before '{e[i + 1]} {e[i + 2]}'"
    for i, w in enumerate(e):
        if w in _DROPPABLE and w not in c_set and not (c_set & _DROPPABLE):
            # the noun it quantifies: the next word, or the one after an adjective ("many Western experts")
            for noun in e[i + 1:i + 3]:
                if noun in c_set and noun.endswith("s") and len(noun) > 3:
                    return f"the claim drops '{w}' before '{noun}': it speaks for all of them"
    return ""


def check_modality(claim: str, evidence: str) -> str:
    """A possibility, plan or expectation stated as done, or a future made certain ("met" for "is expected
    to meet", "will" for "may"), or a past made present ("is likely" for "was likely")."""
    c_list = _toks(strip_yes_no(claim)[1])
    # "May 16" is a date, not a modal: a capitalised May inside a sentence is the month.
    e_list = [w.lower() if not (w == "May" and i) else "may_month" for i, w in enumerate(words(evidence))]
    c, e = set(c_list), set(e_list)
    e_modal = e & _MODAL
    if e_modal and not (c & _MODAL):
        # Only a modal that governs what the claim states counts: one of the next few words of the evidence
        # (its verb) is in the claim. A modal in another clause of a long sentence is not the claim's.
        c_stems = {_PAST.get(w, w)[:5] for w in c_list if len(w) > 2}
        for i, w in enumerate(e_list):
            if w not in _MODAL:
                continue
            verb = _governed_verb(e_list[i + 1:i + 5])
            if len(verb) > 2 and _PAST.get(verb, verb)[:5] in c_stems:
                return f"the evidence says it {w} {verb}; the claim states it as done or certain"
    added = (c & _FUTURE) - e
    if added and not (e & _FUTURE) and e_modal:
        return f"the claim makes it certain ('{sorted(added)[0]}') where the evidence does not"
    return _tense_moved(c_list, _toks(evidence))


# Forms of "be" by tense, the auxiliary English marks tense on: "was likely to" -> "is likely to" says it still
# holds, "was visiting" -> "will be visiting" that it is still to come.
_BE_TENSE = {"was": "past", "were": "past", "is": "present", "are": "present", "am": "present"}
_BETWEEN_AUX = frozenset("not still also now reportedly already currently again allegedly apparently the a an".split())


def _be_tenses(toks: Sequence[str]) -> dict[str, set[str]]:
    """For each word that follows a form of "be" (adverbs like "still", "reportedly" and articles skipped), by
    its first five letters, the tenses that "be" is in: {"likel": {"past"}} for "were likely to"."""
    out: dict[str, set[str]] = {}
    for i, w in enumerate(toks):
        tense = _BE_TENSE.get(w)
        if tense is None and w == "be" and i and toks[i - 1] in _FUTURE:
            tense = "future"
        if tense is None:
            continue
        nxt = next((x for x in toks[i + 1:i + 4] if x not in _BETWEEN_AUX), "")
        if len(nxt) > 2 and nxt not in _BE_TENSE and nxt != "be":
            out.setdefault(nxt[:5], set()).add(tense)
    return out


def _tense_moved(claim: Sequence[str], evidence: Sequence[str]) -> str:
    """The claim puts in the present or future what its evidence puts only in the past, on the same words
    ("Russia is the weaker partner" for "Russia was the weaker partner"). Present to past is left to the
    judge: news reports what is in the past tense often enough."""
    e = _be_tenses(evidence)
    for word, tenses in _be_tenses(claim).items():
        had = e.get(word)
        if had and had == {"past"} and tenses & {"present", "future"}:
            tense = "in the present" if "present" in tenses else "in the future"
            return f"the evidence says it in the past (was/were {word}…); the claim says it {tense}"
    return ""


_DETERMINERS = frozenset("a an the its their his her some no any this that these those".split())


def _governed_verb(after: Sequence[str]) -> str:
    """The verb a modal governs among the words after it: past "to", "be", "have" ("would have met" -> met),
    unless what follows them is a noun phrase ("would have a computer" -> have)."""
    prev = ""
    for x in after:
        if x in _MODAL:
            continue
        if x in _AUX:
            prev = x
            continue
        return prev if x in _DETERMINERS and prev in ("have", "has", "had", "be") else x
    return ""


def check_exclusive(claim: str, evidence: str) -> str:
    """An exclusivity word or superlative the evidence does not have ("the only method" for "the most
    likely method", "the first" for "one of the first")."""
    c, e = _toks(strip_yes_no(claim)[1]), _toks(evidence)
    e_set = set(e)
    for w in c:
        if w in _EXCLUSIVE and w not in e_set:
            return f"the claim says '{w}'; the evidence does not"
    # A superlative where the evidence has none ("the largest" for "a major"); one superlative for another
    # ("tallest" for "highest") is the judge's to weigh.
    if _superlatives(c) and not _superlatives(e):
        return f"the claim says '{sorted(_superlatives(c))[0]}'; the evidence has no superlative"
    c_text, e_text = " ".join(c), " ".join(e)
    if re.search(r"\b(the|its|his|her|their) (first|last)\b", c_text) and not re.search(r"\b(first|last)\b", e_text):
        return "the claim says 'the first' or 'the last'; the evidence does not"
    # "among the oldest", "one of the first": the claim may not drop the group and make it the one.
    for m in re.finditer(r"\b(?:one of|among) the (\w+)", e_text):
        top = m.group(1)
        if (top in ("first", "last") or top in _superlatives([top])) \
                and re.search(rf"\bthe {top}\b", c_text) and not re.search(rf"\b(?:one of|among) the {top}\b", c_text):
            return f"the claim says 'the {top}' where the evidence says '{m.group(0)}'"
    return ""


def check_cause(claim: str, evidence: str) -> str:
    """A causal link (because, in order to, as a result, led to ...) the evidence does not state."""
    c = {m.group(1).lower() for m in _CAUSAL.finditer(strip_yes_no(claim)[1])}
    if not c:
        return ""
    e = {m.group(1).lower() for m in _CAUSAL.finditer(evidence)}
    if re.search(r"(?:^|[.;]\s+)To [a-z]+\b[^.;]{0,80},", evidence):  # "To sustain these forces, the ribs ...": a purpose
        e.add("in order to")
    # "since", "so" and an "as" clause can state a cause too: leave those to the judge.
    loose = re.search(r"\b(since|so|as (?:they|it|he|she|this|these|those|the|a))\b", evidence, re.I)
    return "" if e or loose else f"the claim gives a cause ('{sorted(c)[0]}'); the evidence does not"


# Connectives that state how two things relate in time or cause, or that one holds in spite of the other.
# Contrast ("while", "but") is left out: it joins two facts without saying one depends on the other.
_RELATION = re.compile(r"\b(because|due to|as a result|after|before|following|amid|despite|although|though|"
                       r"in response to|led to|leading to|prompted|prompting|thanks to|ahead of|so that|in order to|"
                       r"resulting in|in retaliation)\b", re.I)


def check_conflation(claim: str, evidence: Sequence[str], published: Sequence[date] = ()) -> str:
    """A claim citing two or more sentences that joins what one says to what another says with a relation
    (after, because, despite, amid ...) that neither of those two sentences states: each may be true and the
    relation between them still made up ("X met Y after the talks collapsed" from "X met Y." and "The talks
    collapsed.").

    `published`, one date per evidence sentence: "A after B" from briefings of two dates in that order is what
    their dates say (a timeline's "what changed": "agreed to a pause on 2025-04-02 after talks opened on
    2025-04-01")."""
    if len(evidence) < 2:
        return ""
    body = _without_reporter(strip_yes_no(claim)[1])  # "..., Reuters reported" is the whole claim's, not a side's
    stems = [content_stems(_without_reporter(e)) for e in evidence]
    for m in _RELATION.finditer(body):
        left, right = content_stems(body[:m.start()]), content_stems(body[m.end():])
        if not left or not right:
            continue
        a = max(range(len(stems)), key=lambda i: len(left & stems[i]))
        b = max(range(len(stems)), key=lambda i: len(right & stems[i]))
        # Each side must come from its own sentence: more of it there than in the other side's sentence.
        if a == b or len(left & stems[a]) <= len(left & stems[b]) or len(right & stems[b]) <= len(right & stems[a]):
            continue
        word = m.group(1).lower()
        if len(published) == len(evidence) and _dates_order(word, published[a], published[b]):
            continue
        if not any(re.search(rf"\b{re.escape(word)}\b", evidence[i], re.I) for i in (a, b)):
            return (f"the claim joins two cited sentences with '{word}'; neither of them says how the two "
                    "are related")
    return ""


def _dates_order(word: str, first: date, second: date) -> bool:
    """Do the dates of the sentence before the connective and the one after it say `word`?"""
    if word in ("after", "following"):
        return first > second
    return word in ("before", "ahead of") and first < second


def _without_reporter(text: str) -> str:
    """The text less who reports it ("..., Reuters reported", "according to X")."""
    text = re.sub(r",?\s*(?:according to|as reported by)\s+[^,.;]+", " ", text, flags=re.I)
    return re.sub(r",\s*[^,.;]{0,60}\b(?:said|reported|told|wrote|argued|added)\b[^,.;]*[.;]?\s*$", " ", text)


def _actors(text: str) -> list[str]:
    """Names in order of mention, leaving out who reports it ("..., Reuters reported", "according to X")."""
    text = _without_reporter(text)
    seen: list[str] = []
    for n in names(text):
        n = n.split()[-1].lower()
        if n not in seen:
            seen.append(n)
    return seen


def check_roles(claim: str, evidence: str) -> str:
    """Two names the claim shares with its evidence in the opposite order, where the claim is not passive
    ("Witkoff is expected to meet Dmitriev's envoy" for "Dmitriev is expected to meet Witkoff"): who does
    what to whom is swapped."""
    body = strip_yes_no(claim)[1]
    if _PASSIVE_BY.search(body) or _REPORTING.search(body.split(",")[0]):
        return ""
    c, e = _actors(body), _actors(evidence)
    shared = [n for n in c if n in e]
    if len(shared) < 2:
        return ""
    a, b = shared[0], shared[1]
    if e.index(a) < e.index(b) or _PASSIVE_BY.search(evidence):
        return ""
    # Swapped only when the same action stands between them in both: "A meets B" against "B meets A"
    # (place names in another order around different words are not a swap).
    between_c = _between(body, a, b)
    between_e = _between(evidence, b, a)
    if between_c and between_e and between_c & between_e:
        return f"the claim puts '{a}' before '{b}' around '{sorted(between_c & between_e)[0]}'; the evidence has them the other way round"
    return ""


def _between(text: str, first: str, second: str) -> set[str]:
    low = [w.lower() for w in words(text)]
    try:
        i = next(k for k, w in enumerate(low) if w.startswith(first))
        j = next(k for k, w in enumerate(low) if w.startswith(second) and k > i)
    except StopIteration:
        return set()
    return {w[:5] for w in low[i + 1:j] if len(w) > 3 and w not in _AUX and w not in ("with", "that", "this")}


_CASED = re.compile(r"[^\W\d_][\w'\u2019-]*")
_LINKS = frozenset("has have had will would may might can could did does do also still reportedly allegedly then "
                   "later first once".split())
# After "is" comes what the name is, not what it does ("Scott is a Republican senator" for "The South Carolina
# senator will join ..."): no action to compare.
_BE = frozenset("is are was were be been being".split())


def check_subject(claim: str, evidence: str) -> str:
    """A name the evidence does not have, made the doer of an action the evidence gives to another name: "Ron
    DeSantis announced his 2024 presidential bid" cited to "... after Trump announced his 2024 presidential bid"
    (the names guard lets a name come from the briefing's other sentences; it may not take another's place). Only the
    name the claim opens with, doing something (not what it is: "Scott is a senator"), is compared."""
    body = strip_yes_no(claim)[1]
    opening = _CASED.findall(body)[:1]
    # Only the name the claim opens with is surely the one doing something.
    name = next((n for n in _full_names(body) if n.split()[0] in opening), "")
    parts = {p.lower() for p in name.split()}
    if not name or parts & {w.lower() for w in _CASED.findall(evidence)}:
        return ""  # no such name, or it is there: whose action it is, is check_roles' question
    verb = _word_after(body, name)
    doer = _name_before(evidence, verb, {w for n in names(evidence) for w in n.split()}) if verb else ""
    if doer and doer.lower() not in parts:
        return f"the claim says '{name}' {verb}; the evidence says '{doer}' did"
    return ""


def _full_names(text: str) -> list[str]:
    """The claim's names with the name-like words next to them ("Kirill Dmitriev", "Ron deSantis"), so a first
    name is not taken for a name the evidence lacks when the surname is there."""
    found, tokens = set(names(text)), _CASED.findall(text)
    out, run = [], []
    for t in tokens + [""]:
        if t and (t in found or (run and any(c.isupper() for c in t))):
            run.append(t)
            continue
        if run:
            out.append(" ".join(run))
        run = []
    return out


def _word_after(text: str, name: str) -> str:
    """The first lower-case word after `name` that is not a link word: the action the claim gives the name."""
    tokens = _CASED.findall(text)
    last = name.split()[-1]
    for i, t in enumerate(tokens):
        if t == last:
            for w in tokens[i + 1:i + 4]:
                if w.lower() in _BE:
                    return ""
                if w.lower() in _LINKS or any(c.isupper() for c in w):
                    continue  # "has", "reportedly", the rest of the name ("deSantis")
                return w if w.islower() and len(w) > 3 and content_stems(w) else ""  # not "from", "with"
            return ""
    return ""


def _name_before(evidence: str, verb: str, theirs: set[str]) -> str:
    """The name right before a form of `verb` in the evidence (link words between allowed), if one is."""
    tokens = _CASED.findall(evidence)
    stem = verb.lower()[:5]
    for j, t in enumerate(tokens):
        if not t.lower().startswith(stem):
            continue
        for w in reversed(tokens[max(0, j - 3):j]):
            if w.lower() in _LINKS:
                continue
            if w in theirs:
                return w
            break
    return ""
