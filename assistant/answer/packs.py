"""Evidence packs: an answer with every quote it rests on, in a file anyone can check offline.

A pack holds the question, the answer, and for each citation the quote, its offsets, the article's title,
source, URL and date, and the sha256 of the exact article text the quote was checked against. It is
written as JSON, Markdown or HTML; Markdown and HTML carry the same JSON inside (a comment / a script
tag), so `briefing verify PACK` reads all three. Verification re-reads each article (from the library or
the files named), checks its sha256, and checks that `text[start:end]` is the quote, and that the quote
shown to readers (Markdown/HTML) is the one in the data; and that the answer text is the one recorded (its
sha256), every sentence of it cites a key of the pack, and a sentence shown as a quote is that citation's quote
(verify_answer). Nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import RequestError
from ..records import citation_records
from ..types import Answer, Article
from .citations import MARKER, split_answer
from .injection import defang
from .verify import QUOTE_LEAD

FORMAT = "briefing-evidence-pack"
FORMATS = ("json", "md", "html")
# The chat page writes a pack for every answer (<data_dir>/packs) so its download button has one; a user
# downloads the latest, so only the newest few are kept instead of one file per answer for ever.
MAX_PACKS = 100
_MD_DATA = re.compile(r"<!-- briefing-evidence-pack\n(.*?)\n-->", re.S)
_HTML_DATA = re.compile(r'<script type="application/json" id="briefing-evidence-pack">(.*?)</script>', re.S)

Lookup = Callable[[str], "Article | None"]


def body_sha256(body: str) -> str:
    """sha256 of the article text exactly as stored (UTF-8): the text the offsets point into."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def build_pack(answer: Answer, lookup: Lookup) -> dict[str, Any]:
    """The pack of `answer`; `lookup(article_id)` gives each cited article with its body (Assistant.article)."""
    cites = citation_records(answer)
    hashes: dict[str, str] = {}
    for c in cites:
        if c["article_id"] not in hashes:
            art = lookup(c["article_id"])
            hashes[c["article_id"]] = body_sha256(art.body) if art is not None else ""
        c["article_sha256"] = hashes[c["article_id"]]
    return {"format": FORMAT, "version": 1, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "question": answer.question, "answer": answer.text, "answer_sha256": answer_sha256(answer.text),
            "answerable": answer.answerable,
            "as_of": answer.as_of, "model": answer.model, "settings_hash": answer.settings_hash, "citations": cites}


def render_pack(pack: dict[str, Any], fmt: str) -> str:
    """The pack as JSON, Markdown or HTML text."""
    data = json.dumps(pack, ensure_ascii=False, indent=2)
    if fmt == "json":
        return data + "\n"
    if fmt == "md":
        safe = data.replace("-->", "--\\u003e")  # JSON escape, so the comment cannot end early
        return _markdown(pack) + f"\n<!-- briefing-evidence-pack\n{safe}\n-->\n"
    if fmt == "html":
        return _html(pack, data.replace("</", "<\\/"))
    raise RequestError(f"unknown pack format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")


def write_pack(pack: dict[str, Any], fmt: str, folder: Path, keep: int = MAX_PACKS) -> Path:
    """Write the pack under `folder` with a name from its question and time, then delete all but the `keep`
    newest packs there; returns the path. The name is new even for the same question in the same second
    (two sessions of the page), and the folder is private like the data dir (it holds questions)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", pack["question"].lower()).strip("-")[:40] or "answer"
    stamp = re.sub(r"[^0-9]", "", pack["created"])[:14]
    text = render_pack(pack, fmt)
    while True:
        path = folder / f"evidence-{slug}-{stamp}-{secrets.token_hex(3)}.{fmt}"
        try:
            with path.open("x", encoding="utf-8") as f:  # never over another session's pack
                f.write(text)
            break
        except FileExistsError:
            continue
    _prune(folder, keep, path)
    return path


def _prune(folder: Path, keep: int, newest: Path) -> None:
    # Oldest first by modification time; files written in the same clock tick keep an arbitrary order.
    found = []
    for p in folder.glob("evidence-*"):
        if p.suffix.lstrip(".") in FORMATS and p != newest:
            try:
                found.append((p.stat().st_mtime_ns, p))
            except OSError:  # pruned by another session meanwhile
                pass
    for _, p in sorted(found)[:max(0, len(found) - (keep - 1))]:
        p.unlink(missing_ok=True)


def _markdown(pack: dict[str, Any]) -> str:
    lines = ["# Evidence pack", "", f"**Question:** {pack['question']}", "", f"**Answer:** {pack['answer']}", ""]
    if pack.get("as_of"):
        lines += [f"As of {pack['as_of']} (the newest cited briefing).", ""]
    lines += ["## Sources", ""]
    for c in pack["citations"]:
        meta = ", ".join(x for x in (c["source"], c["date"] or "undated") if x)
        lines += [f"[{c['key']}] **{c['title']}** ({meta}){' ' + c['url'] if c['url'] else ''}", "",
                  f"> {c['quote']}", "",
                  f"article `{c['article_id']}`, characters {c['start']}-{c['end']}, support {c['support']:.2f}, "
                  f"text sha256 `{c['article_sha256']}`", ""]
    lines += ["Check it offline: `briefing verify THIS_FILE`."]
    return "\n".join(lines)


def _html(pack: dict[str, Any], data: str) -> str:
    e = html.escape
    items = []
    for c in pack["citations"]:
        link = f' <a href="{e(c["url"])}">{e(c["url"])}</a>' if c["url"].startswith(("http://", "https://")) else ""
        meta = ", ".join(x for x in (c["source"], c["date"] or "undated") if x)
        items.append(f"<li><p>[{c['key']}] <strong>{e(c['title'])}</strong> ({e(meta)}){link}</p>"
                     f"<blockquote>{e(c['quote'])}</blockquote><p class=meta>article <code>{e(c['article_id'])}</code>,"
                     f" characters {c['start']}-{c['end']}, support {c['support']:.2f}, text sha256 "
                     f"<code>{e(c['article_sha256'])}</code></p></li>")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>Evidence pack: {e(pack['question'])}</title>"
            "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em}"
            "blockquote{border-left:4px solid #2563eb;margin:.5em 0;padding:.2em 1em;background:#eff6ff}"
            ".meta{color:#555;font-size:.85em}</style></head><body><h1>Evidence pack</h1>"
            f"<p><strong>Question:</strong> {e(pack['question'])}</p><p><strong>Answer:</strong> {e(pack['answer'])}</p>"
            f"<h2>Sources</h2><ol>{''.join(items)}</ol><p class=meta>Check it offline: "
            "<code>briefing verify THIS_FILE</code>.</p>"
            f'<script type="application/json" id="briefing-evidence-pack">{data}</script></body></html>\n')


def read_pack(path: Path) -> tuple[dict[str, Any], str]:
    """The pack's data and the text readers see (empty for JSON). Raises RequestError if it is not a pack."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RequestError(f"cannot read {path}: {exc}", hint="give the path of an evidence pack") from None
    visible, raw = "", text
    for pattern, unescape in ((_HTML_DATA, True), (_MD_DATA, False)):
        m = pattern.search(text)
        if m:
            raw = m.group(1).replace("<\\/", "</") if unescape else m.group(1).replace("--\\u003e", "-->")
            visible = text[:m.start()]
            visible = html.unescape(re.sub(r"<[^>]+>", "", visible)) if unescape else visible
            break
    try:
        pack = json.loads(raw)
    except json.JSONDecodeError:
        pack = None
    if not isinstance(pack, dict) or pack.get("format") != FORMAT or not isinstance(pack.get("citations"), list):
        raise RequestError(f"{path} is not an evidence pack", hint="make one with `briefing ask ... --format json`")
    return pack, visible


@dataclass(frozen=True)
class QuoteCheck:
    """The verdict on one citation of a pack."""

    key: int
    article_id: str
    ok: bool
    reason: str = ""


def verify_pack(pack: dict[str, Any], lookup: Lookup, visible: str = "",
                files: Iterable[Article] = ()) -> list[QuoteCheck]:
    """Check every citation: the article is there (by id, or by its text's sha256 among `files`), its text's
    sha256 is the one recorded, text[start:end] is the quote, and the quote readers see is that quote."""
    by_hash = {body_sha256(a.body): a for a in files}
    by_id = {a.id: a for a in by_hash.values()}
    # Last resort among files: the same title, so an edited file is reported as changed, not as missing.
    by_title = {a.title: a for a in by_hash.values()}
    shown = " ".join(visible.split())
    out: list[QuoteCheck] = []
    for c in pack["citations"]:
        key, aid = int(c.get("key", 0)), str(c.get("article_id", ""))
        quote, start, end = str(c.get("quote", "")), int(c.get("start", -1)), int(c.get("end", -1))
        art = (by_id.get(aid) or by_hash.get(str(c.get("article_sha256", ""))) or by_title.get(str(c.get("title"))))
        if art is None and not by_hash:
            art = lookup(aid)
        if art is None:
            out.append(QuoteCheck(key, aid, False, "article not found in the library or the files given"))
        elif body_sha256(art.body) != c.get("article_sha256"):
            out.append(QuoteCheck(key, aid, False, "the article's text changed since the pack was made (sha256 differs)"))
        elif art.body[start:end] != quote:
            where = art.body.find(quote) if quote else -1
            hint = f"; the quote is at {where}-{where + len(quote)}" if where >= 0 else "; the quote is not in the article"
            out.append(QuoteCheck(key, aid, False, f"text[{start}:{end}] is not the quote{hint}"))
        elif visible and " ".join(quote.split()) not in shown:
            out.append(QuoteCheck(key, aid, False, "the quote shown in the pack differs from its data"))
        else:
            out.append(QuoteCheck(key, aid, True))
    return out


def answer_sha256(text: str) -> str:
    """sha256 of the pack's answer text (UTF-8), recorded so an edited answer does not verify."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AnswerCheck:
    """The verdict on the pack's answer text: its hash, or one of its sentences."""

    ok: bool
    reason: str = ""


def verify_answer(pack: dict[str, Any], visible: str = "") -> list[AnswerCheck]:
    """Check the answer text the quotes stand behind: its sha256 is the one recorded, readers see that text
    (Markdown/HTML), every sentence cites a key the pack holds, and a sentence shown as a quote ("The briefing
    says: \u201c...\u201d [k]") quotes exactly citation [k]'s checked quote. A sentence the model wrote in its
    own words was checked when the answer was made; offline, only its citations can be checked (verify_pack)."""
    answer = str(pack.get("answer", ""))
    recorded = pack.get("answer_sha256")
    if not recorded:
        return [AnswerCheck(False, "the pack records no answer sha256, so its answer text cannot be checked")]
    if answer_sha256(answer) != recorded:
        return [AnswerCheck(False, "the answer text changed since the pack was made (sha256 differs)")]
    out = [AnswerCheck(True)]
    if visible and " ".join(answer.split()) not in " ".join(visible.split()):
        out.append(AnswerCheck(False, "the answer shown in the pack differs from its data"))
    if not pack.get("answerable", True):
        return out
    quotes: dict[int, set[str]] = {}
    for c in pack["citations"]:
        quotes.setdefault(int(c.get("key", 0)), set()).add(defang(str(c.get("quote", ""))))
    # A quote's markers follow its closing quote mark ("... progress.\u201d [3]"), which split_answer does not
    # read as closing the sentence: put them before the full stop, as in a written sentence.
    answer = _MARKERS_AFTER_QUOTE.sub(lambda m: f"{m.group(2)}{m.group(1)}", answer)
    for i, (sentence, keys) in enumerate(split_answer(answer), 1):
        missing = [k for k in keys if k not in quotes]
        if not keys:
            out.append(AnswerCheck(False, f"answer sentence {i} cites nothing"))
        elif missing:
            out.append(AnswerCheck(False, f"answer sentence {i} names no citation {missing} of the pack"))
        else:
            m = _QUOTED_SENTENCE.match(sentence)
            if m and not any(" ".join(m.group(1).split()) == q for k in keys for q in quotes[k]):
                out.append(AnswerCheck(False, f"answer sentence {i} is not the quote of {keys} it shows"))
    return out


_MARKERS_AFTER_QUOTE = re.compile(rf"([.!?]?[\"\u201d\u2019')]+)((?:\s*{MARKER.pattern})+)")
_QUOTED_SENTENCE = re.compile(rf"^{re.escape(QUOTE_LEAD)} \u201c(.*)\u201d$", re.S)


# --- the command line (briefing ask --format, briefing verify) --------------------------------------

def emit(assistant: Any, answer: Answer, fmt: str, out: str | None) -> int:
    """Print (or write to `out`) the evidence pack of `answer` for `briefing ask --format`."""
    import sys

    text = render_pack(build_pack(answer, assistant.article), fmt)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"evidence pack written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def verify(assistant: Any, args: Any) -> int:
    """`briefing verify PACK [--files ...]`: one line per citation; exit 1 when any quote does not check out."""
    import sys

    pack, visible = read_pack(Path(args.pack))
    files: list[Article] = []
    if args.files:
        from ..ingest.files import iter_articles  # local files only: nothing is fetched

        files = [x for x in iter_articles(list(args.files), int(assistant.settings.max_file_mb * 1e6))
                 if isinstance(x, Article)]
        if not files:
            raise RequestError("none of the files given could be read as articles", hint="check the --files paths")
    checks = verify_pack(pack, assistant.article, visible, files)
    told = verify_answer(pack, visible)
    bad = [c for c in checks if not c.ok] + [c for c in told if not c.ok]
    if getattr(args, "json", False):
        json.dump({"ok": not bad, "checked": len(checks), "checks": [c.__dict__ for c in checks],
                   "answer_checks": [c.__dict__ for c in told]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for c in checks:
            print(f"[{c.key}] {c.article_id}: {'ok' if c.ok else 'MISMATCH: ' + c.reason}")
        for t in told:
            print(f"answer: {'ok' if t.ok else 'MISMATCH: ' + t.reason}")
        print(f"{sum(c.ok for c in checks)} of {len(checks)} quotes verified" + ("" if not bad else "; the pack does NOT check out"))
    return 1 if bad or not checks else 0
