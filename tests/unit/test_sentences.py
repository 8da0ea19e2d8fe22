"""News-grade sentence splitting (issue 15): abbreviations and initials in news copy never end a
sentence; a sentence that really ends with "U.S." or "a.m." still does when a new one follows.

Measured on CLAPnq dev against its human sentence segmentation (boundary precision / recall, the
passages' Natural Questions tokenisation included): old splitter 0.9884 / 0.8565 (50 false
boundaries), this one 0.9937 / 0.8575 (27; the rest are tokenisation artefacts such as "Misc . Misc").
The seed briefing splits exactly as before (21 sentences).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.ingest.chunk import chunk_article
from assistant.sentences import sentence_spans
from assistant.types import Article

from ..conftest import SEED

CLAPNQ = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "clapnq_dev" / "articles.jsonl"


def split(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


# Wire-style paragraphs (written for this test in AP style; the test machines have no web access),
# each with the sentences it must split into.
NEWS = [
    ("Sen. Elizabeth Warren, D-Mass., and Rep. Jim Jordan, R-Ohio, met Gov. Kathy Hochul on Nov. 28 in Albany. "
     "The meeting lasted two hours.",
     2),
    ("Lt. Col. Maria Ortiz told reporters at 9 a.m. Tuesday that Sgt. James O'Neil had been found. "
     "Gen. Mark Milley declined to comment.",
     2),
    ("The U.S. and U.K. governments said Sept. 4 that Acme Inc. and Baker & Co. would pay $2 million. "
     "Prof. Ann Lee of St. Louis University called it \"a start.\" Shares rose 3%.",
     3),
    ("President John F. Kennedy was shot on Nov. 22, 1963, in Dallas. Martin Luther King Jr. was killed in 1968. "
     "The Lakers are No. 1 in the West after a 112-104 win at 10:30 p.m. Eastern.",
     3),
    ("Sales at Widget Co. rose 4% in Aug. and Oct., the company said Feb. 3 in a filing. "
     "Analysts had expected less.",
     2),
    # The hard case: a sentence that really ends with "U.S." or "p.m."
    ("The envoy held talks with the U.S. The Kremlin did not comment on the meeting.", 2),
    ("Polls close at 8 p.m. The first results are expected by midnight.", 2),
    ("Officials in the U.S. Army and U.S. President Joe Biden's office declined to comment.", 1),
]


@pytest.mark.parametrize("text,n", NEWS)
def test_news_abbreviations_do_not_end_sentences(text, n):
    got = split(text)
    assert len(got) == n, got
    assert all(re.search(r"[.!?\"\u201d]$", s) for s in got), got  # every piece is a whole sentence


def test_the_hard_cases_split_where_the_new_sentence_starts():
    assert split(NEWS[5][0]) == ["The envoy held talks with the U.S.", "The Kremlin did not comment on the meeting."]
    assert split(NEWS[6][0])[0] == "Polls close at 8 p.m."


# Real paragraphs from CLAPnq dev (Wikipedia via Natural Questions, CC BY-SA; Rosenthal et al., TACL 2025).
CLAPNQ_PARAGRAPHS = [
    ("On 25 July 1861 , he was relieved of army command and replaced by Maj. Gen. George B. McClellan , who would "
     "soon be named general - in - chief of all the Union armies . McDowell was also present to bear significant "
     "blame for the defeat of Maj. Gen. John Pope 's Army", 2),
    ("Each band played a musical selection , and Rev. Henry A. Brown provided the invocation . The crowd sang "
     "Nearer , My God , to Thee and then Mrs. Capron unveiled the memorial as the bands played The Star Spangled "
     "Banner . President Roosevelt spoke at length about patriotism and duty , and then the Rev. Dr. Stafford "
     "provided an oration on virtue .", 3),
    ("In 1903 the firm built fifteen `` tractors '' , the first successful production - model tractor line in the "
     "U.S. The 14,000 pound No. 3 is the oldest surviving internal combustion engine tractor in the United States",
     2),
]


@pytest.mark.parametrize("text,n", CLAPNQ_PARAGRAPHS)
def test_real_clapnq_paragraphs(text, n):
    assert len(split(text)) == n, split(text)


@pytest.mark.skipif(not CLAPNQ.exists(), reason="CLAPnq dev is not on this machine")
def test_clapnq_boundary_precision_does_not_fall():
    """Against CLAPnq's own sentence segmentation: the old splitter made 50 false boundaries."""
    tp = fp = 0
    for line in CLAPNQ.read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        body, starts, pos = a["body"], set(), 0
        for s in a["sentences"]:
            i = body.find(s.strip()[:30], pos)
            if i < 0:
                break
            starts.add(i)
            pos = i + 1
        else:
            pred = {s for s, _ in sentence_spans(body)}
            tp, fp = tp + len(pred & starts), fp + len(pred - starts)
    assert tp > 4000 and fp <= 30, (tp, fp)


def test_seed_briefing_splits_as_before():
    assert len(split(SEED.read_text(encoding="utf-8"))) == 21


def test_chunks_never_cut_inside_a_title_or_date():
    body = " ".join(t for t, _ in NEWS[:5]) * 3
    art = Article(id="a-x", title="t", body=body, content_hash="h")
    for c in chunk_article(art, 200, 0):
        assert not re.search(r"\b(Sen|Rep|Gov|Lt|Col|Sgt|Gen|Prof|St|Nov|Sept|Aug|Oct|Feb|Inc|Co|Jr|No)\.$", c.text), c.text
        assert not re.search(r"\b[A-Z]\.$", c.text) or c.text.endswith("U.S."), c.text
