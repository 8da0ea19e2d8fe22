"""The labelled claim-vs-evidence set for the entailment check (issue 12): load it, and check it.

    python -m evals.faithfulness_data --check [--path FILE] [--clapnq DIR]

Each row of `evals/datasets/faithfulness.jsonl` pairs a claim with the 1-3 source sentences it
cites, labelled `supported` (kind `true`) or `unsupported` (kinds `negated`, `number`, `entity`,
`attribution`, `unrelated`, `yes_no`). How the set was built, and its limits:
`evals/datasets/faithfulness.md`.

`--check` fails (exit 1) unless every evidence sentence is verbatim in its source (the seed
briefing in `examples/briefings/`, or the CLAPnq passage in `articles.jsonl`), labels agree with
kinds, ids are unique, each base item has one source, one split and at least one true claim,
perturbations cite the same sentences as their base's true claim, and the split is the one
`split_for` derives from the base id. It prints counts per kind and split.
Without the CLAPnq files the CLAPnq rows' verbatim check is skipped, and the check says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT / "evals" / "datasets" / "faithfulness.jsonl"
SEED_SOURCE = ROOT / "examples" / "briefings" / "russia-envoy-washington.txt"
SEED_TITLE = "Russia envoy washington"
DEFAULT_CLAPNQ = ROOT.parent / "shared" / "datasets" / "clapnq_dev"

KINDS = ("true", "negated", "number", "entity", "attribution", "unrelated", "yes_no")
PERTURBATIONS = KINDS[1:]
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class FaithItem:
    """One claim and the sentences it cites; `supported` is the gold verdict."""

    id: str
    base: str
    claim: str
    evidence: tuple[str, ...]
    label: str
    kind: str
    source: str
    split: str
    note: str

    @property
    def supported(self) -> bool:
        return self.label == "supported"


class _Row(BaseModel):
    # The JSONL file is edited by hand: validate every row before anything trusts it.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    id: str = Field(min_length=1)
    base: str = Field(min_length=1)
    claim: str = Field(min_length=1)
    evidence: list[str] = Field(min_length=1, max_length=3)
    label: Literal["supported", "unsupported"]
    kind: Literal["true", "negated", "number", "entity", "attribution", "unrelated", "yes_no"]
    source: str = Field(pattern=r"^(seed|clapnq:\S+)$")
    split: Literal["dev", "test"]
    note: str

    @model_validator(mode="after")
    def _consistent(self) -> _Row:
        needed = "supported" if self.kind == "true" else "unsupported"
        if self.label != needed:
            raise ValueError(f"kind {self.kind!r} needs label {needed!r}")
        if not self.id.startswith(self.base + "-"):
            raise ValueError(f"id {self.id!r} does not start with its base {self.base!r}")
        if any(not s.strip() for s in self.evidence):
            raise ValueError("empty evidence sentence")
        return self


class FaithDataError(ValueError):
    """A row of the faithfulness set is malformed."""


def split_for(base: str) -> str:
    """The split of a base item: fixed by a hash of its id, so all its claims land together."""
    return "dev" if hashlib.sha256(base.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def load(path: Path | str | None = None, split: str | None = None) -> list[FaithItem]:
    """Read and validate the set; `split` ("dev" or "test") keeps only that half."""
    if split is not None and split not in SPLITS:
        raise FaithDataError(f"split must be one of {SPLITS}, not {split!r}")
    p = Path(path) if path is not None else DEFAULT_PATH
    items = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = _Row.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as e:
            raise FaithDataError(f"{p.name}:{n}: {e}") from e
        items.append(FaithItem(row.id, row.base, row.claim, tuple(row.evidence), row.label,
                               row.kind, row.source, row.split, row.note))
    return [it for it in items if split is None or it.split == split]


NEWS_ARTICLES = ROOT / "evals" / "datasets" / "news_dev" / "articles.jsonl"


def article_contexts(items: list[FaithItem], title_only: bool = False) -> dict[str, str]:
    """Each row's whole source article ("title body"), keyed by row id: the most context the product's
    names guard can be given (it reads the cited briefing's headline and its other evidence sentences);
    `title_only`: the headline alone, the least it is given. CLAPnq articles come from
    evals/datasets/news_dev (the same bodies), the seed from the sample briefing."""
    articles = {i: a["title"] if title_only else f"{a['title']} {a['body']}" for i, a in _articles(NEWS_ARTICLES).items()}
    # The sample briefing's title as ingest gives it (from the file name).
    seed = SEED_TITLE if title_only else SEED_SOURCE.read_text(encoding="utf-8")
    out = {}
    for it in items:
        key = it.source.removeprefix("clapnq:")
        if it.source != "seed" and key not in articles:
            raise FaithDataError(f"{it.id}: source article {it.source!r} is not in {NEWS_ARTICLES.name}")
        out[it.id] = seed if it.source == "seed" else articles[key]
    return out


def _articles(path: Path) -> dict[str, dict]:
    """The articles of a JSONL file by id."""
    return {a["id"]: a for a in (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())}


def _clapnq_bodies(clapnq_dir: Path) -> dict[str, str] | None:
    articles = clapnq_dir / "articles.jsonl"
    if not articles.is_file():
        return None
    return {i: a["body"] for i, a in _articles(articles).items()}


def check(path: Path | str | None = None, clapnq_dir: Path | str | None = None) -> tuple[list[str], list[str]]:
    """Return (problems, notes) for the set; an empty problem list means it passes."""
    problems: list[str] = []
    notes: list[str] = []
    try:
        items = load(path)
    except FaithDataError as e:
        return [str(e)], notes
    ids = Counter(it.id for it in items)
    problems += [f"duplicate id {i!r}" for i, c in ids.items() if c > 1]

    by_base: dict[str, list[FaithItem]] = {}
    for it in items:
        by_base.setdefault(it.base, []).append(it)
    for base, rows in by_base.items():
        if len({r.source for r in rows}) != 1:
            problems.append(f"{base}: rows cite more than one source")
        if {r.split for r in rows} != {split_for(base)}:
            problems.append(f"{base}: split must be {split_for(base)!r} for every row")
        true_evidence = {r.evidence for r in rows if r.kind == "true"}
        if not true_evidence:
            problems.append(f"{base}: no true claim")
        claims = Counter(r.claim for r in rows)
        problems += [f"{base}: claim used twice: {c!r}" for c, k in claims.items() if k > 1]
        for r in rows:
            # A perturbation is of the base's evidence; only an unrelated claim may cite other sentences.
            if r.kind != "unrelated" and true_evidence and r.evidence not in true_evidence:
                problems.append(f"{r.id}: a {r.kind} claim must cite the same sentences as its base's true claim")

    seed_text = SEED_SOURCE.read_text(encoding="utf-8")
    bodies = _clapnq_bodies(Path(clapnq_dir) if clapnq_dir is not None else DEFAULT_CLAPNQ)
    skipped = 0
    for it in items:
        if it.source == "seed":
            text = seed_text
        elif bodies is None:
            skipped += 1
            continue
        else:
            text = bodies.get(it.source.removeprefix("clapnq:"))
            if text is None:
                problems.append(f"{it.id}: unknown CLAPnq passage {it.source!r}")
                continue
        problems += [f"{it.id}: evidence not verbatim in {it.source}: {s[:60]!r}" for s in it.evidence if s not in text]
    if skipped:
        notes.append(f"CLAPnq articles.jsonl not found: verbatim check skipped for {skipped} rows")
    return problems, notes


def counts(items: list[FaithItem]) -> str:
    """A table of rows per kind and split, then base items per source and split."""
    c = Counter((it.kind, it.split) for it in items)
    lines = [f"{'kind':<12}{'dev':>6}{'test':>6}{'all':>6}"]
    for k in KINDS:
        lines.append(f"{k:<12}{c[k, 'dev']:>6}{c[k, 'test']:>6}{c[k, 'dev'] + c[k, 'test']:>6}")
    lines.append(f"{'rows':<12}{sum(v for (_, s), v in c.items() if s == 'dev'):>6}"
                 f"{sum(v for (_, s), v in c.items() if s == 'test'):>6}{len(items):>6}")
    bases = {(it.base, it.source.split(":")[0], it.split) for it in items}
    b = Counter((src, s) for _, src, s in bases)
    for src in ("seed", "clapnq"):
        lines.append(f"{src + ' bases':<12}{b[src, 'dev']:>6}{b[src, 'test']:>6}{b[src, 'dev'] + b[src, 'test']:>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="validate the set and print counts")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--clapnq", type=Path, default=DEFAULT_CLAPNQ, help="folder holding CLAPnq articles.jsonl")
    parser.add_argument("--with-context", type=Path, metavar="OUT",
                        help="write the set with each row's whole source article as its `context` (for `briefing "
                             "eval-judge OUT`: the checker as the product runs it, names lent by the article)")
    parser.add_argument("--title-only", action="store_true", help="with --with-context: the headline alone")
    args = parser.parse_args(argv)
    if args.with_context:
        items = load(args.path)
        contexts = article_contexts(items, args.title_only)
        rows = [json.loads(line) for line in args.path.read_text(encoding="utf-8").splitlines() if line.strip()]
        args.with_context.parent.mkdir(parents=True, exist_ok=True)
        args.with_context.write_text("".join(json.dumps({**r, "context": contexts[r["id"]]}, ensure_ascii=False) + "\n"
                                             for r in rows), encoding="utf-8")
        print(f"{len(rows)} rows with context -> {args.with_context}")
        return 0
    if not args.check:
        parser.print_help()
        return 2
    problems, notes = check(args.path, args.clapnq)
    if not any(p.startswith(args.path.name + ":") for p in problems):
        print(counts(load(args.path)))
    for n in notes:
        print("note:", n)
    for p in problems:
        print("problem:", p, file=sys.stderr)
    print(f"{len(problems)} problem(s)" if problems else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
