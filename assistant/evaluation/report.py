"""Eval reports: report.json for machines; report.md and a self-contained report.html for people.

Plots are inline SVG drawn here (no plotting library). Every piece of article, question or model
text that reaches the HTML goes through html.escape.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .plots import delta_svg, latency_svg, metric_bars_svg
from .results import COUNTS, HEADLINE, SELF_GRADED, get

if TYPE_CHECKING:
    from .results import CaseResult, EvalResult

__all__ = ["HEADLINE", "delta_svg", "fmt", "get", "html_page", "judge_line", "label", "latency_svg", "markdown",
           "metric_bars_svg", "worst_cases", "write_all"]

def judge_line(meta: dict[str, Any]) -> str:
    """'citation judge X: measured accuracy A (kappa K) on N labelled claims' or why it is unknown."""
    j = meta.get("judge", {}) or {}
    m = j.get("measured")
    name = j.get("name", "?")
    if not m:
        return f"citation judge {name}: accuracy not measured (run `briefing eval-judge`)"
    same = "" if m.get("same_judge") else f" [measured for {m.get('judge')}]"
    line = (f"citation judge {name}: measured accuracy {fmt(m.get('accuracy'))}, kappa {fmt(m.get('kappa'))}, "
            f"keep rate {fmt(m.get('keep_rate'))} on {m.get('n')} labelled claims ({m.get('date', '')[:10]}){same}")
    b = j.get("measured_blind")
    if b:
        # The set the checker was never tuned on: the figure to read the self-graded numbers by.
        same = "" if b.get("same_judge") else f" [measured for {b.get('judge')}]"
        line += (f"; on the blind set ({b.get('file')}): accuracy {fmt(b.get('accuracy'))}, kappa {fmt(b.get('kappa'))}, "
                 f"keep rate {fmt(b.get('keep_rate'))} on {b.get('n')} claims ({b.get('date', '')[:10]}){same}")
    return line


def label(path: str, text: str, meta: dict[str, Any]) -> str:
    """A metric's label for the tables; a self-graded one carries the checker's measured accuracy beside it."""
    if path not in SELF_GRADED:
        return text
    j = meta.get("judge", {}) or {}
    m, b = j.get("measured") or {}, j.get("measured_blind") or {}
    return (f"{text}; the checker's measured accuracy: {fmt(m.get('accuracy'))} on labelled claims, "
            f"{fmt(b.get('accuracy'))} on the blind set")
WORST = 10


def write_all(result: "EvalResult", out: Path) -> dict[str, str]:
    """Write report.json, report.md (+ its SVG plots) and report.html into `out`, and each --config run's
    own reports into out/<name>/; return the main paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md", "html": out / "report.html"}
    bars, lat = metric_bars_svg(result), latency_svg(result.cases)
    delta = delta_svg(result.comparison, HEADLINE) if result.comparison else ""
    (out / "metrics.svg").write_text(bars, encoding="utf-8")
    (out / "latency.svg").write_text(lat, encoding="utf-8")
    if delta:
        (out / "delta.svg").write_text(delta, encoding="utf-8")
    paths["json"].write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown(result), encoding="utf-8")
    paths["html"].write_text(html_page(result, bars, lat, delta), encoding="utf-8")
    for name, variant in result.variants.items():
        write_all(variant, out / name)
    return {k: str(v) for k, v in paths.items()}


def fmt(value: Any, digits: int = 3) -> str:
    """A metric for display: 'n/a' for None."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def badness(case: "CaseResult") -> tuple[float, list[str]]:
    """How bad a case is (higher is worse) and why (compare.failures), for ordering the cases."""
    from .compare import failures

    why = failures(case)
    if case.error:
        return 5.0, why
    m, score = case.metrics, 0.0
    if case.gold_answerable != case.answered:
        score += 2.0
    for key, weight in (("correctness.answer_accuracy", 1.0), ("correctness.must_mention", 1.0),
                        ("correctness.must_not_mention", 1.0),
                        ("citations.alce_recall", 1.0), ("citations.alce_precision", 0.5),
                        ("correctness.token_f1", 0.25)):
        v = m.get(key)
        if v is not None and v < 1.0:
            score += weight * (1.0 - v)
    score += 0.5 * case.counts.get("sentences_unverified", 0)
    if m.get("retrieval.hits@10") == 0.0:
        score += 0.5
        why = why + ["no gold article in the top 10"]
    return score, why


def worst_cases(cases: Sequence["CaseResult"], n: int = WORST) -> list[tuple["CaseResult", float, list[str]]]:
    """The n worst cases with a positive badness, worst first (ties in dataset order)."""
    scored = [(c, *badness(c)) for c in cases]
    scored = [s for s in scored if s[1] > 0]
    return sorted(scored, key=lambda s: -s[1])[:n]


# --- Markdown -------------------------------------------------------------------------------


def _md(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _meta_lines(meta: dict[str, Any]) -> list[tuple[str, str]]:
    judge = meta.get("judge", {})
    return [("date", meta.get("date", "")), ("model", meta.get("model", "")),
            ("settings hash", meta.get("settings_hash", "")), ("dataset", meta.get("dataset", "")),
            ("dataset hash", meta.get("dataset_hash", "")), ("corpus hash", meta.get("corpus_hash", "")),
            ("questions", f"{meta.get('questions')} (limit {meta.get('limit')}, stratified {meta.get('stratified')}, seed {meta.get('seed')})"),
            ("embedder", meta.get("embedder", "")), ("judge", judge.get("name", "")),
            ("judge measured", judge_line(meta)), ("config", json.dumps(meta.get("config") or "default")),
            ("temperature / seed", f"{meta.get('temperature')} / {meta.get('llm_seed')}")]


def _columns(result: "EvalResult") -> tuple[list[str], list[dict[str, Any]]]:
    return ["default", *result.variants], [result.metrics, *(v.metrics for v in result.variants.values())]


def markdown(result: "EvalResult") -> str:
    """The human report as Markdown (plots referenced as metrics.svg, latency.svg, delta.svg)."""
    m, lines = result.metrics, ["# Eval report", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {_md(v)} |" for k, v in _meta_lines(result.meta)]
    lines += [""] + [f"> warning: {_md(w)}" for w in result.meta.get("warnings", [])]
    names, runs = _columns(result)
    lines += ["", "## Metrics", "", f"> {_md(judge_line(result.meta))}", "", "![metric bars](metrics.svg)", "",
              "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {_md(label(path, text, result.meta))} (`{path}`) | " + " | ".join(fmt(get(r, path)) for r in runs) + " |"
              for path, text in HEADLINE + COUNTS]
    lines.append("| latency p50 s | " + " | ".join(fmt(r["cost"]["latency_s"]["total"]["p50"], 1) for r in runs) + " |")
    if m.get("by_type"):
        keys = ["n", "answer_accuracy", "exact_match", "token_f1", "choice_accuracy", "refusal_f1", "answer_rate"]
        lines += ["", "## By question type", "", "| type | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        lines += [f"| {_md(t)} | " + " | ".join(fmt(row.get(k)) for k in keys) + " |" for t, row in m["by_type"].items()]
    if any(r.get("failures") for r in runs):
        from .failures import CAUSES

        lines += ["", "## Why answers were wrong (first stage that lost the gold answer; failures.py)", "",
                  "| cause | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        lines += [f"| {c} | " + " | ".join(str((r.get("failures") or {}).get(c, "")) for r in runs) + " |"
                  for c in (*CAUSES, "right")]
    conf = m["refusals"]["confusion"]
    lines += ["", "## Refusals", "", "| gold \\ assistant | answered | refused |", "|---|---|---|",
              f"| answerable | {conf['answerable']['answered']} | {conf['answerable']['refused']} |",
              f"| unanswerable | {conf['unanswerable']['answered']} | {conf['unanswerable']['refused']} |"]
    lines += ["", "## Cost", "", "![latency distribution](latency.svg)", "",
              "| stage | n | mean s | p50 s | p90 s | max s |", "|---|---|---|---|---|---|"]
    for stage, d in m["cost"]["latency_s"].items():
        lines.append(f"| {stage} | {d['n']} | {fmt(d['mean'])} | {fmt(d['p50'])} | {fmt(d['p90'])} | {fmt(d['max'])} |")
    t = m["cost"]["tokens"]
    lines += ["", f"Tokens: {t['prompt_tokens']} prompt, {t['completion_tokens']} completion."]
    if result.gates:
        lines += ["", "## Gates", "", "| metric | limit | value | result |", "|---|---|---|---|"]
        lines += [f"| `{g['metric']}` | {g['op']} {g['threshold']:g} | {fmt(g['value'])} | "
                  f"{'pass' if g['passed'] else '**FAIL**'}{' (' + g['note'] + ')' if g['note'] else ''} |"
                  for g in result.gates]
    if result.comparison:
        from .compare import summary_lines

        lines += ["", "## Against the baseline", "", "![metric deltas](delta.svg)", "", "```"]
        lines += summary_lines(result.comparison, tuple(p for p, _ in HEADLINE + COUNTS), limit=50)
        lines.append("```")
    lines += ["", "## Worst cases", ""]
    worst = worst_cases(result.cases)
    if not worst:
        lines.append("None: every case passed every check.")
    for c, score, why in worst:
        lines += [f"### {_md(c.id)}: {_md(c.question)}", "", f"- why: {_md('; '.join(why))}",
                  f"- answer: {_md(c.answer or c.error)}"]
        if c.reference:
            lines.append(f"- gold: {_md(c.reference)}")
        for s in c.sentences:
            verdict = "supported" if s["supported"] else f"NOT supported ({_md(s.get('why', ''))})"
            lines.append(f"- sentence {s.get('keys', [])}: {_md(s['text'])} -> {verdict}")
        lines.append("")
    return "\n".join(lines) + "\n"


# --- HTML -----------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f4f4f4}mark{background:#fde68a}.fail{color:#c0392b;font-weight:bold}.ok{color:#27ae60}.muted{color:#777}
.cites li{margin-bottom:.4rem}.ctx{font-size:.9em}code{font-size:.85em}details{margin:.3rem 0}"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def html_page(result: "EvalResult", bars_svg: str, latency_svg_: str, delta_svg_: str = "") -> str:
    """One self-contained page: provenance, metrics (one column per config), the judge's measured
    accuracy, by type, refusals, latency, gates, the baseline comparison, then every case."""
    m = result.metrics
    out = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Eval report</title>",
           f"<style>{_CSS}</style></head><body><h1>Eval report</h1><table>"]
    out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _meta_lines(result.meta)]
    out.append("</table>")
    out += [f"<p class='fail'>warning: {_e(w)}</p>" for w in result.meta.get("warnings", [])]
    names, runs = _columns(result)
    out += ["<h2>Metrics</h2>", f"<p><b>{_e(judge_line(result.meta))}</b></p>", bars_svg,
            "<table><tr><th>metric</th>" + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr>"]
    out += [f"<tr><td>{_e(label(path, text, result.meta))} <code>{_e(path)}</code></td>"
            + "".join(f"<td>{_e(fmt(get(r, path)))}</td>" for r in runs) + "</tr>" for path, text in HEADLINE + COUNTS]
    out.append("</table>")
    if m.get("by_type"):
        keys = ["n", "answer_accuracy", "exact_match", "token_f1", "choice_accuracy", "refusal_f1", "answer_rate"]
        out.append("<h2>By question type</h2><table><tr><th>type</th>" + "".join(f"<th>{k}</th>" for k in keys) + "</tr>")
        out += [f"<tr><td>{_e(t)}</td>" + "".join(f"<td>{_e(fmt(row.get(k)))}</td>" for k in keys) + "</tr>"
                for t, row in m["by_type"].items()]
        out.append("</table>")
    conf = m["refusals"]["confusion"]
    out += ["<h2>Refusals</h2><table><tr><th>gold \\ assistant</th><th>answered</th><th>refused</th></tr>",
            f"<tr><th>answerable</th><td>{conf['answerable']['answered']}</td><td>{conf['answerable']['refused']}</td></tr>",
            f"<tr><th>unanswerable</th><td>{conf['unanswerable']['answered']}</td><td>{conf['unanswerable']['refused']}</td></tr></table>",
            "<h2>Cost</h2>", latency_svg_,
            "<table><tr><th>stage</th><th>n</th><th>mean s</th><th>p50 s</th><th>p90 s</th><th>max s</th></tr>"]
    for stage, d in m["cost"]["latency_s"].items():
        out.append(f"<tr><td>{_e(stage)}</td><td>{d['n']}</td><td>{fmt(d['mean'])}</td><td>{fmt(d['p50'])}</td>"
                   f"<td>{fmt(d['p90'])}</td><td>{fmt(d['max'])}</td></tr>")
    t = m["cost"]["tokens"]
    out.append(f"</table><p>Tokens: {t['prompt_tokens']} prompt, {t['completion_tokens']} completion.</p>")
    if result.gates:
        out.append("<h2>Gates</h2><table><tr><th>metric</th><th>limit</th><th>value</th><th>result</th></tr>")
        for g in result.gates:
            verdict = "pass" if g["passed"] else "<span class='fail'>FAIL</span>"
            note = f" <span class='muted'>({_e(g['note'])})</span>" if g["note"] else ""
            out.append(f"<tr><td><code>{_e(g['metric'])}</code></td><td>{_e(g['op'])} {g['threshold']:g}</td>"
                       f"<td>{_e(fmt(g['value']))}</td><td>{verdict}{note}</td></tr>")
        out.append("</table>")
    if result.comparison:
        out += ["<h2>Against the baseline</h2>", f"<p>{_e(result.comparison['baseline'])} "
                f"({_e(result.comparison['baseline_date'])})</p>", delta_svg_, _changed_table(result.comparison)]
    out += ["<h2>Cases</h2><p class='muted'>Failed cases first, worst first. Each shown sentence with its "
            "citations and the judge's verdict.</p>", _cases_html(result.cases), "</body></html>"]
    return "\n".join(out) + "\n"


def _changed_table(comparison: dict[str, Any]) -> str:
    if not comparison["changed"]:
        return "<p>No case changed its outcome.</p>"
    rows = ["<table><tr><th>case</th><th>change</th><th>why</th><th>answer before / now</th></tr>"]
    for c in comparison["changed"]:
        cls = "fail" if c["kind"] == "regression" else "ok"
        rows.append(f"<tr><td><b>{_e(c['id'])}</b> {_e(c['question'])}</td><td class='{cls}'>{_e(c['kind'])}</td>"
                    f"<td>{_e('; '.join(c['why']))}</td><td>{_e(c['old_answer'])}<hr>{_e(c['new_answer'])}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _cases_html(cases: Sequence["CaseResult"]) -> str:
    ordered = sorted(((c, *badness(c)) for c in cases), key=lambda s: -s[1])
    rows = ["<table><tr><th>question</th><th>answer: each shown sentence, its citations, the judge's verdict</th>"
            "<th>gold</th><th>outcome</th></tr>"]
    for c, score, why in ordered:
        gold = "answerable" if c.gold_answerable else "unanswerable"
        q = f"<b>{_e(c.id)}</b> <span class='muted'>({gold}{', ' + _e(c.qtype) if c.qtype else ''})</span><br>{_e(c.question)}"
        if c.standalone_question and c.standalone_question != c.question:
            q += f"<br><span class='muted'>as: {_e(c.standalone_question)}</span>"
        if c.error:
            answer = f"<span class='fail'>{_e(c.error)}</span>"
        elif not c.sentences:
            answer = _e(c.answer) + ("" if c.answered else " <span class='muted'>(refused)</span>")
        else:
            answer = "<ol>" + "".join(_sentence_html(s, c.citations) for s in c.sentences) + "</ol>"
        missing = [e["quote"] for e in c.evidence if not e["retrieved"]]
        if missing:
            answer += "<p class='muted'>gold evidence not retrieved: " + " / ".join(_e(x) for x in missing) + "</p>"
        gold_html = _e(c.reference or "") + (f"<br><span class='muted'>choices: {_e(' | '.join(c.choices))}</span>" if c.choices else "")
        verdict = ("<span class='ok'>pass</span>" if not why else
                   "<span class='fail'>fail</span><br>" + "<br>".join(_e(w) for w in why))
        rows.append(f"<tr><td>{q}</td><td>{answer}</td><td>{gold_html}</td><td>{verdict}"
                    f"<br><span class='muted'>{c.timings.get('total', 0):.1f} s</span></td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _sentence_html(s: dict[str, Any], citations: Sequence[dict[str, Any]]) -> str:
    mark = "<span class='ok'>supported</span>" if s["supported"] else f"<span class='fail'>not supported</span> {_e(s.get('why', ''))}"
    if not s.get("verified", True):
        mark += " <span class='fail'>no verbatim citation</span>"
    cites = []
    for key in s.get("keys", []):
        cit = next((x for x in citations if x["key"] == key), None)
        if cit is None:
            cites.append(f"<li>[{key}] <span class='fail'>no citation object</span></li>")
            continue
        span = (f"{_e(cit['before'][-120:])}<mark>{_e(cit['quote'])}</mark>{_e(cit['after'][:120])}" if cit["verbatim"]
                else f"<span class='fail'>not verbatim:</span> {_e(cit['quote'])}")
        cites.append(f"<li>[{key}] {_e(cit.get('title', ''))} <code>{_e(cit['article_id'])}</code> "
                     f"<div class='ctx'>\u2026{span}\u2026</div></li>")
    sim = f" <span class='muted'>similarity {s['similarity']:.2f}</span>" if s.get("similarity") is not None else ""
    return f"<li>{_e(s['text'])} — {mark}{sim}<ul class='cites'>{''.join(cites)}</ul></li>"
