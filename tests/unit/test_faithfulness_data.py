"""The labelled faithfulness set (evals/datasets/faithfulness.jsonl) stays honest: verbatim evidence,
labels that follow kinds, unique ids, stable splits, and enough rows per class to measure a checker."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals import faithfulness_data as fd

MINIMUM = {"true": 100, "negated": 40, "number": 40, "entity": 40, "attribution": 30, "unrelated": 40, "yes_no": 20}


def _rows(path: Path = fd.DEFAULT_PATH) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "faithfulness.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


def test_committed_set_passes_the_check(capsys):
    assert fd.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("ok")
    assert "attribution" in out and "clapnq bases" in out


def test_committed_set_is_big_enough_in_each_class_and_split():
    items = fd.load()
    per_kind = Counter(it.kind for it in items)
    for kind, n in MINIMUM.items():
        assert per_kind[kind] >= n, kind
    bases = {(it.base, it.source.split(":")[0]) for it in items}
    assert sum(src == "seed" for _, src in bases) >= 25
    assert sum(src == "clapnq" for _, src in bases) >= 75
    dev, test = fd.load(split="dev"), fd.load(split="test")
    assert {it.split for it in dev} == {"dev"} and {it.split for it in test} == {"test"}
    assert len(dev) + len(test) == len(items)
    assert 0.4 < len(dev) / len(items) < 0.6
    assert {it.base for it in dev}.isdisjoint({it.base for it in test})


def test_an_edited_seed_evidence_sentence_fails_the_check(tmp_path):
    rows = _rows()
    i = next(k for k, r in enumerate(rows) if r["source"] == "seed")
    rows[i]["evidence"][0] = rows[i]["evidence"][0].replace("Dmitriev", "Dmitriyev", 1).replace("the", "a", 1)
    problems, _ = fd.check(_write(tmp_path, rows))
    assert any(p.startswith(rows[i]["id"] + ": evidence not verbatim") for p in problems)


def test_an_edited_clapnq_evidence_sentence_fails_the_check(tmp_path):
    if not (fd.DEFAULT_CLAPNQ / "articles.jsonl").is_file():
        pytest.skip("CLAPnq dev files not on this machine")
    rows = _rows()
    i = next(k for k, r in enumerate(rows) if r["source"].startswith("clapnq:"))
    original = list(rows[i]["evidence"])
    for r in rows:  # the whole base edited alike, so only the verbatim check can object
        if r["base"] == rows[i]["base"] and r["evidence"] == original:
            r["evidence"] = original[:-1] + [original[-1].rstrip(" .") + " in 1999 ."]
    problems, _ = fd.check(_write(tmp_path, rows))
    assert any(p.startswith(rows[i]["id"] + ": evidence not verbatim") for p in problems)
    # Without the CLAPnq files the check says what it skipped instead of passing silently.
    problems, notes = fd.check(_write(tmp_path, rows), clapnq_dir=tmp_path)
    assert problems == [] and any("skipped" in n for n in notes)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda true, wrong: wrong.update(label="supported"), "needs label"),
        (lambda true, wrong: true.update(label="unsupported"), "needs label"),
        (lambda true, wrong: wrong.update(id=true["id"]), "duplicate id"),
        (lambda true, wrong: true.update(kind="paraphrase"), "kind"),
        (lambda true, wrong: true.update(evidence=[]), "evidence"),
        (lambda true, wrong: true.update(extra="x"), "extra"),
    ],
)
def test_malformed_rows_fail_the_check(tmp_path, change, expected):
    rows = _rows()
    true = next(r for r in rows if r["kind"] == "true")
    wrong = next(r for r in rows if r["kind"] != "true")
    change(true, wrong)
    problems, _ = fd.check(_write(tmp_path, rows))
    assert problems and expected in problems[0]


def test_a_base_split_across_dev_and_test_fails_the_check(tmp_path):
    rows = _rows()
    rows[0]["split"] = "test" if rows[0]["split"] == "dev" else "dev"
    problems, _ = fd.check(_write(tmp_path, rows))
    assert any(p.startswith(rows[0]["base"] + ": split must be") for p in problems)


def test_a_perturbation_citing_other_sentences_than_its_base_fails_the_check(tmp_path):
    rows = _rows()
    u = next(r for r in rows if r["kind"] == "unrelated" and r["source"] == "seed")
    n = next(r for r in rows if r["base"] != u["base"] and r["kind"] == "negated" and r["source"] == "seed")
    n["evidence"], n["base"], n["id"], n["split"] = u["evidence"], u["base"], u["base"] + "-negated-x", u["split"]
    problems, _ = fd.check(_write(tmp_path, rows))
    assert problems == [f"{n['id']}: a negated claim must cite the same sentences as its base's true claim"]


def test_load_rejects_an_unknown_split():
    with pytest.raises(fd.FaithDataError):
        fd.load(split="train")


def test_the_second_dev_set_is_verbatim_and_balanced():
    # evals/datasets/faithfulness_dev2.jsonl (a helper's rewordings and near misses over CLAPnq passages)
    rows = _rows(Path(fd.DEFAULT_PATH).with_name("faithfulness_dev2.jsonl"))
    assert len({r["id"] for r in rows}) == len(rows) == 150
    kinds = Counter(r["kind"] for r in rows)
    assert kinds["true"] >= 60 and len(kinds) == 11 and min(kinds.values()) >= 9
    assert all((r["label"] == "supported") == (r["kind"] == "true") for r in rows)
    assert all(len(r["evidence"]) == 2 for r in rows if r["kind"] == "conflation")
    articles = fd.DEFAULT_CLAPNQ / "articles.jsonl"
    if not articles.is_file():
        pytest.skip("CLAPnq dev files not on this machine")
    bodies = {}
    for line in articles.read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        bodies.setdefault(a["title"], []).append(a["body"])
    for r in rows:
        assert all(any(e in b for b in bodies[r["context"]]) for e in r["evidence"]), r["id"]
