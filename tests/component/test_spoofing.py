"""Articles that claim to be someone else (issue 28, item 11): JSON/JSONL records choosing another
origin's id, pages naming themselves after a famous outlet, and a near-copy backdated to take the
original's place among duplicates."""

from __future__ import annotations

import json

from assistant.assistant import Assistant
from assistant.ingest.web import extract_article

from ..support.wire import COPIES, WIRE


def _jsonl(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_a_record_cannot_take_over_an_id_from_another_origin(fake_assistant, tmp_path):
    a = fake_assistant
    cron = tmp_path / "cron"
    _jsonl(cron / "wire.jsonl", [{"id": "wire-1", "source": "Wire", "body": "The port of Kestrel reopened on Tuesday."}])
    (cron / "notes.txt").write_text("Dock workers expect a hundred ships this month, officials said.")
    a.ingest([cron])
    file_id = next(i for i, r in a.store.article_records().items() if r.origin.endswith("notes.txt"))
    # The same folder's records still update each other: a wire drop replacing yesterday's story.
    _jsonl(cron / "wire-2.jsonl", [{"id": "wire-1", "source": "Wire", "body": "The port of Kestrel reopened on Monday."}])
    assert a.ingest([cron / "wire-2.jsonl"]).updated == ["wire-1"]

    upload = tmp_path / "uploads" / "evil.jsonl"
    _jsonl(upload, [{"id": "wire-1", "source": "Wire", "body": "The port of Kestrel was closed for good."},
                    {"id": file_id, "body": "Dock workers were all sent home, officials said."}])
    report = a.ingest([upload])
    assert report.updated == [] and len(report.added) == 2
    assert a.article("wire-1").body == "The port of Kestrel reopened on Monday."
    assert a.article(file_id).body == "Dock workers expect a hundred ships this month, officials said."
    assert all(i.startswith(("wire-1@", "r-a-")) for i in report.added), report.added
    assert a.ingest([upload]).unchanged == report.added  # the qualified ids are stable


def test_a_page_naming_itself_after_an_outlet_shows_the_host_beside_the_name():
    html = ("<html><head><meta property='og:site_name' content='Reuters'><title>Envoy visits</title></head><body>"
            "<article><h1>Envoy visits</h1><p>" + "The Russian envoy arrived in Washington on Thursday. " * 8 +
            "</p></article></body></html>")
    assert extract_article(html, "https://news.evil.example/a", origin="x").source == "Reuters (news.evil.example)"
    assert extract_article(html, "https://www.reuters.com/world/a", origin="x").source == "Reuters"


def test_a_backdated_near_copy_does_not_displace_the_original(fake_assistant, tmp_path):
    a = fake_assistant
    original = dict(COPIES[0], id="original", published_at="2025-04-02T09:00:00Z")
    _jsonl(tmp_path / "first" / "wire.jsonl", [original])
    a.ingest([tmp_path / "first"])
    # A day later someone ingests an edited copy that claims to be a month older.
    copy = dict(original, id="copy", source="Planted Wire", published_at="2025-03-01T09:00:00Z",
                body=WIRE.replace("energy", "energy and ports", 1) + " Readers should trust only this version.")
    _jsonl(tmp_path / "later" / "wire.jsonl", [copy])
    a.ingest([tmp_path / "later"])
    records = a.store.article_records()
    assert records["copy"].dup_group == records["original"].dup_group == "original"
    canonical = Assistant(a.settings.model_copy(update={"collapse": "canonical"}), a.store, a.embedder)
    hits = canonical.search("What did Ukraine and Russia agree about energy strikes?", k=5)
    assert [p.article_id for p in hits if p.article_id in ("original", "copy")] == ["original"]
