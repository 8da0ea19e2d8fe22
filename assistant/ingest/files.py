"""Read briefings (txt, md, html, json, jsonl; files or folders) into Articles.

Also the one reader of page text fetched by web.py (`article_from_page`, `article_from_parts`,
`decode`), so a saved page and a downloaded one become the same Article. Cutting articles into
chunks is chunk.py's job.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from ..dates import date_in_name, parse_date
from ..errors import IngestError
from ..types import Article, IngestFailure
from .html import read_html  # the same extraction as web pages (trafilatura)

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".ndjson"}
Heading = tuple[int, int, int]  # start, end, level (1 = top section, 2 = sub-headline)

# The closing "#"s are stripped in code: a lazy group before `\s*#*\s*$` backtracks cubically on a
# long run of spaces (a 2,000-space heading line took 10 s).
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_DERIVED_ID = re.compile(r"[au]-[0-9a-f]{16}")  # ids ingest derives from a URL (web.py) or a body (_finish)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def iter_articles(paths: list[str | Path], max_bytes: int) -> Iterator[Article | IngestFailure]:
    """Read every supported file under `paths`; yield Articles, or IngestFailures with a reason."""
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists() and not path.is_symlink():  # a looping or dangling link gets its own reason
            yield IngestFailure(str(raw), "no such file or folder")
            continue
        if path.is_dir():
            yield from _walk(path, max_bytes, seen)
        else:
            yield from _read_once(path, max_bytes, seen, explicit=True)


def _walk(root: Path, max_bytes: int, seen: set[str]) -> Iterator[Article | IngestFailure]:
    visited_dirs: set[str] = set()
    unlistable: list[OSError] = []  # os.walk skips a folder it cannot list; the user must hear of it
    top = os.path.realpath(root)
    # followlinks=True with a visited set: linked folders are read once, symlink loops end. Links are
    # followed only while they stay inside the folder given: a link to ~/.ssh in a shared or uploaded
    # folder must not put those files in the library.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unlistable.append):
        yield from _unlistable(unlistable)
        real = os.path.realpath(dirpath)
        if real in visited_dirs:
            dirnames[:] = []
            continue
        visited_dirs.add(real)
        kept = []
        for d in sorted(d for d in dirnames if not d.startswith(".")):
            if _leaves(Path(dirpath) / d, top):
                yield IngestFailure(str(Path(dirpath) / d), _OUTSIDE)
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            p = Path(dirpath) / name
            if p.suffix.lower() not in SUFFIXES:
                continue
            if _leaves(p, top):
                yield IngestFailure(str(p), _OUTSIDE)
            else:
                yield from _read_once(p, max_bytes, seen, explicit=False)
    yield from _unlistable(unlistable)


_OUTSIDE = "symlink points outside the folder being ingested; skipped (name the target itself to ingest it)"


def _leaves(path: Path, top: str) -> bool:
    """True for a symlink whose target lies outside `top` (a broken or looping one is left to _read_once)."""
    if not path.is_symlink():
        return False
    try:
        target = os.path.realpath(path, strict=True)
    except (OSError, RuntimeError):
        return False
    return os.path.commonpath([target, top]) != top


def _unlistable(errors: list[OSError]) -> Iterator[IngestFailure]:
    while errors:
        exc = errors.pop(0)
        why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        yield IngestFailure(str(exc.filename), f"cannot open folder: {why}")


def _read_once(path: Path, max_bytes: int, seen: set[str], explicit: bool) -> Iterator[Article | IngestFailure]:
    try:
        real = str(path.resolve(strict=True))
    except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop on Python < 3.13
        key = "unresolvable:" + os.path.abspath(path)  # a link named twice (folder + explicit) is one failure
        if key not in seen:
            seen.add(key)
            yield IngestFailure(str(path), _unresolvable(path, exc))
        return
    if real in seen:
        return
    seen.add(real)
    if path.suffix.lower() not in SUFFIXES:
        if explicit:
            yield IngestFailure(str(path), f"unsupported file type {path.suffix or '(none)'}; use txt, md, html, json or jsonl")
        return
    try:
        yield from read_file(path, max_bytes)
    except IngestError as exc:
        yield IngestFailure(str(path), str(exc))


def _unresolvable(path: Path, exc: BaseException) -> str:
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "symlink loop: the link points back at itself"
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        return "broken symlink: its target does not exist"
    if isinstance(exc, PermissionError):
        return "permission denied; make the file and its folders readable"
    return f"cannot resolve path: {getattr(exc, 'strerror', None) or exc}"


def too_big(size: int, max_bytes: int) -> str:
    """The message for a file over BRIEFING_MAX_FILE_MB, naming the setting that raises the limit."""
    return f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (BRIEFING_MAX_FILE_MB)"


def read_file(path: Path, max_bytes: int) -> Iterator[Article | IngestFailure]:
    """Articles of one file. Raises IngestError when the whole file is unusable."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(too_big(size, max_bytes))
        with path.open("rb") as f:  # bounded read: a file that grows after stat() cannot blow memory
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise IngestError(too_big(len(data), max_bytes))
    except PermissionError as exc:
        raise IngestError("permission denied; make the file readable") from exc
    except IsADirectoryError as exc:
        raise IngestError("is a folder, not a file") from exc
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from exc
    text = decode(data)
    origin = str(path.resolve())
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _from_jsonl(text, origin)
    elif suffix == ".json":
        yield from _from_json(text, origin)
    elif suffix in (".html", ".htm"):
        yield _finish(*read_html(text), origin=origin, fallback_title=title_from_name(path), name=path.name)
    else:
        yield _finish(*_from_text(text, markdown=suffix in (".md", ".markdown")), origin=origin,
                      fallback_title=title_from_name(path), name=path.name)


def decode(data: bytes) -> str:
    """Text from bytes: BOM-marked UTF-16/32 or UTF-8, else UTF-8, else Windows-1252/Latin-1.

    Raises IngestError for empty and binary content.
    """
    if not data.strip():
        raise IngestError("file is empty")
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                     (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(enc))
            except UnicodeDecodeError as exc:
                raise IngestError(f"not valid {enc} text") from exc
    if b"\x00" in data[:8192]:
        raise IngestError("looks like a binary file, not text")
    try:
        return _check_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        return _check_text(data.decode("cp1252"))
    except UnicodeDecodeError:
        return _check_text(data.decode("latin-1"))


def _check_text(text: str) -> str:
    sample = text[:8192]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if sample and controls / len(sample) > 0.05:
        raise IngestError("looks like a binary file, not text")
    if not text.strip():
        raise IngestError("file has no text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _from_text(text: str, markdown: bool) -> tuple[str, dict, list[Heading]]:
    meta: dict = {}
    m = _FRONT_MATTER.match(text)
    if m:
        for line in m.group(1).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                meta[k.strip().lower()] = v.strip().strip("\"'")
        text = text[m.end():]
    body = text.strip("\n")
    headings: list[Heading] = []
    lines = body.split("\n")
    pos = 0
    # The next non-blank line of each line, from one backward pass: looking ahead from every line
    # made parsing quadratic (80k short lines took 6 s, a 20 MB file about a day).
    following = [""] * len(lines)
    nxt = ""
    for i in range(len(lines) - 1, -1, -1):
        following[i] = nxt
        nxt = lines[i].strip() or nxt
    for i, line in enumerate(lines):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        md = _MD_HEADING.match(stripped) if markdown else None
        if md:
            lead = len(line) - len(line.lstrip()) + md.start(2)  # "#   Title": any run of spaces
            title = md.group(2).rstrip().rstrip("#").rstrip()  # "## Title ##" is "Title"
            headings.append((start + lead, start + lead + len(title), min(len(md.group(1)), 2)))
            continue
        if _looks_like_heading(stripped, following[i]):
            lead = len(line) - len(line.lstrip())
            level = 1 if (stripped.isupper() or not headings) else 2
            headings.append((start + lead, start + lead + len(stripped), level))
    if markdown and headings and headings[0][2] == 1 and "title" not in meta:
        first = headings[0]
        meta["title"] = body[first[0]:first[1]]
    return body, meta, headings


def text_headings(body: str) -> list[Heading]:
    """Headings found in an already-read body, as in a plain text file (a repair re-chunks stored bodies)."""
    if _FRONT_MATTER.match(body) or body != body.strip("\n"):
        return []  # offsets would not be the body's own
    return _from_text(body, markdown=False)[2]


def _looks_like_heading(line: str, next_line: str) -> bool:
    if not next_line or len(line) > 100 or len(line.split()) > 14:
        return False
    if line[-1] in ".,;:!?\"”’)…" or line.startswith(("-", "*", "•", ">")):
        return False
    return len(next_line) > len(line)


def _from_json(text: str, origin: str) -> Iterator[Article | IngestFailure]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items, 1):
        where = f"{origin}#{i}" if len(items) > 1 else origin
        yield _from_record(item, where)


def _from_jsonl(text: str, origin: str) -> Iterator[Article | IngestFailure]:
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{origin}:{lineno}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield IngestFailure(where, f"malformed JSON line ({exc.msg})")
            continue
        yield _from_record(item, where)


DATE_FIELDS = ("published_at", "published", "date")


def _from_record(item: object, where: str) -> Article | IngestFailure:
    if not isinstance(item, dict):
        return IngestFailure(where, "expected a JSON object with at least a 'body' field")
    body = item.get("body", item.get("text", item.get("content")))
    if not isinstance(body, str) or not body.strip():
        return IngestFailure(where, "missing or empty 'body' (a string is required)")
    for key in ("id", "title", "source", "url"):
        if key in item and item[key] is not None and not isinstance(item[key], (str, int)):
            return IngestFailure(where, f"field '{key}' must be a string, got {type(item[key]).__name__}")
    # The names records give a page's date: ours, a feed's and a scraper's ("published", as in RealTime QA's
    # pages: read as undated before, so an as_of and "this week" could not see it).
    field = next((k for k in DATE_FIELDS if item.get(k) not in (None, "")), DATE_FIELDS[0])
    raw_date = item.get(field)
    published = parse_date(raw_date)
    # Our own field names are strict (a typo'd date is an error to fix); "published" was ignored before it was
    # read, so a record whose "published" is not a date ("02/27/2023") is still ingested, undated, not lost.
    if raw_date not in (None, "") and published is None and field != "published":
        return IngestFailure(where, f"'{field}' is not a date: {str(raw_date)[:40]!r}")
    body, _, headings = _from_text(body.replace("\r\n", "\n"), markdown=False)
    meta = {k: str(item[k]) for k in ("title", "source", "url") if item.get(k) is not None}
    article = _finish(body, meta, headings, origin=where, fallback_title="", name="")
    given = item.get("id")
    article = replace(article, published_at=published or article.published_at)
    if given is not None and str(given).strip():
        given = str(given).strip()
        # A record may not name a page's or a file's article ("u-…", "a-…" + 16 hex): it would replace it.
        article = replace(article, id="r-" + given if _DERIVED_ID.fullmatch(given) else given)
    return article


def _finish(body: str, meta: dict, headings: list[Heading], origin: str, fallback_title: str, name: str) -> Article:
    if not body.strip():
        raise IngestError("no text left after extraction")
    digest = content_hash(body)
    published = parse_date(meta.get("date") or meta.get("published_at") or meta.get("published"))
    if published is None and name:
        published = date_in_name(name)
    title = meta.get("title") or fallback_title or body.strip().split("\n", 1)[0][:80]
    article = Article(
        id="a-" + digest[:16], title=title.strip(), body=body, source=meta.get("source", "").strip(),
        url=meta.get("url", "").strip(), published_at=published, origin=origin, content_hash=digest,
        headings=tuple(headings),
    )
    return article


def article_from_page(content: str, meta: dict, origin: str, html: bool) -> Article:
    """An Article from page text or HTML fetched elsewhere (web.py), read like a file of that kind:
    same normalising, heading detection and hashing. `meta` (title, date, source, url) wins over
    what the page itself says. Raises IngestError when no text is left."""
    if html:
        body, found, headings = read_html(content)
    else:
        body, found, headings = _from_text(content.replace("\r\n", "\n"), markdown=False)
    merged = {**found, **{k: v for k, v in meta.items() if v}}
    return _finish(body, merged, headings, origin=origin, fallback_title="", name="")


def article_from_parts(body: str, meta: dict, headings: list[Heading], origin: str) -> Article:
    """An Article from an already-read body, metadata and headings (web.extract_article)."""
    return _finish(body, meta, headings, origin=origin, fallback_title="", name="")


def content_hash(body: str) -> str:
    """sha256 of the body with Unicode and whitespace normalised: the idempotency key."""
    norm = " ".join(unicodedata.normalize("NFC", body).split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def title_from_name(path: Path) -> str:
    """The title ingest gives a file without one of its own: its name less a leading date, words capitalised
    ("2026-12-07-russia-envoy-washington.txt" -> "Russia envoy washington")."""
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}[-_ ]*", "", path.stem)
    words = re.split(r"[-_ ]+", stem)
    return " ".join(words).strip().capitalize() or path.name
