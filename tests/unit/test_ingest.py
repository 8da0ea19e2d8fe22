"""Unit tests for reading and chunking (no Chroma, no model): readers per file type, decoding,
chunk offsets and sentence boundaries, id stability."""

from __future__ import annotations

import hashlib
import json
import os
import random
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.ingest.chunk import chunk_article, chunk_id
from assistant.ingest.files import content_hash, decode, iter_articles, read_file
from assistant.sentences import sentence_spans
from assistant.types import Article, IngestFailure

from ..conftest import SEED

MB = 10**7
SEED_SECTIONS = [
    "The News",
    "SIGNALS \u203a Trump\u2019s patience may be wearing thin",
    "SIGNALS \u203a Russia and China reaffirm ties even as US seeks to split the partnership",
    "SIGNALS \u203a Russia pursues diplomacy while down playing expectations of a deal",
]


def read_one(path: Path) -> Article:
    items = list(read_file(path, MB))
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def articles_and_failures(paths) -> tuple[list[Article], list[IngestFailure]]:
    items = list(iter_articles(list(paths), MB))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, IngestFailure)]


def heading_texts(article: Article) -> list[str]:
    return [article.body[s:e] for s, e, _ in article.headings]


def assert_chunk_invariants(article: Article, size: int, overlap: int) -> None:
    """What every chunking must satisfy; shared by the seed test and the generated texts."""
    chunks = chunk_article(article, size, overlap)
    body = article.body
    assert chunks, "a non-empty article gives at least one chunk"
    spans = sentence_spans(body)
    # A heading line (with any "## " markers) is a sentence span that no chunk holds.
    heading_lines = {(s, e) for s, e in spans for hs, he, _ in article.headings if s <= hs and he <= e}
    for i, c in enumerate(chunks):
        assert c.text == body[c.start:c.end]
        assert c.text and c.text == c.text.strip()
        assert c.index == i and c.article_id == article.id
        for s, e in spans:  # no boundary strictly inside a sentence
            assert not (s < c.start < e), f"chunk {i} starts inside sentence {body[s:e]!r}"
            assert not (s < c.end < e), f"chunk {i} ends inside sentence {body[s:e]!r}"
        inside = [(s, e) for s, e in spans if c.start <= s and e <= c.end]
        if len(c.text) > size:  # only a single sentence longer than the limit may exceed it
            assert len(inside) == 1, f"chunk {i} is {len(c.text)} chars but holds {len(inside)} sentences"
    assert len({c.id for c in chunks}) == len(chunks)
    for s, e in heading_lines:
        assert not any(c.start < e and s < c.end for c in chunks), f"heading {body[s:e]!r} leaked into a chunk"
    if overlap == 0:
        for a, b in zip(chunks, chunks[1:]):
            assert a.end <= b.start, "chunks without overlap are ordered and disjoint"
        # Nothing is lost: every sentence that is not a heading sits in exactly one chunk.
        for s, e in spans:
            if (s, e) in heading_lines:
                continue
            holders = [c for c in chunks if c.start <= s and e <= c.end]
            assert len(holders) == 1, f"sentence {body[s:e]!r} is in {len(holders)} chunks"


# --- the seed briefing --------------------------------------------------------------------


def test_seed_briefing_headings_and_metadata():
    a = read_one(SEED)
    assert a.title == "Russia envoy washington"  # from the file name: the text has no title line
    assert a.origin == str(SEED.resolve())
    assert a.published_at is None
    assert heading_texts(a) == ["The News", "SIGNALS", "Trump\u2019s patience may be wearing thin",
                                "Russia and China reaffirm ties even as US seeks to split the partnership",
                                "Russia pursues diplomacy while down playing expectations of a deal"]
    assert [lvl for _, _, lvl in a.headings] == [1, 1, 2, 2, 2]


def test_seed_briefing_chunks_carry_sections_and_exact_offsets():
    a = read_one(SEED)
    chunks = chunk_article(a, 700, 0)
    assert [c.section for c in chunks] == [SEED_SECTIONS[0], SEED_SECTIONS[0], SEED_SECTIONS[1],
                                           SEED_SECTIONS[2], SEED_SECTIONS[2], SEED_SECTIONS[3]]
    for c in chunks:
        assert a.body[c.start:c.end] == c.text
        for h in heading_texts(a):
            assert not c.text.startswith(h) and not c.text.endswith(h), "headings label chunks, they are not chunk text"
    stalling = [c for c in chunks if "stalling for time" in c.text]
    assert len(stalling) == 1 and stalling[0].section == SEED_SECTIONS[3]
    assert stalling[0].text.endswith("one Russian diplomat told The Moscow Times.")
    assert chunks[0].text.startswith("Russia\u2019s top envoy Kirill Dmitriev")


@pytest.mark.parametrize("size,overlap", [(700, 0), (300, 0), (120, 0), (400, 150)])
def test_seed_briefing_chunks_never_cut_a_sentence(size, overlap):
    assert_chunk_invariants(read_one(SEED), size, overlap)


# --- readers per file type ----------------------------------------------------------------


def test_txt_file_date_from_name_and_crlf(tmp_path):
    p = tmp_path / "2025-04-02-ceasefire-talks.txt"
    p.write_bytes(b"Ceasefire talks stall in Riyadh.\r\nDelegates left early.\r\n")
    a = read_one(p)
    assert a.title == "Ceasefire talks"
    assert a.published_at == datetime(2025, 4, 2, tzinfo=timezone.utc)
    assert a.body == "Ceasefire talks stall in Riyadh.\nDelegates left early."


def test_markdown_front_matter_and_headings(tmp_path):
    p = tmp_path / "brief.md"
    p.write_text(
        "---\ntitle: \"Envoy visits Washington\"\ndate: 2025-04-02\nsource: Semafor\n---\n"
        "# The News\n\nDmitriev is in Washington. He meets Witkoff.\n\n"
        "## Patience wears thin\n\nThe White House is frustrated. Pressure may rise.\n",
        encoding="utf-8")
    a = read_one(p)
    assert (a.title, a.source) == ("Envoy visits Washington", "Semafor")
    assert a.published_at == datetime(2025, 4, 2, tzinfo=timezone.utc)
    assert "---" not in a.body and "title:" not in a.body
    assert heading_texts(a) == ["The News", "Patience wears thin"]
    chunks = chunk_article(a, 700, 0)
    assert [(c.text, c.section) for c in chunks] == [
        ("Dmitriev is in Washington. He meets Witkoff.", "The News"),
        ("The White House is frustrated. Pressure may rise.", "The News \u203a Patience wears thin"),
    ]
    assert all("#" not in c.text for c in chunks)


def test_markdown_title_from_first_heading_without_front_matter(tmp_path):
    p = tmp_path / "notes.md"
    p.write_text("# Sanctions on LNG projects\n\nA German expert argued for new sanctions on LNG.\n", encoding="utf-8")
    a = read_one(p)
    assert a.title == "Sanctions on LNG projects"
    assert a.published_at is None


def test_html_drops_scripts_styles_and_chrome_and_reads_meta(tmp_path):
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>Fallback title</title>"
        "<meta property='og:title' content='Envoy visits Washington'>"
        "<meta property='article:published_time' content='2025-04-02T10:30:00+02:00'>"
        "<meta property='og:site_name' content='Semafor'>"
        "<style>body { color: red }</style><script>var tracker = 'SECRET';</script></head>"
        "<body><nav>Home | World</nav><script>alert('SCRIPTTEXT')</script>"
        "<article><h1>The News</h1><p>Dmitriev is in <b>Washington</b>. He meets Witkoff.</p>"
        "<style>.x { display: none }</style><noscript>Enable JS</noscript>"
        "<h3>Patience wears thin</h3><p>The White House is frustrated.</p></article>"
        "<footer>Copyright 2025</footer></body></html>",
        encoding="utf-8")
    a = read_one(p)
    assert a.title == "Envoy visits Washington"
    assert a.source == "Semafor"
    assert a.published_at == datetime(2025, 4, 2, 8, 30, tzinfo=timezone.utc)
    for gone in ("SECRET", "SCRIPTTEXT", "color", "display", "Enable JS", "Home", "Copyright", "Fallback"):
        assert gone not in a.body
    assert "Dmitriev is in Washington. He meets Witkoff." in a.body
    assert heading_texts(a) == ["The News", "Patience wears thin"]
    sections = [c.section for c in chunk_article(a, 700, 0)]
    assert sections == ["The News", "The News \u203a Patience wears thin"]


def test_html_title_tag_and_time_element_fallbacks(tmp_path):
    p = tmp_path / "plain.htm"
    p.write_text("<html><head><title>Plain page</title></head><body>"
                 "<p>Posted <time datetime='2025-03-30'>Sunday</time>.</p><p>Talks continue.</p></body></html>",
                 encoding="utf-8")
    a = read_one(p)
    assert a.title == "Plain page"
    assert a.published_at == datetime(2025, 3, 30, tzinfo=timezone.utc)


def test_json_object_and_list(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"id": "brief-7", "title": "T", "source": "S", "url": "https://x.test/7",
                               "published_at": "2025-04-02T09:00:00Z", "body": "Talks stalled again."}), encoding="utf-8")
    a = read_one(one)
    assert (a.id, a.title, a.source, a.url) == ("brief-7", "T", "S", "https://x.test/7")
    assert a.published_at == datetime(2025, 4, 2, 9, tzinfo=timezone.utc)
    assert a.origin == str(one.resolve())

    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"body": "First body."}, {"id": 42, "body": "Second body."}]), encoding="utf-8")
    arts, fails = articles_and_failures([many])
    assert not fails
    assert [x.origin for x in arts] == [f"{many.resolve()}#1", f"{many.resolve()}#2"]
    assert arts[0].id == "a-" + content_hash("First body.")[:16]
    assert arts[1].id == "42"


def test_invalid_json_file_is_one_failure(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"body": "x",\n  oops}', encoding="utf-8")
    arts, fails = articles_and_failures([p])
    assert arts == [] and len(fails) == 1
    assert "invalid JSON at line 2" in fails[0].reason


def test_jsonl_keeps_given_ids_and_reports_bad_lines_by_number(tmp_path):
    p = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"id": "r-1", "title": "One", "source": "Reuters", "published_at": "2025-04-01", "url": "u1", "body": "Body one."}),
        '{"id": "r-2", "body": "unterminated',
        json.dumps({"id": "r-3", "title": "Three", "body": "Body three."}),
        "",
        json.dumps({"id": "r-5", "title": "No body"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "r-7", "published_at": "someday", "body": "Body seven."}),
        json.dumps({"id": "r-8", "title": {"nested": 1}, "body": "Body eight."}),
        json.dumps({"title": "No id", "body": "Body nine."}),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    arts, fails = articles_and_failures([p])
    assert [a.id for a in arts] == ["r-1", "r-3", "a-" + content_hash("Body nine.")[:16]]
    assert arts[0].origin == f"{p.resolve()}:1" and arts[1].origin == f"{p.resolve()}:3"
    assert (arts[0].title, arts[0].source, arts[0].url) == ("One", "Reuters", "u1")
    assert arts[0].published_at == datetime(2025, 4, 1, tzinfo=timezone.utc)
    where = {f.where.rsplit(":", 1)[1]: f.reason for f in fails}
    assert sorted(where, key=int) == ["2", "5", "6", "7", "8"]
    assert "malformed JSON line" in where["2"]
    assert "body" in where["5"]
    assert "JSON object" in where["6"]
    assert "not a date" in where["7"]
    assert "'title' must be a string" in where["8"]


def test_folders_are_read_recursively_hidden_and_unknown_files_skipped(tmp_path):
    root = tmp_path / "lib"
    (root / "2025" / "april").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.txt").write_text("Alpha briefing text.", encoding="utf-8")
    (root / "2025" / "b.md").write_text("---\ntitle: Beta\n---\nBeta briefing text.", encoding="utf-8")
    (root / "2025" / "april" / "c.html").write_text("<p>Gamma briefing text.</p>", encoding="utf-8")
    (root / "2025" / "april" / "d.jsonl").write_text(json.dumps({"id": "d1", "body": "Delta text."}) + "\n", encoding="utf-8")
    (root / ".git" / "e.txt").write_text("hidden folder", encoding="utf-8")
    (root / ".f.txt").write_text("hidden file", encoding="utf-8")
    (root / "g.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    os.symlink(root, root / "2025" / "loop")  # a link back up must not loop or read twice
    arts, fails = articles_and_failures([root])
    assert fails == []
    assert sorted(a.body for a in arts) == ["Alpha briefing text.", "Beta briefing text.",
                                             "Delta text.", "Gamma briefing text."]


def test_explicit_paths_missing_unsupported_empty_binary_and_too_big(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blob.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    (tmp_path / "big.txt").write_text("word " * 400, encoding="utf-8")
    paths = [tmp_path / n for n in ("missing.txt", "img.png", "empty.txt", "blob.txt")]
    arts, fails = articles_and_failures(paths)
    assert arts == []
    reasons = {Path(f.where).name: f.reason for f in fails}
    assert reasons["missing.txt"] == "no such file or folder"
    assert "unsupported file type .png" in reasons["img.png"]
    assert reasons["empty.txt"] == "file is empty"
    assert "binary" in reasons["blob.txt"]
    big = list(iter_articles([tmp_path / "big.txt"], max_bytes=1000))
    assert len(big) == 1 and isinstance(big[0], IngestFailure) and "over the" in big[0].reason


# --- decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize("data,text", [
    ("Caf\u00e9 na\u00efve r\u00e9sum\u00e9".encode("latin-1"), "Caf\u00e9 na\u00efve r\u00e9sum\u00e9"),
    (b"\x93Quoted\x94 \x96 dash", "\u201cQuoted\u201d \u2013 dash"),  # Windows-1252 punctuation
    ("Gr\u00fc\u00dfe \u2013 \u041f\u0440\u0438\u0432\u0435\u0442".encode("utf-16"), "Gr\u00fc\u00dfe \u2013 \u041f\u0440\u0438\u0432\u0435\u0442"),
    ("\ufeffBig endian \u00e9".encode("utf-16-be"), "Big endian \u00e9"),
    ("\ufeffUTF-8 with BOM \u2019".encode("utf-8"), "UTF-8 with BOM \u2019"),
    ("UTF-8 \u2019 plain".encode("utf-8"), "UTF-8 \u2019 plain"),
    (b"line one\r\nline two\rline three", "line one\nline two\nline three"),
])
def test_decode_text(data, text):
    assert decode(data) == text


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"  \n\t ", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 100, "binary"),
    ("   ".encode("utf-16"), "no text"),
])
def test_decode_rejects(data, reason):
    with pytest.raises(IngestError, match=reason):
        decode(data)


# --- generated texts: offsets and sentence boundaries --------------------------------------

_WORDS = ("talks envoy sanctions pressure ceasefire Moscow Washington officials market oil gas "
          "deal analysts troops border statement report meeting week minister partner").split()
_ODD = ["U.S. officials", "Mr. Witkoff", "Dr. Lee", "3.5 percent", "e.g. gas", "St. Petersburg",
        "the No. 2 diplomat", "\u201cquoted words\u201d", "(in brackets)", "a \u2014 dash"]
_ENDS = [".", ".", ".", "?", "!", ".\u201d", "\u2026", ".)"]


def _sentence(rng: random.Random, long: bool = False) -> str:
    n = rng.randint(60, 120) if long else rng.randint(3, 22)
    words = [rng.choice(_WORDS) for _ in range(n)]
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), rng.choice(_ODD))
    first = words[0][0].upper() + words[0][1:]
    if rng.random() < 0.15:
        first = "\u201c" + first
    return " ".join([first] + words[1:]) + rng.choice(_ENDS)


def _document(rng: random.Random, markdown: bool) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(1, 7)):
        if rng.random() < 0.4:
            head = " ".join(w.capitalize() for w in rng.sample(_WORDS, rng.randint(1, 5)))
            parts.append(("#" * rng.randint(1, 3) + " " if markdown else "") + head)
        for _ in range(rng.randint(1, 4)):
            sentences = [_sentence(rng, long=rng.random() < 0.05) for _ in range(rng.randint(1, 8))]
            parts.append(rng.choice([" ", "  "]).join(sentences))
    return "".join(p + rng.choice(["\n", "\n\n", "\n \n"]) for p in parts)


@pytest.mark.parametrize("seed", range(40))
def test_generated_texts_chunk_on_sentence_boundaries_with_exact_offsets(tmp_path, seed):
    rng = random.Random(seed)
    for n in range(5):
        markdown = rng.random() < 0.5
        p = tmp_path / f"doc{n}.{'md' if markdown else 'txt'}"
        p.write_text(_document(rng, markdown), encoding="utf-8")
        article = read_one(p)
        size = rng.choice([60, 150, 300, 700, 1200])
        overlap = rng.choice([0, 0, size // 4])
        assert_chunk_invariants(article, size, overlap)


def test_repeated_text_gets_distinct_offsets_and_ids():
    para = "Prices rose again. Talks stalled again."
    body = "\n".join([para] * 6)
    a = Article(id="a-rep", title="t", body=body)
    for overlap in (0, 10):
        chunks = chunk_article(a, 45, overlap)
        assert len(chunks) == 6
        assert [c.start for c in chunks] == [i * (len(para) + 1) for i in range(6)]
        assert len({c.id for c in chunks}) == 6
        assert all(body[c.start:c.end] == c.text for c in chunks)


# --- ids ----------------------------------------------------------------------------------


def test_content_hash_normalises_whitespace_and_unicode():
    expected = hashlib.sha256("Caf\u00e9 talks stalled.".encode()).hexdigest()
    assert content_hash("Caf\u00e9 talks stalled.") == expected
    assert content_hash("  Caf\u00e9\n\ttalks   stalled.\n") == expected
    assert content_hash(unicodedata.normalize("NFD", "Caf\u00e9 talks stalled.")) == expected
    assert content_hash("Cafe talks stalled.") != expected


def test_article_id_is_stable_across_reads_names_and_line_endings(tmp_path):
    first = read_one(SEED)
    assert read_one(SEED).id == first.id
    assert first.id == "a-" + content_hash(first.body)[:16]
    copy = tmp_path / "sub" / "renamed.txt"
    copy.parent.mkdir()
    copy.write_bytes(SEED.read_bytes().replace(b"\n", b"\r\n"))
    other = read_one(copy)
    assert other.id == first.id and other.origin != first.origin
    assert [c.id for c in chunk_article(other, 700, 0)] == [c.id for c in chunk_article(first, 700, 0)]
    edited = tmp_path / "edited.txt"
    edited.write_text(SEED.read_text(encoding="utf-8").replace("Wednesday", "Thursday", 1), encoding="utf-8")
    assert read_one(edited).id != first.id


def test_chunk_ids_come_from_article_id_and_content(tmp_path):
    p = tmp_path / "feed.jsonl"
    v1 = {"id": "brief-1", "body": "Paragraph one is steady.\nParagraph two will change."}
    v2 = {"id": "brief-1", "body": "Paragraph one is steady.\nParagraph two has changed."}
    p.write_text(json.dumps(v1), encoding="utf-8")
    c1 = chunk_article(read_one(p), 30, 0)
    p.write_text(json.dumps(v2), encoding="utf-8")
    c2 = chunk_article(read_one(p), 30, 0)
    assert len(c1) == len(c2) == 2
    assert c1[0].id == c2[0].id, "an unchanged chunk of the same article keeps its id"
    assert c1[1].id != c2[1].id
    assert chunk_id("brief-1", "x", 0) == chunk_id("brief-1", "x", 0)
    assert len({chunk_id("brief-1", "x", 0), chunk_id("brief-2", "x", 0), chunk_id("brief-1", "x", 5),
                chunk_id("brief-1", "y", 0)}) == 4


def test_local_html_is_read_like_a_web_page(tmp_path):
    """Issue 15: one HTML reader. A saved page goes through the same trafilatura extraction as its URL:
    share buttons, related links and newsletter boxes inside <article> are dropped (the old block
    reader kept them), "| Site" is trimmed off <title>, and the page's own date tag keeps its time."""
    from assistant.ingest.web import extract_article

    paras = "".join(f"<p>Paragraph {i}: the envoy met officials in Washington on Tuesday and discussed "
                    "sanctions, energy and the prisoner exchange at length.</p>" for i in range(4))
    html = ("<html><head><title>Envoy visits Washington | The Daily</title>"
            "<meta property='article:published_time' content='2025-04-02T10:30:00+02:00'></head><body><article>"
            "<h1>Envoy visits Washington</h1><div class='share'><ul><li>Share on Facebook</li><li>Share on X</li></ul>"
            f"</div><h2>The News</h2>{paras}<aside class='related'><h3>Related stories</h3><ul><li>Ten things to "
            f"know about tariffs</li></ul></aside><h2>Signals</h2>{paras}<div class='newsletter'><p>Subscribe to "
            "our newsletter for more.</p></div></article></body></html>")
    p = tmp_path / "2025-04-02-envoy.html"
    p.write_text(html, encoding="utf-8")
    a = read_one(p)
    for gone in ("Share on", "Related stories", "tariffs", "Subscribe"):
        assert gone not in a.body
    assert a.title == "Envoy visits Washington"
    assert a.published_at == datetime(2025, 4, 2, 8, 30, tzinfo=timezone.utc)
    assert "The News" in heading_texts(a) and "Signals" in heading_texts(a)
    web = extract_article(html, "https://daily.example/envoy", origin="https://daily.example/envoy")
    assert web.body == a.body and web.title == a.title and web.published_at == a.published_at


@pytest.mark.parametrize("field", ["published_at", "published", "date"])
def test_a_records_date_is_read_from_any_of_the_usual_field_names(tmp_path, field):
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps({"id": "p-1", field: "2023-02-27", "body": "Liverpool won the final."}) + "\n",
                    encoding="utf-8")
    (a,) = list(read_file(path, 10**6))
    assert a.published_at == datetime(2023, 2, 27, tzinfo=timezone.utc)


def test_a_record_whose_date_field_is_not_a_date_is_refused_by_that_fields_name(tmp_path):
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps({"id": "p-1", "date": "someday", "body": "Body."}) + "\n", encoding="utf-8")
    (failure,) = list(read_file(path, 10**6))
    assert isinstance(failure, IngestFailure) and "'date' is not a date" in failure.reason


def test_a_scrapers_published_field_that_is_not_a_date_leaves_the_record_undated_not_lost(tmp_path):
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps({"id": "p-1", "published": "02/27/2023", "body": "Body."}) + "\n", encoding="utf-8")
    (a,) = list(read_file(path, 10**6))
    assert not isinstance(a, IngestFailure) and a.published_at is None and a.id == "p-1"
