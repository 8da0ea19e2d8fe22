"""Numbers, quantities and dates in a claim and its evidence: the numbers guard.

"three" and 3, "5%" and "5 percent", "2 million" and 2,000,000, "March 3" and 2025-03-03 are the same
value here; a claim may only state a number or date its cited evidence (or the cited briefing's own
date) states. `guards.run_guards` runs `check_numbers` first, before the other guards.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Sequence

from ..sentences import words

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
           "trillion": 1_000_000_000_000, "k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}
_ORDINALS = {w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())}
_WORDNUM = {"dozen": 12, "a dozen": 12, "half": 0.5, "once": 1, "twice": 2, "thrice": 3,
            "single": 1, "both": 2, "pair": 2, "couple": 2}
_MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())

_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(%|percent|per cent))?"
                  r"(?:[\s-]*(hundred|thousand|million|billion|trillion|bn|k|m)\b)?", re.I)
_ORD_DIGITS = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _parse_number(digits: str, pct: str | None, scale: str | None) -> float:
    value = float(digits.replace(",", ""))
    if scale:
        value *= _SCALES[scale.lower()]
    return value


def numbers(text: str) -> set[str]:
    """Normalised quantities in the text: "3", "2000000", "5%" -> "5", "three" -> "3", "third" -> "ord3"."""
    out: set[str] = set()
    for m in _NUM.finditer(text):
        value = _parse_number(m.group(1), m.group(2), m.group(3))
        out.add(_fmt(value))
    for m in _ORD_DIGITS.finditer(text):
        out.add(f"ord{int(m.group(1))}")
    toks = words(text.replace("-", " "))
    i = 0
    while i < len(toks):
        t = toks[i]
        value: float | None = None
        if t in _UNITS or t in _TENS:
            value = _TENS.get(t, _UNITS.get(t))
            if t in _TENS and i + 1 < len(toks) and toks[i + 1] in _UNITS and toks[i + 1] != "zero":
                value += _UNITS[toks[i + 1]]
                i += 1
            if i + 1 < len(toks) and toks[i + 1] in _SCALES and len(toks[i + 1]) > 2:
                value *= _SCALES[toks[i + 1]]
                i += 1
        elif t in _ORDINALS:
            out.add(f"ord{_ORDINALS[t]}")
        elif t.endswith("s") and t[:-1] in _ORDINALS and t != "seconds":  # "two thirds": a fraction of 3
            out.add(f"ord{_ORDINALS[t[:-1]]}")
        elif t == "quarters" and i > 0 and toks[i - 1] in _UNITS:  # "three quarters" is not "two thirds"
            out.add("ord4")
        elif t in _WORDNUM:
            value = _WORDNUM[t]
        elif t in ("a", "an") and i + 1 < len(toks) and toks[i + 1] in _SCALES and len(toks[i + 1]) > 2:
            value = _SCALES[toks[i + 1]]
            i += 1
        if value is not None:
            out.add(_fmt(value))
        i += 1
    # "one" is as often a pronoun ("one Russian diplomat") as a count: never required on its own.
    return out


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def dates_in(text: str) -> set[tuple[int | None, int, int | None]]:
    """(year or None, month, day or None) for each date written in the text (ISO, "5 August", "Aug. 5")."""
    out: set[tuple[int | None, int, int | None]] = set()
    for m in _ISO_DATE.finditer(text):
        out.add((int(m.group(1)), int(m.group(2)), int(m.group(3))))
    toks = words(text)
    for i, t in enumerate(toks):
        if t not in _MONTHS or (t == "may" and not re.search(r"\bMay\b", text)):
            continue
        day = next((int(x) for x in toks[i + 1:i + 2] + toks[max(0, i - 1):i] if x.isdigit() and int(x) <= 31), None)
        year = next((int(x) for x in toks[i + 1:i + 4] if x.isdigit() and len(x) == 4), None)
        out.add((year, _MONTHS[t], day))
    return out


def check_numbers(claim: str, evidence: str, published: Sequence[date] = ()) -> str:
    """Every number, quantity and date of the claim appears in the evidence (or is a cited briefing's date)."""
    have = numbers(evidence)
    for d in published:
        have |= {str(d.year), str(d.day), str(d.month)}
    ev_dates = dates_in(evidence) | {(d.year, d.month, d.day) for d in published}
    claim_dates = dates_in(claim)
    date_parts: set[str] = set()
    for y, mo, d in claim_dates:
        ok = any((y is None or ey is None or y == ey) and mo == em and (d is None or ed is None or d == ed)
                 for ey, em, ed in ev_dates)
        if not ok:
            return f"date {_show_date(y, mo, d)} is not in the cited evidence"
        date_parts |= {str(x) for x in (y, d) if x is not None}
    have |= {n.removeprefix("ord") for n in have}  # "third" and "# 3" are the same place
    missing = sorted(n for n in numbers(claim) - have - date_parts
                     if n.removeprefix("ord") not in have and (n not in ("1", "ord1") or _explicit_one(claim)))
    return f"number {missing[0]} is not in the cited evidence" if missing else ""


def _explicit_one(claim: str) -> bool:
    return bool(re.search(r"(?<![\w.])1(?![\w.,])", claim))


def _show_date(y: int | None, mo: int, d: int | None) -> str:
    return "-".join(str(x) for x in (y, f"{mo:02d}", f"{d:02d}" if d else None) if x is not None)
