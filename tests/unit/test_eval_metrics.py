"""Eval metric functions, judges, gates and dataset handling on hand-made cases with known values."""

import json

import pytest

from assistant.evaluation import metrics as M
from assistant.evaluation.dataset import DatasetError, EvalItem, load_dataset, resolve_gold, select
from assistant.evaluation.gates import check, flatten, load_thresholds
from assistant.evaluation.judge import LexicalJudge, LLMJudge, parse_verdict
from assistant.ingest.files import read_file
from assistant.sentences import sentence_spans
from assistant.types import Article

from ..conftest import ROOT, SEED
from ..support.fakes import FakeEmbedder, ScriptedChat

# --- retrieval -------------------------------------------------------------------------------


def test_rank_metrics_on_a_known_ranking():
    ranked = ["a", "b", "a", "c", "e", "d"]
    gold = {"c", "d"}
    assert M.first_gold_rank(ranked, gold) == 4
    assert M.hits_at_k(ranked, gold, 1) == 0.0
    assert M.hits_at_k(ranked, gold, 3) == 0.0
    assert M.hits_at_k(ranked, gold, 5) == 1.0
    assert M.recall_at_k(ranked, gold, 5) == 0.5
    assert M.recall_at_k(ranked, gold, 10) == 1.0
    assert M.reciprocal_rank(ranked, gold, 10) == 0.25
    assert M.reciprocal_rank(ranked, gold, 3) == 0.0
    assert M.recall_at_k(ranked, set(), 5) == 0.0


def test_evidence_hits_normalise_case_quotes_and_whitespace():
    chunks = ["Intro. Russia\u2019s top   envoy visited\nWashington. More.", "Other text."]
    evidence = ["russia's top envoy visited Washington.", "Never retrieved sentence."]
    assert M.evidence_found(chunks, evidence) == [True, False]
    assert M.evidence_hit(chunks, evidence) == 1.0
    assert M.evidence_recall(chunks, evidence) == 0.5
    assert M.evidence_hit(chunks, evidence[1:]) == 0.0


def test_evidence_shown_accepts_a_split_piece_of_a_gold_sentence():
    gold = ["The trip, unconfirmed by both sides, comes after Russia rejected the plan; analysts were unsurprised."]
    assert M.evidence_shown(["The trip, unconfirmed by both sides, comes after Russia rejected the plan;"], gold) == 1.0
    assert M.evidence_shown(["The trip"], gold) == 0.0  # too short to count as a piece
    assert M.evidence_shown(["Unrelated sentence about something else entirely."], gold) == 0.0


# --- citations -------------------------------------------------------------------------------


def test_citation_validity_and_verbatim():
    assert M.citation_validity([1, 2, 9, 2], [1, 2, 3]) == (3, 4)
    assert M.citation_validity([], [1]) == (0, 0)
    body = "Alpha beta. Gamma delta."
    assert M.is_verbatim("Gamma delta.", body, 12, 24)
    assert not M.is_verbatim("Gamma delta.", body, 11, 23)
    assert not M.is_verbatim("", body, 0, 0)


def _table_judge(table):
    calls = []

    def entails(sources, claim):
        calls.append((tuple(sources), claim))
        return table.get((frozenset(sources), claim), False)

    return entails, calls


def test_alce_recall_and_precision_follow_the_paper_rule():
    A, B, C, D, E = "A", "B", "C", "D", "E"
    table = {
        (frozenset({A, B}), "s1"): True, (frozenset({A}), "s1"): True,  # B is irrelevant: A alone suffices
        (frozenset({D, E}), "s4"): True,  # D and E are both needed
    }
    entails, _ = _table_judge(table)
    res = M.alce([("s1", [A, B]), ("s2", [C]), ("s3", []), ("s4", [D, E])], entails)
    assert res.recall == pytest.approx(2 / 4)
    assert res.citations == 5
    assert res.precision == pytest.approx(3 / 5)  # A, D, E precise; B irrelevant; C unsupported
    s1 = res.sentences[0]
    assert s1.supported and s1.irrelevant == (1,) and s1.precise == 1
    assert not res.sentences[1].supported and not res.sentences[2].supported
    assert res.sentences[3].irrelevant == () and res.sentences[3].precise == 2


def test_alce_citation_not_entailing_alone_but_needed_is_precise():
    # B alone does not entail, but without it A does not either: B stays precise.
    table = {(frozenset({"A", "B"}), "s"): True, (frozenset({"B"}), "s"): False, (frozenset({"A"}), "s"): False}
    entails, _ = _table_judge(table)
    res = M.alce([("s", ["A", "B"])], entails)
    assert res.recall == 1.0 and res.precision == 1.0


def test_alce_edge_cases():
    entails, calls = _table_judge({})
    assert M.alce([], entails).recall == 0.0
    res = M.alce([("s", [])], entails)
    assert res.recall == 0.0 and res.precision == 0.0 and calls == []  # no citations: judge not asked
    entails, _ = _table_judge({(frozenset({"A"}), "s"): True})
    assert M.alce([("s", ["A"])], entails).precision == 1.0


# --- refusals --------------------------------------------------------------------------------


def test_refusal_confusion_and_scores():
    outcomes = [(True, True)] * 3 + [(True, False)] + [(False, False)] * 2 + [(False, True)] * 2
    m = M.refusal_confusion(outcomes)
    assert m == {"answerable": {"answered": 3, "refused": 1}, "unanswerable": {"answered": 2, "refused": 2}}
    s = M.refusal_scores(m)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(0.5)
    assert s["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert s["answer_rate"] == pytest.approx(0.75)
    assert s["accuracy"] == pytest.approx(5 / 8)


def test_refusal_precision_is_undefined_when_nothing_was_refused():
    s = M.refusal_scores(M.refusal_confusion([(True, True), (False, True)]))
    assert s["precision"] is None and s["recall"] == 0.0 and s["f1"] is None


# --- correctness -----------------------------------------------------------------------------


def test_token_f1():
    assert M.token_f1("The cat sat on the mat.", "a cat sat on a mat") == 1.0
    assert M.token_f1("cat dog", "cat") == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert M.token_f1("Witkoff [2].", "Witkoff") == 1.0  # citation markers are not words
    assert M.token_f1("", "") == 1.0 and M.token_f1("x", "") == 0.0
    assert M.token_f1("cat cat", "cat") == pytest.approx(2 * 0.5 * 1.0 / 1.5)  # bag, not set


def test_rouge_l():
    assert M.lcs_length(["w1", "w2", "w3", "w4"], ["w1", "w3", "w5"]) == 2
    assert M.rouge_l("w1 w2 w3 w4", "w1 w3 w5") == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert M.rouge_l("police killed gunman", "gunman was killed by police") == pytest.approx(2 * (1 / 3) * (1 / 5) / (1 / 3 + 1 / 5))
    assert M.rouge_l("same words here", "same words here") == 1.0
    assert M.rouge_l("nothing shared", "entirely different") == 0.0


def test_must_mention_needs_every_pattern():
    assert M.must_mention("He will meet Steve Witkoff in 2025.", [r"witkoff", r"20\d\d"]) == (True, [])
    assert M.must_mention("He will meet Witkoff.", [r"witkoff", r"20\d\d"]) == (False, [r"20\d\d"])


def test_must_not_mention_fails_on_any_pattern_said():
    assert M.must_not_mention("He will meet Steve Witkoff.", [r"rubio", r"lavrov"]) == (True, [])
    assert M.must_not_mention("He will meet Rubio and LAVROV.", [r"rubio", r"lavrov", r"witkoff"]) == (
        False, [r"rubio", r"lavrov"])


def test_must_not_mention_and_note_load_and_bad_patterns_name_the_field(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"id": "a", "question": "q?", "answerable": True, "must_not_mention": [r"\bfriends\b"],
                             "note": "flagged on the page", "flagged_answer": "ignored"}) + "\n")
    (item,) = load_dataset(p)
    assert item.must_not_mention == (r"\bfriends\b",) and item.note == "flagged on the page"
    p.write_text('{"id": "b", "question": "q?", "answerable": true, "must_not_mention": ["(unclosed"]}\n')
    with pytest.raises(DatasetError, match=r"d.jsonl:1: must_not_mention: .*not a valid regex"):
        load_dataset(p)


# --- aggregation and agreement ----------------------------------------------------------------


def test_percentiles_and_distribution():
    assert M.percentile([1, 2, 3, 4], 50) == 2.5
    assert M.percentile([5], 90) == 5
    assert M.percentile([], 50) is None
    d = M.distribution([1.0, None, 3.0])
    assert d["n"] == 2 and d["mean"] == 2.0 and d["max"] == 3.0
    assert M.mean([None, None]) is None


def test_binary_agreement_and_best_threshold():
    a = M.binary_agreement([True, True, False, False], [True, False, False, True])
    assert a["accuracy"] == 0.5 and a["precision"] == 0.5 and a["recall"] == 0.5 and a["kappa"] == 0.0
    t, got = M.best_threshold([0.9, 0.8, 0.3, 0.2], [True, True, False, False], grid=[0.1, 0.5, 0.85])
    assert t == 0.5 and got["accuracy"] == 1.0 and got["kappa"] == 1.0


# --- judges ----------------------------------------------------------------------------------


def test_parse_verdict():
    assert parse_verdict("SUPPORTED") is True
    assert parse_verdict("Unsupported.") is False
    assert parse_verdict("The claim is not supported") is False
    assert parse_verdict("maybe") is None


def test_llm_judge_sends_source_and_claim_and_caches():
    chat = ScriptedChat(["SUPPORTED", "UNSUPPORTED", "I am not sure"])
    judge = LLMJudge(chat)
    assert judge.supports(["Sky is blue.", "Grass is green."], "The sky is blue.") is True
    assert judge.supports(["Sky is blue.", "Grass is green."], "The sky is blue.") is True  # cached
    assert judge.supports(["Sky is blue."], "Sky is red.") is False
    assert judge.supports(["x"], "y") is False and judge.unparsed == 1
    assert judge.supports([], "y") is False
    assert judge.calls == 3 and len(chat.history) == 3
    user = chat.history[0][-1]["content"]
    assert "Sky is blue.\nGrass is green." in user and "Claim: The sky is blue." in user


def test_lexical_judge_separates_copies_from_unrelated_claims():
    judge = LexicalJudge(FakeEmbedder())
    src = ["Dmitriev is expected to meet Steve Witkoff on Wednesday."]
    assert judge.supports(src, "Dmitriev is expected to meet Steve Witkoff on Wednesday.")
    assert not judge.supports(src, "Ukraine has a population of about 38 million people.")
    assert not judge.supports([], "anything")


# --- gates -----------------------------------------------------------------------------------


def test_gates(tmp_path):
    metrics = {"citations": {"alce_recall": 0.5, "validity": None}, "cost": {"latency_s": {"total": {"p90": 12.0}}}}
    assert flatten(metrics) == {"citations.alce_recall": 0.5, "citations.validity": None, "cost.latency_s.total.p90": 12.0}
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"fail_under": {"citations.alce_recall": 0.6, "citations.validity": 0.9},
                                "fail_over": {"cost.latency_s.total.p90": 10}}))
    gates = {g["metric"]: g for g in check(metrics, load_thresholds(path))}
    assert not gates["citations.alce_recall"]["passed"]
    # A gated metric that was not measured fails, unless the run says it accepts that.
    assert not gates["citations.validity"]["passed"] and gates["citations.validity"]["note"].startswith("not measured")
    assert not gates["cost.latency_s.total.p90"]["passed"]
    skipped = {g["metric"]: g for g in check(metrics, load_thresholds(path), skip=["citations.validity"])}
    assert skipped["citations.validity"]["passed"] and skipped["citations.validity"]["note"].startswith("skipped")
    assert not skipped["citations.alce_recall"]["passed"]
    with pytest.raises(DatasetError, match="names no gated metric"):
        check(metrics, load_thresholds(path), skip=["citations.typo"])
    with pytest.raises(DatasetError):
        check(metrics, {"fail_under": {"citations.nope": 0.1}})
    path.write_text("{not json")
    with pytest.raises(DatasetError):
        load_thresholds(path)


def test_shipped_thresholds_name_real_metrics():
    from assistant.evaluation.runner import aggregate

    check(aggregate([]), load_thresholds(ROOT / "evals" / "thresholds.json"))


# --- datasets --------------------------------------------------------------------------------


def _item(i, answerable):
    return EvalItem(id=str(i), question=f"q{i}", answerable=answerable)


def test_select_is_seeded_and_stratified():
    items = [_item(i, i < 8) for i in range(12)]  # 8 answerable, 4 unanswerable
    assert [i.id for i in select(items, limit=3)] == ["0", "1", "2"]
    a = select(items, limit=6, stratified=True, seed=1)
    assert a == select(items, limit=6, stratified=True, seed=1)
    assert sum(i.answerable for i in a) == 3 and len(a) == 6
    assert [int(i.id) for i in a] == sorted(int(i.id) for i in a)  # file order kept
    b = select(items, limit=10, stratified=True)
    assert sum(not i.answerable for i in b) == 4 and len(b) == 10  # the small group runs out
    assert select(items, limit=None) == items


def test_load_dataset_reports_the_bad_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"id": "a", "question": "q?", "answerable": true, "reference": "r"}\n'
                 '{"id": "b", "question": "q?", "answerable": false, "must_mention": ["(unclosed"]}\n')
    with pytest.raises(DatasetError, match=r"d.jsonl:2: must_mention"):
        load_dataset(p)
    p.write_text('{"id": "a", "question": "q?", "answerable": true, "reference": "r", "extra": 1}\n')
    (item,) = load_dataset(p)
    assert item.reference == "r"
    p.write_text('{"id": "a", "question": "q?", "answerable": false, "answer": "Insufficient information."}\n')
    assert load_dataset(p)[0].reference is None  # CLAPnq's placeholder is not a reference


def test_resolve_gold_by_id_file_name_or_title():
    arts = [Article(id="a-1", title="Russia envoy washington", body="", origin="/x/russia-envoy-washington.txt"),
            Article(id="c-2", title="Other", body="", origin="/x/articles.jsonl:7")]
    assert resolve_gold(["a-1"], arts) == ({"a-1"}, [])
    assert resolve_gold(["russia-envoy-washington.txt"], arts) == ({"a-1"}, [])
    assert resolve_gold(["russia-envoy-washington", "other"], arts) == ({"a-1", "c-2"}, [])
    assert resolve_gold(["missing.txt"], arts) == (set(), ["missing.txt"])


def test_seed_dataset_evidence_is_verbatim_seed_sentences():
    items = load_dataset(ROOT / "evals" / "datasets" / "seed_briefing.jsonl")
    article = next(read_file(SEED, 10**7))
    sentences = {article.body[s:e] for s, e in sentence_spans(article.body)}
    assert 12 <= len(items) <= 16
    assert any(not i.answerable for i in items) and any(i.history for i in items)
    for item in items:
        assert all(e in sentences for e in item.evidence), item.id
        if item.answerable:
            assert item.evidence and item.must_mention and item.reference
            assert resolve_gold(item.gold_article_ids, [article]) == ({article.id}, [])
            assert M.must_mention(item.reference, item.must_mention)[0], item.id


def test_the_judge_can_be_measured_with_the_whole_article_as_its_evidence_block(tmp_path):
    """Issue 27 item 3: the product's judge reads the whole evidence block, not only the cited sentence."""
    import json as _json

    from assistant.evaluation.judge_eval import as_run, load_articles, load_claims

    briefing = tmp_path / "russia-envoy-washington.txt"
    briefing.write_text("The News\nDmitriev arrived on Tuesday. He is expected to meet Witkoff.\n", encoding="utf-8")
    rows = tmp_path / "rows.jsonl"
    rows.write_text(_json.dumps({"id": "r", "claim": "Dmitriev met Witkoff.", "evidence": ["He is expected to meet Witkoff."],
                                 "label": "unsupported", "kind": "modality_tense",
                                 "context": "Russia envoy washington"}) + "\n", encoding="utf-8")
    (row,) = as_run(load_claims(rows), load_articles([briefing]))
    assert row.keys == (3,) and row.block.splitlines()[2] == "[3] He is expected to meet Witkoff."
    (alone,) = as_run(load_claims(rows), {})
    assert alone.block == "" and alone.keys == ()
