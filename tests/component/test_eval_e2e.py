"""The eval harness end to end: a scripted model on a real embedded Chroma, a tiny corpus."""

import json
import re

import pytest

from assistant.app.cli import main
from assistant.evaluation.report import html_page, latency_svg, metric_bars_svg
from assistant.errors import ConfigError
from assistant.evaluation.runner import CaseResult, EvalResult, aggregate, make_judge, run_eval
from assistant.types import REFUSAL

from ..conftest import ROOT
from ..support.eval_standins import StandInChecker
from ..support.fakes import ScriptedChat

MEET = "Dmitriev is expected to meet with US President Donald Trump’s special envoy Steve Witkoff on Wednesday"
FRIENDS = "China and Russia are friends forever and never enemies"
NOT_MEET = MEET.replace("is expected", "is not expected")


class RoutedChat(ScriptedChat):
    """Replies by question rather than by call order; a reply may name evidence by a phrase in it.

    `{key:phrase}` in a reply becomes the key of the evidence line containing `phrase`, so the
    test does not depend on which keys the evidence selection hands out.
    """

    def __init__(self, routes: dict[str, str]) -> None:
        super().__init__()
        self.routes = routes

    def _next(self, messages):
        self.history.append(messages)
        user = messages[-1]["content"]
        if "Claim:" in user:  # the LLM support judge
            return "SUPPORTED"
        asked = re.findall(r"Follow-up: (.*)", user) or re.findall(r"Question: (.*)", user)
        reply = self.routes[asked[-1].strip()]  # the last: a rewrite prompt's example has a follow-up too

        def key(match):
            line = next(ln for ln in user.splitlines() if match.group(1) in ln)
            return re.match(r"\[(\d+)\]", line).group(1)

        return re.sub(r"\{key:([^}]*)\}", key, reply)


ROUTES = {
    "Who is Dmitriev expected to meet?": f"{MEET} [{{key:{MEET[:40]}}}].",
    "What is the name of China's foreign minister?": REFUSAL,
    "What did China's foreign minister say about Russia?": REFUSAL,  # a wrong refusal
    "What did Dmitriev and Witkoff agree on?": f"{MEET} [{{key:{MEET[:40]}}}].",  # answers the unanswerable
    # the follow-up: first rewritten, then answered with one valid and one unknown key
    "And what did China say?": "What did China's foreign minister say about its ties with Russia?",
    "What did China's foreign minister say about its ties with Russia?":
        f"China's foreign minister said that {FRIENDS} [{{key:{FRIENDS[:30]}}}][99].",
    # a quiz row, answered right
    "Whom is Dmitriev due to see in Washington?": f"{MEET} [{{key:{MEET[:40]}}}].",
    # the negation: close to its citation by similarity, the opposite by meaning
    "Is Dmitriev expected to meet Witkoff?": f"{NOT_MEET} [{{key:{MEET[:40]}}}].",
}

ROWS = [
    {"id": "q1", "question": "Who is Dmitriev expected to meet?", "answerable": True,
     "answer": "He is expected to meet Steve Witkoff.", "evidence": [MEET + ", CBS News and Reuters reported."],
     "gold_article_ids": ["russia-envoy-washington.txt"], "must_mention": ["Witkoff"]},
    {"id": "q2", "question": "What is the name of China's foreign minister?", "answerable": False},
    {"id": "q3", "question": "What did China's foreign minister say about Russia?", "answerable": True,
     "answer": f"He said {FRIENDS}.", "gold_article_ids": ["Russia envoy washington"], "must_mention": ["friends"]},
    {"id": "q4", "question": "What did Dmitriev and Witkoff agree on?", "answerable": False},
    {"id": "q5", "question": "And what did China say?", "answerable": True, "answer": f"That {FRIENDS}.",
     "gold_article_ids": ["russia-envoy-washington"], "must_mention": ["friends forever"],
     "history": [{"role": "user", "content": "Who is Dmitriev meeting?"},
                 {"role": "assistant", "content": "Steve Witkoff."}]},
    {"id": "q6", "question": "Whom is Dmitriev due to see in Washington?", "answerable": True, "type": "quiz",
     "choices": ["Marco Rubio", "Steve Witkoff", "Sergey Lavrov"], "answer_index": 1},
    {"id": "q7", "question": "Is Dmitriev expected to meet Witkoff?", "answerable": True, "type": "yes/no",
     "answer": "Yes, he is expected to meet Steve Witkoff."},
]


@pytest.fixture(autouse=True)
def standin_checker(monkeypatch):
    """The judge's checker class is the tests' stand-in (the real one is tested on its own)."""
    from assistant.evaluation import judge

    monkeypatch.setattr(judge, "checker_class", lambda: StandInChecker)


@pytest.fixture
def routed_assistant(fake_assistant):
    fake_assistant._llm = RoutedChat(ROUTES)
    return fake_assistant


@pytest.fixture
def dataset(tmp_path):
    p = tmp_path / "tiny.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n", encoding="utf-8")
    return p


def test_end_to_end_metrics_and_reports(routed_assistant, dataset, seed_dir, tmp_path):
    out = tmp_path / "report"
    result = run_eval(dataset, [seed_dir], out=out, assistant=routed_assistant, progress=False)
    m = result.metrics
    by_id = {c.id: c for c in result.cases}
    assert m["run"] == {"questions": 7, "errors": 0, "completed": 1.0}
    assert m["refusals"]["confusion"] == {"answerable": {"answered": 4, "refused": 1},
                                          "unanswerable": {"answered": 1, "refused": 1}}
    assert m["refusals"]["precision"] == 0.5 and m["refusals"]["recall"] == 0.5 and m["refusals"]["f1"] == 0.5
    assert m["refusals"]["answer_rate"] == pytest.approx(4 / 5)
    # Gold given as file name, stem and title all resolve to the one seed article.
    assert m["retrieval"]["n_gold"] == 3 and m["retrieval"]["hits@1"] == 1.0 and m["retrieval"]["mrr@10"] == 1.0
    assert m["retrieval"]["evidence_hits@10"] == 1.0 and m["retrieval"]["n_evidence"] == 1
    # Keys written: q1, q4, q6, q7 [k], q5 [k][99] -> 5 of 6 valid.
    assert m["citations"]["validity"] == pytest.approx(5 / 6)
    # The negated draft of q7 did not reach the user: the answer pipeline showed the cited sentence as
    # an attributed quote instead, and the judge reads what the quote claims (the quoted text).
    q7 = by_id["q7"]
    assert q7.answer.startswith("The briefing says: “") and q7.sentences[0]["keys"] == [q7.citations[0]["key"]]
    assert q7.sentences[0]["claim"].startswith("Dmitriev is expected") and q7.sentences[0]["supported"]
    assert m["citations"]["alce_recall"] == 1.0 and m["citations"]["alce_precision"] == 1.0
    assert m["citations"]["similarity"] > 0.9
    assert m["citations"]["n_answers"] == 5 and m["citations"]["shown_sentences"] == 5
    assert m["citations"]["unverified_shown"] == 0
    assert m["correctness"]["must_mention"] == pytest.approx(2 / 3)  # q3 refused
    assert by_id["q3"].missed_patterns == ["friends"]
    assert by_id["q5"].standalone_question == "What did China's foreign minister say about its ties with Russia?"
    assert 0.0 < m["correctness"]["token_f1"] < 1.0 and 0.0 < m["correctness"]["rougeL"] < 1.0
    # Judged accuracy: q1, q5, q6 and q7 state the gold answer; q3 refused it.
    assert m["correctness"]["answer_accuracy"] == pytest.approx(4 / 5) and m["correctness"]["n_judged"] == 5
    assert by_id["q6"].reference == "Steve Witkoff" and m["correctness"]["choice_accuracy"] == 1.0
    assert m["by_type"]["quiz"]["choice_accuracy"] == 1.0 and m["by_type"]["yes/no"]["n"] == 1
    assert m["cost"]["latency_s"]["total"]["n"] == 7
    assert m["cost"]["tokens"]["completion_tokens"] > 0
    cite = by_id["q1"].citations[0]
    assert cite["verbatim"] and MEET in cite["quote"] and cite["before"].endswith("2022 invasion of Ukraine.\n")

    meta = result.meta
    assert meta["model"] == "scripted" and meta["settings_hash"] and len(meta["dataset_hash"]) == 16
    assert meta["date"] and meta["articles"] == 1 and meta["judge"]["name"] == "entailment (stand-in)"
    saved = json.loads((out / "report.json").read_text())
    assert saved["meta"]["dataset_hash"] == meta["dataset_hash"] and len(saved["cases"]) == 7
    # Each case is journalled as it finishes, so a stopped run still leaves its cases.
    assert len((out / "cases-default.partial.jsonl").read_text().splitlines()) == 7
    assert {c["id"]: c["outcome"] for c in saved["cases"]} == {
        "q1": "pass", "q2": "pass", "q3": "fail", "q4": "fail", "q5": "pass", "q6": "pass", "q7": "pass"}
    page = (out / "report.html").read_text()
    assert page.count("<svg") == 2 and "<mark>" in page and "q3" in page
    # Every case is on the page, each shown sentence with the judge's verdict and why.
    assert all(f"<b>q{i}</b>" in page for i in range(1, 8))
    assert "<span class='ok'>supported</span>" in page and "Steve Witkoff<br>" in page
    md = (out / "report.md").read_text()
    assert "## Worst cases" in md and "refused an answerable question" in md and "metrics.svg" in md
    assert "similarity (not a judge)" in md and "citation judge entailment (stand-in)" in md
    # The self-graded numbers carry the checker's measured accuracy beside them, read from the committed results
    # (the labelled test split and the newest blind-set run), and the independent ones are in the table.
    measured, blind = result.meta["judge"]["measured"], result.meta["judge"]["measured_blind"]
    labelled = json.loads((ROOT / measured["file"]).read_text())["overall"]["accuracy"]
    unseen = json.loads((ROOT / blind["file"]).read_text())["overall"]["accuracy"]
    assert blind["file"].startswith("evals/results/blind/")
    assert (f"ALCE recall (graded by the product's own checker); the checker's measured accuracy: {labelled:.3f} on "
            f"labelled claims, {unseen:.3f} on the blind set") in md
    assert "on the blind set (evals/results/blind/" in md and "Gold evidence sentence cited (gold labels)" in md
    assert (out / "metrics.svg").read_text().startswith("<svg")


def test_same_run_twice_gives_the_same_metrics(routed_assistant, dataset, seed_dir):
    a = run_eval(dataset, [seed_dir], assistant=routed_assistant, progress=False)
    b = run_eval(dataset, [seed_dir], assistant=routed_assistant, progress=False)
    strip = lambda m: {k: v for k, v in m.items() if k != "cost"}  # noqa: E731
    assert strip(a.metrics) == strip(b.metrics)


def test_cli_eval_gates_and_json(routed_assistant, dataset, seed_dir, tmp_path, capsys):
    factory = lambda **overrides: routed_assistant  # noqa: E731 - the CLI builds its assistant with this
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"fail_under": {"refusals.recall": 0.9, "citations.verbatim": 1.0}}))
    args = ["eval", str(dataset), "--corpus", str(seed_dir), "--out", str(tmp_path / "o"), "--thresholds", str(strict)]
    assert main(args + ["--fail-under", "--json"], factory=factory) == 1
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["meta"]["questions"] == 7 and summary["reports"]["html"].endswith("report.html")
    assert "gate failed: refusals.recall" in captured.err
    assert main(args + ["--limit", "2", "--stratified"], factory=factory) == 0  # gates reported, not enforced
    assert "gate FAIL refusals.recall" in capsys.readouterr().out
    loose = tmp_path / "loose.json"
    loose.write_text(json.dumps({"fail_under": {"citations.verbatim": 1.0}}))
    assert main(["eval", str(dataset), "--corpus", str(seed_dir), "--out", str(tmp_path / "o2"),
                 "--thresholds", str(loose), "--fail-under"], factory=factory) == 0


def test_llm_judge_run_and_refusal_without_an_endpoint(routed_assistant, fake_assistant, dataset, seed_dir):
    result = run_eval(dataset, [seed_dir], judge="llm", assistant=routed_assistant, progress=False)
    # One call per distinct (sources, claim) pair (q1, q4 and q6 share theirs).
    assert result.meta["judge"]["name"] == "llm (scripted)" and 4 <= result.meta["judge"]["calls"] <= 7
    assert result.metrics["citations"]["alce_recall"] == 1.0  # this scripted judge says yes to everything
    fake_assistant._llm = None  # nothing configured: the bundled small model is not accepted as a judge
    with pytest.raises(ConfigError, match="LLM judge"):
        make_judge("llm", fake_assistant)


def test_cli_eval_names_a_bad_dataset(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q"}\n')
    assert main(["eval", str(bad), "--corpus", str(tmp_path)]) == 1
    assert "bad.jsonl:1: answerable" in capsys.readouterr().err


def test_html_report_escapes_article_and_model_text():
    evil = "<script>alert(1)</script>"
    case = CaseResult(id=f"id{evil}", question=f"q {evil}", gold_answerable=True, answered=True,
                      answer=f"a {evil}", reference=f"r {evil}", choices=[evil],
                      sentences=[{"text": f"s {evil}", "keys": [1], "supported": False, "why": evil, "verified": False,
                                  "similarity": 0.5}],
                      citations=[{"key": 1, "article_id": f"a{evil}", "quote": f"quote {evil}", "start": 0, "end": 5,
                                  "verbatim": True, "before": evil, "after": evil}],
                      timings={"total": 1.0, "retrieve": 0.1})
    result = EvalResult(meta={"date": "d", "model": evil, "warnings": [evil]}, metrics=aggregate([case]), cases=[case])
    page = html_page(result, metric_bars_svg(result), latency_svg(result.cases))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<mark>quote &lt;script&gt;" in page


# What the scripted run above measures (test_end_to_end_metrics_and_reports shows how each comes about), for
# every metric the committed thresholds gate; latency is only bounded (a scripted answer takes milliseconds).
TOKEN_F1 = 0.3431885856079404  # measured on this scripted run; q3 (refused) counts 0
# The independent ones, from the rows' gold labels: q1, q5 and q6 state their gold answer (must_mention, the quiz
# choice); q3 refused; q7's quote of the meeting sentence does not say the gold "Yes, he is expected to meet ..."
# in its words, so it is not counted as the answer. Only q1 has a gold evidence sentence, and cites it. Of the two
# unanswerable rows, q2 is refused and q4 answered. Token F1: the five answerable rows against their references.
KNOWN = {"run.completed": 1.0, "retrieval.hits@5": 1.0, "citations.validity": 5 / 6, "citations.alce_recall": 1.0,
         "citations.alce_precision": 1.0, "refusals.recall": 0.5, "refusals.answer_rate": 4 / 5,
         "correctness.answer_accuracy": 4 / 5, "correctness.must_mention": 2 / 3, "citations.unverified_shown": 0,
         "independent.gold_evidence_cited": 1.0, "independent.gold_answer_stated": 3 / 5,
         "independent.addresses_question": 3 / 4, "independent.unanswerable_refused": 1 / 2,
         "correctness.token_f1": TOKEN_F1}
BOUNDED = {"cost.latency_s.total.p90": 30.0}


def test_the_committed_gates_on_a_scripted_run_with_known_values(routed_assistant, dataset, seed_dir):
    """The gates of evals/thresholds.json on a run whose every gated value is known: each gate reports that
    value, and passes exactly when the value meets the committed limit. Fails when a gate reads the wrong
    metric, compares the wrong way, or a new gated metric has no known value here."""
    from assistant.evaluation import independent
    from assistant.evaluation.command import exit_code
    from assistant.evaluation.gates import flatten, load_thresholds

    path = ROOT / "evals" / "thresholds.json"
    committed = load_thresholds(path)
    unknown = (set(committed["fail_under"]) | set(committed["fail_over"])) - set(KNOWN) - set(BOUNDED)
    assert not unknown, f"gated metrics with no known value for the scripted run: {sorted(unknown)}"
    result = run_eval(dataset, [seed_dir], assistant=routed_assistant, progress=False, thresholds=path)
    flat = flatten(result.metrics)
    for name, value in KNOWN.items():
        assert flat[name] == pytest.approx(value), name
    for name, bound in BOUNDED.items():
        assert flat[name] < bound, name
    expected = {n: KNOWN[n] >= limit for n, limit in committed["fail_under"].items()}
    expected |= {n: (KNOWN[n] if n in KNOWN else flat[n]) <= limit for n, limit in committed["fail_over"].items()}
    assert {g["metric"]: g["passed"] for g in result.gates} == expected
    assert all(g["value"] == pytest.approx(flat[g["metric"]]) for g in result.gates)
    assert result.passed is all(expected.values())
    assert exit_code(result.gates, fail_under=True) == (0 if all(expected.values()) else 1)
    # The independent metrics recomputed from the saved report are the ones the run measured (thresholds.json
    # is checked against a committed report that way: tests/unit/test_thresholds_measured.py).
    assert independent.rescore(result.to_dict()) == result.metrics["independent"]
