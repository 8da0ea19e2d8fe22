"""A timeline over three dated briefings with every real part (MiniLM, Chroma, the bundled local model).

Asserts order, dates and verified citations, never wording. One model call per date plus one for
"what changed": about a minute on 2 shared cores.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration

DAYS = {
    "2025-04-01": ("Energy truce talks open in Riyadh",
                   "Delegations from Ukraine and Russia met in Riyadh on Tuesday to discuss a truce on strikes against "
                   "energy facilities. The talks ended without an agreement on the first day. Both sides said they "
                   "would meet again on Wednesday."),
    "2025-04-02": ("Energy truce agreed",
                   "Ukraine and Russia agreed on Wednesday to a 30-day truce on strikes against energy facilities. The "
                   "energy truce began at midnight and covers power plants and substations."),
    "2025-04-03": ("Energy truce collapses",
                   "The energy truce between Ukraine and Russia collapsed on Thursday after a drone hit a substation "
                   "near Kherson. Both sides blamed each other for breaking the energy truce."),
}


@pytest.fixture
def story(real_assistant, tmp_path):
    folder = tmp_path / "story"
    folder.mkdir()
    for day, (title, body) in DAYS.items():
        (folder / f"{day}-truce.md").write_text(f"---\ntitle: {title}\ndate: {day}\nsource: Wire\n---\n{body}\n",
                                               encoding="utf-8")
    assert real_assistant.ingest([folder]).ok
    return real_assistant


def test_timeline_over_three_days_is_ordered_dated_and_cited(story):
    started = time.perf_counter()
    entries = story.timeline("What happened with the energy truce between Ukraine and Russia?")
    elapsed = time.perf_counter() - started
    dated = [e for e in entries if e.kind == "date"]
    print(f"\ntimeline: {len(dated)} dates + {len(entries) - len(dated)} comparison in {elapsed:.1f} s; "
          + ", ".join(f"{e.kind} {e.as_of} {e.latency_s:.1f}s" for e in entries))
    for e in entries:
        print(f"  {e.kind} {e.as_of}: {e.text}")
    assert len(dated) >= 2, [(e.as_of, e.text) for e in entries]
    assert entries[: len(dated)] == dated  # dated entries first, the comparison (if any) last
    days = [e.as_of for e in dated]
    assert days == sorted(days) and len(set(days)) == len(days) and set(days) <= set(DAYS)
    for entry in entries:
        assert entry.answerable and entry.citations
        by_chunk = {p.chunk_id: p for p in entry.passages}
        for c in entry.citations:
            body = story.article(c.article_id).body
            assert body[c.start:c.end] == c.quote  # verbatim at its offsets
            day = by_chunk[c.chunk_id].published_at.date().isoformat()
            if entry.kind == "date":
                assert day == entry.as_of and c.quote in DAYS[day][1]
            else:
                assert day in days
    if len(entries) > len(dated):
        assert entries[-1].kind == "changes" and entries[-1].as_of in days
