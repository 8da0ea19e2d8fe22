"""Claims verified without the judge: a deletion-only compression of one cited sentence.

A small model answers extractively ("Dmitriev is expected to meet Witkoff on Wednesday, CBS News and
Reuters reported" from a longer sentence). Such a claim keeps the sentence's words in their order and
adds none, so what it says the sentence says, provided the deletion removed nothing that carries meaning
on its own: a negation, a hedge or attribution, a quantifier, a modal, a number or date, an exclusivity or
causal word, or a name between two kept words (which would hand one person's words or deeds to another).
Those are checked here; the guards have run before, and anything else goes to the judge.
"""

from __future__ import annotations

import re
from typing import Sequence

from .names import strip_yes_no

_TOKEN = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['\u2019][A-Za-z]+)?|\d+(?:[.,]\d+)*%?")
# Words whose deletion changes what a sentence says (closed classes, not words of any one text).
_KEEP = frozenset(
    "not no never none nor neither without cannot nothing nobody n't "
    "may might could would will shall should can must expected expects reportedly reported reports report "
    "allegedly alleged said says say told according suspect suspects suspected believe believes believed "
    "argued argues claim claims claimed likely unlikely possibly perhaps probably apparently seemingly "
    "estimated about around nearly almost approximately roughly some many most all every each several few "
    "only first last largest biggest least more less fewer because since so if unless until although though "
    "despite but yet however whether plans planned proposed considering".split())
_MONTHS = frozenset("january february march april may june july august september october november december "
                    "monday tuesday wednesday thursday friday saturday sunday".split())
MAX_RUNS = 3  # a claim made of more pieces of the sentence is a rewrite, not a compression


def _tokens(text: str) -> list[str]:
    return [t.lower().replace("\u2019", "'") for t in _TOKEN.findall(text)]


def deletion_only(claim: str, evidence: str) -> bool:
    """True when `claim` is `evidence` with words deleted and none added or reordered, in at most MAX_RUNS
    pieces, and no deleted word carries meaning on its own (_KEEP, numbers, dates, names between kept words)."""
    body = strip_yes_no(claim)[1]
    if body != claim:
        return False  # a "Yes,"/"No," answers a question the sentence does not see
    c, e = _tokens(body), _tokens(evidence)
    original = _TOKEN.findall(evidence)
    if len(c) < 4 or not e:
        return False
    kept: list[int] = []
    j = 0
    for t in c:
        while j < len(e) and e[j] != t:
            j += 1
        if j == len(e):
            return False  # a word added, or moved
        kept.append(j)
        j += 1
    runs = 1 + sum(1 for a, b in zip(kept, kept[1:]) if b != a + 1)
    if runs > MAX_RUNS:
        return False
    kept_set = set(kept)
    first, last = kept[0], kept[-1]
    for i, t in enumerate(e):
        if i in kept_set:
            continue
        if t in _KEEP or t in _MONTHS or t.endswith("n't") or any(ch.isdigit() for ch in t):
            return False
        # A name dropped from between kept words changes who does or says what ("Dmitriev's trip comes after
        # China's foreign minister said" -> "Dmitriev said").
        if first < i < last and original[i][:1].isupper():
            return False
    return True


def verified_by_deletion(claim: str, evidence: Sequence[str]) -> bool:
    """True when the claim is a deletion-only compression of one of its cited sentences."""
    return any(deletion_only(claim, e) for e in evidence)
