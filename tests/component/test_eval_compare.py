"""Comparing runs and configurations, the naive pipeline, eval-judge, and correctness scoring."""

import json

import pytest

from assistant.app.cli import main
from assistant.errors import ConfigError
from assistant.evaluation import correctness as C
from assistant.evaluation.configs import override_settings, parse_config
from assistant.evaluation.dataset import DatasetError, EvalItem
from assistant.evaluation.judge import EntailmentJudge
from assistant.evaluation.judge_eval import load_claims, run_eval_judge
from assistant.evaluation.runner import run_eval
from assistant.types import REFUSAL

from ..support.eval_standins import StandInChecker
from .test_eval_e2e import MEET, NOT_MEET, ROUTES, RoutedChat, standin_checker  # noqa: F401  (autouse fixture)

NAIVE_SYSTEM = "Cite the passages you use"


class RoutedWithNaive(RoutedChat):
    """Our pipeline's prompts by route; the naive prompt's replies from their own queue."""

    def __init__(self, routes, naive_replies):
        super().__init__(routes)
        self.naive = list(naive_replies)

    def _next(self, messages):
        if NAIVE_SYSTEM in messages[0]["content"]:
            self.history.append(messages)
            return self.naive.pop(0)
        return super()._next(messages)


ROWS = [
    {"id": "a", "question": "Who is Dmitriev expected to meet?", "answerable": True, "answer": "Steve Witkoff",
     "type": "who"},
    {"id": "b", "question": "Is Dmitriev expected to meet Witkoff?", "answerable": True,
     "answer": "He is expected to meet Steve Witkoff.", "type": "yes/no"},
]


@pytest.fixture
def two(tmp_path):
    p = tmp_path / "two.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return p


def test_naive_config_runs_side_by_side_and_counts_sentences_without_citations(fake_assistant, two, seed_dir, tmp_path):
    # The tutorial pipeline shows whatever the model writes: a sentence with no marker is shown uncited.
    fake_assistant._llm = RoutedWithNaive(ROUTES, ["Dmitriev will meet Steve Witkoff [1].",
                                                   f"{MEET.replace('Wednesday', 'Friday')} [1]. Dmitriev is expected to meet Witkoff."])
    out = tmp_path / "r"
    result = run_eval(two, [seed_dir], out=out, assistant=fake_assistant, progress=False, configs=["naive"])
    naive = result.variants["naive"]
    assert naive.meta["config"] == {"name": "naive", "pipeline": "naive", "overrides": {}}
    nm = naive.metrics["citations"]
    assert nm["shown_sentences"] == 3 and nm["unverified_shown"] == 1  # the unmarked sentence
    # The changed day ships in the naive pipeline; the retrieval similarity calls it close to its
    # source, the judge does not.
    wrong = naive.cases[1].sentences[0]
    assert wrong["similarity"] > 0.7 and not wrong["supported"] and "friday" in wrong["why"]
    assert nm["alce_recall"] < result.metrics["citations"]["alce_recall"] == 1.0
    assert result.metrics["citations"]["unverified_shown"] == 0
    # The naive prompt saw 4 passages of about 1,000 characters (the seed briefing is one article, so
    # its windows overlap) and no checks ran on what came back.
    prompt = fake_assistant._llm.history[[i for i, m in enumerate(fake_assistant._llm.history)
                                          if NAIVE_SYSTEM in m[0]["content"]][0]][1]["content"]
    assert "[1] " in prompt and "Question: Who is Dmitriev expected to meet?" in prompt
    assert (out / "naive" / "report.json").is_file()
    md = (out / "report.md").read_text()
    assert "| metric | default | naive |" in md and "must be 0" in md


def test_config_overrides_are_checked():
    assert parse_config("k8=answer_k=8,llm.temperature=0.5").overrides == (("answer_k", 8), ("llm.temperature", 0.5))
    assert parse_config("naive-dense=pipeline=naive,mode=dense").naive
    assert dict(parse_config("naive-plain=pipeline=naive,prompt=naive_answer_plain").overrides) == {"prompt": "naive_answer_plain"}
    with pytest.raises(ConfigError, match="no option"):
        parse_config("naive=answer_k=3")
    with pytest.raises(ConfigError):
        parse_config("default=answer_k=3")
    from assistant.config import Settings

    s = override_settings(Settings(), (("answer_k", 9), ("llm.max_tokens", 100)))
    assert s.answer_k == 9 and s.llm.max_tokens == 100
    with pytest.raises(ConfigError, match="no setting"):
        override_settings(Settings(), (("answer_kk", 9),))
    with pytest.raises(ConfigError, match="takes a int"):
        override_settings(Settings(), (("answer_k", "many"),))


def test_baseline_lists_regressions_first_and_metric_deltas(fake_assistant, two, seed_dir, tmp_path, capsys):
    right = ROUTES["Who is Dmitriev expected to meet?"]
    fake_assistant._llm = RoutedChat({**ROUTES, "Is Dmitriev expected to meet Witkoff?": REFUSAL})  # a right, b refused
    first = run_eval(two, [seed_dir], out=tmp_path / "old", assistant=fake_assistant, progress=False)
    assert [c["outcome"] for c in first.to_dict()["cases"]] == ["pass", "fail"]
    # The next run swaps them: a regresses, b is fixed.
    fake_assistant._llm = RoutedChat({**ROUTES, "Who is Dmitriev expected to meet?": REFUSAL,
                                      "Is Dmitriev expected to meet Witkoff?": right})
    code = main(["eval", str(two), "--corpus", str(seed_dir), "--out", str(tmp_path / "new"),
                 "--baseline", str(tmp_path / "old" / "report.json")], factory=lambda **overrides: fake_assistant)
    out = capsys.readouterr().out
    assert code == 0
    assert "cases changed: 2 (1 regressions)" in out
    assert out.index("REGRESSION a:") < out.index("FIXED      b:")
    saved = json.loads((tmp_path / "new" / "report.json").read_text())
    assert saved["comparison"]["same_questions"] and [c["kind"] for c in saved["comparison"]["changed"]] == ["regression", "fixed"]
    page = (tmp_path / "new" / "report.html").read_text()
    assert "Against the baseline" in page and page.count("<svg") == 3  # bars, latency, deltas
    with pytest.raises(DatasetError, match="not an eval report"):
        bad = tmp_path / "x.json"
        bad.write_text("{}")
        run_eval(two, [seed_dir], assistant=fake_assistant, progress=False, baseline=bad)


def test_unmeasured_gate_fails_unless_skipped(routed_assistant, seed_dir, tmp_path, capsys):
    factory = lambda **overrides: routed_assistant  # noqa: E731 - the CLI builds its assistant with this
    only = tmp_path / "one.jsonl"
    only.write_text(json.dumps(ROWS[0]) + "\n")  # nothing unanswerable: refusal recall cannot be measured
    t = tmp_path / "t.json"
    t.write_text(json.dumps({"fail_under": {"refusals.recall": 0.5, "citations.alce_recall": 0.5},
                             "fail_over": {"citations.unverified_shown": 0}}))
    base = ["eval", str(only), "--corpus", str(seed_dir), "--out", str(tmp_path / "o"), "--thresholds", str(t), "--fail-under"]
    assert main(base, factory=factory) == 1
    assert "gate failed: refusals.recall = not measured" in capsys.readouterr().err
    assert main(base + ["--skip-metric", "refusals.recall"], factory=factory) == 0
    assert main(base + ["--skip-metric", "refusals.recal"], factory=factory) == 1
    assert "names no gated metric" in capsys.readouterr().err


@pytest.fixture
def routed_assistant(fake_assistant):
    fake_assistant._llm = RoutedChat(ROUTES)
    return fake_assistant


LABELLED = [
    {"claim": MEET, "evidence": [MEET + "."], "label": "supported", "kind": "true", "split": "test"},
    {"claim": NOT_MEET, "evidence": [MEET + "."], "label": "unsupported", "kind": "negated", "split": "test"},
    {"claim": MEET.replace("Wednesday", "Friday"), "evidence": [MEET + "."], "label": "unsupported", "kind": "entity", "split": "test"},
    {"claim": "Dmitriev is expected to meet Witkoff", "evidence": [MEET + ", reportedly."], "label": "unsupported",
     "kind": "attribution", "split": "dev"},
]


def test_eval_judge_measures_the_judge_and_eval_reports_print_it(tmp_path, fake_assistant, two, seed_dir, capsys):
    data = tmp_path / "faith.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in LABELLED) + "\n")
    judge = EntailmentJudge(StandInChecker())
    res = run_eval_judge(judge, data, out=tmp_path / "res")
    # The stand-in catches the negation and the changed day, and misses the dropped attribution.
    assert res["rows"] == 4 and res["overall"]["accuracy"] == 0.75 and res["keep_rate"] == 1.0
    assert res["reject_rate"] == {"attribution": 0.0, "entity": 1.0, "negated": 1.0}
    assert res["rejected_by_layer"] == {"polarity": 1, "words": 1}
    assert "kappa" in res["overall"] and (tmp_path / "res" / "judge_eval.md").read_text().count("| negated |") == 1
    assert len(load_claims(data, split="test")) == 3
    data.write_text('{"claim": "x", "evidence": ["y"], "label": "maybe"}\n')
    with pytest.raises(DatasetError, match="faith.jsonl:1"):
        load_claims(data)

    fake_assistant._llm = RoutedChat(ROUTES)
    result = run_eval(two, [seed_dir], assistant=fake_assistant, progress=False, out=tmp_path / "r",
                      judge_results=tmp_path / "res" / "judge_eval.json")
    assert result.meta["judge"]["measured"]["accuracy"] == 0.75
    assert "measured accuracy 0.750" in (tmp_path / "r" / "report.md").read_text()

    data.write_text("\n".join(json.dumps(r) for r in LABELLED) + "\n")
    assert main(["eval-judge", str(data), "--judge", "guards", "--out", str(tmp_path / "cli")],
                factory=lambda **overrides: fake_assistant) == 0
    out = capsys.readouterr().out
    assert "accuracy 0.750" in out and "reject rate negated" in out
    assert json.loads((tmp_path / "cli" / "judge_eval.json").read_text())["judge"] == "guards (stand-in)"


def test_exact_match_and_stated_choice():
    assert C.exact_match("He will meet Steve Witkoff [1] on Wednesday.", "steve witkoff") == 1.0
    assert C.exact_match("He will meet Witkoff.", "Steve Witkoff") == 0.0
    choices = ["New York", "New York City", "Boston"]
    assert C.stated_choice("It happened in New York City [2].", choices) == 1
    assert C.stated_choice("It happened in Boston.", choices) == 2
    assert C.stated_choice("Either Boston or Chicago.", ["Boston", "Chicago"]) is None  # ambiguous
    assert C.stated_choice("Nothing relevant.", choices) is None
    scored = C.score_answer("Boston it is", True, "Boston", choices, 2, lambda srcs, claim: claim in srcs[0])
    assert scored == {"correctness.exact_match": 1.0, "correctness.answer_accuracy": 1.0, "correctness.choice_accuracy": 1.0}
    refused = C.score_answer(REFUSAL, False, "Boston", choices, 2, lambda srcs, claim: True)
    assert set(refused.values()) == {0.0}


def test_an_answer_that_opens_with_a_choice_states_that_choice():
    choices = ["Cincinnati Bengals", "New England Patriots", "Buffalo Bills"]
    quote = "The briefing says: \u201cBuffalo Bills safety Damar Hamlin collapsed against the Cincinnati Bengals.\u201d"
    assert C.stated_choice(quote, choices) is None  # two choices named: ambiguous
    assert C.stated_choice(f"Buffalo Bills. {quote}", choices) == 2  # the direct answer decides
    assert C.stated_choice(f"Cincinnati Bengals. {quote}", choices) == 0  # a wrong lead is wrong
    assert C.stated_choice(f"He collapsed on Monday. {quote}", choices) is None  # no choice in the lead: the whole


def test_dataset_quiz_fields_and_question_date():
    item = EvalItem.model_validate({"id": "x", "question": "q", "answerable": True, "choices": ["a", "b"],
                                    "answer_index": 1, "question_date": "2026-11-28T10:00:00Z", "type": "quiz"})
    assert item.reference == "b" and item.as_of == "2026-11-28" and item.qtype == "quiz"
    with pytest.raises(ValueError, match="answer_index"):
        EvalItem.model_validate({"id": "x", "question": "q", "answerable": True, "choices": ["a"], "answer_index": 3})


def test_every_shown_sentence_is_counted_connectives_and_refusal_shaped_ones_too():
    from assistant.evaluation.runner import score_case
    from assistant.types import Answer, Citation, EvidenceSentence

    body = f"Intro. {MEET}. Outro."
    start = body.index(MEET)
    ev = EvidenceSentence(key=1, article_id="a1", chunk_id="c1", text=MEET + ".", start=start, end=start + len(MEET) + 1, score=1.0)
    cit = Citation(key=1, article_id="a1", chunk_id="c1", quote=ev.text, start=ev.start, end=ev.end, support=0.9)
    text = f"No. {MEET} [1]. The briefings don't say when, but Putin agreed to a ceasefire."
    answer = Answer(question="q", text=text, answerable=True, citations=[cit], passages=[], evidence=[ev], raw_text=text)
    item = EvalItem(id="x", question="q", answerable=True)
    case = score_case(item, answer, [], set(), {"a1": body}, EntailmentJudge(StandInChecker()))
    # "No." stands on the sentence it opens, and reverses it: that whole sentence is judged.
    assert [s["text"][:12] for s in case.sentences] == ["No. Dmitriev", "The briefing"]
    assert [s["supported"] for s in case.sentences] == [False, False]
    assert "polarity" in case.sentences[0]["why"]
    assert case.metrics["citations.alce_recall"] == 0.0
    assert case.counts["sentences_shown"] == 2 and case.counts["sentences_unverified"] == 1
    refusal = Answer(question="q", text=REFUSAL, answerable=False, citations=[], passages=[])
    empty = score_case(item, refusal, [], set(), {}, EntailmentJudge(StandInChecker()))
    assert empty.counts["sentences_shown"] == 0 and "citations.alce_recall" not in empty.metrics


def test_eval_judge_reads_the_committed_faithfulness_set_as_its_own_loader_does():
    from evals import faithfulness_data

    from ..conftest import ROOT

    path = ROOT / "evals" / "datasets" / "faithfulness.jsonl"
    for split in (None, "test"):
        ours, theirs = load_claims(path, split), faithfulness_data.load(path, split)
        assert [(r.claim, r.supported, r.kind) for r in ours] == \
            [(t.claim, t.label == "supported", t.kind) for t in theirs]


def test_eval_judge_gives_the_checker_a_rows_context_as_the_product_does(tmp_path):
    """A row may carry the text the product lends the checker for names (the cited briefing's headline and
    other sentences); the set written with each row's whole article measures the checker in that regime."""
    from assistant.answer.entailment import Checker
    from evals import faithfulness_data

    from ..support.fakes import FakeEmbedder

    ev = "Then, in May 2017, it was announced that ABC was making a bid to revive the program."
    rows = [{"id": "a", "claim": "In May 2017 ABC was bidding to revive American Idol.", "evidence": [ev],
             "label": "supported", "kind": "true", "context": "American Idol"},
            {"id": "b", "claim": "In May 2017 it was announced that CBS was making a bid to revive American Idol.", "evidence": [ev],
             "label": "unsupported", "kind": "entity", "context": "American Idol CBS"}]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    judge = EntailmentJudge(Checker(embedder=FakeEmbedder(), skip=("similarity",)), label="guards")
    res = run_eval_judge(judge, path, out=None)
    assert res["keep_rate"] == 1.0 and res["reject_rate"]["entity"] == 1.0, res["errors"]
    bare = run_eval_judge(judge, _without_context(path, tmp_path), out=None)
    assert bare["keep_rate"] == 0.0  # without the headline, "American Idol" is not in the cited sentence
    out = tmp_path / "with_context.jsonl"
    assert faithfulness_data.main(["--with-context", str(out)]) == 0
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(written) == len(faithfulness_data.load()) and all(r["context"] for r in written)
    assert all(s in r["context"] for r in written for s in r["evidence"] if r["kind"] == "true")
    assert faithfulness_data.main(["--with-context", str(out), "--title-only"]) == 0
    titles = [json.loads(line)["context"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert "American Idol" in titles and all(len(t) < 120 for t in titles)


def _without_context(path, tmp_path):
    out = tmp_path / "bare.jsonl"
    out.write_text("".join(json.dumps({k: v for k, v in json.loads(line).items() if k != "context"}) + "\n"
                           for line in path.read_text(encoding="utf-8").splitlines()), encoding="utf-8")
    return out


def test_naive_plain_prompt_has_no_refusal_instruction(fake_assistant, seed_dir):
    from assistant.evaluation.naive import NaivePipeline

    from ..support.fakes import ScriptedChat

    fake_assistant.ingest([seed_dir])
    chat = ScriptedChat(["Witkoff [1].", "Witkoff [2]."])
    NaivePipeline(fake_assistant, chat).ask("Who will Dmitriev meet?")
    plain = NaivePipeline(fake_assistant, chat, prompt="naive_answer_plain").ask("Who will Dmitriev meet?")
    assert REFUSAL in chat.history[0][0]["content"] and REFUSAL not in chat.history[1][0]["content"]
    assert plain.answerable and plain.citations[0].key == 2 and len(plain.evidence) == 4
