"""Eval reports: report.json for machines; report.md and a self-contained report.html for people.

Plots are inline SVG drawn here (no plotting library). Every piece of article, question or model
text that reaches the HTML goes through html.escape.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .runner import CaseResult, EvalResult

# (metric path, label) of the 0..1 metrics shown in the bar plot and the summary table.
HEADLINE = (
    ("retrieval.hits@5", "Hits@5"), ("retrieval.recall@10", "Recall@10"), ("retrieval.mrr@10", "MRR@10"),
    ("retrieval.evidence_hits@10", "Evidence hits@10"), ("citations.validity", "Citation validity"),
    ("citations.verbatim", "Verbatim quotes"), ("citations.alce_recall", "ALCE citation recall"),
    ("citations.alce_precision", "ALCE citation precision"), ("refusals.precision", "Refusal precision"),
    ("refusals.recall", "Refusal recall"), ("refusals.answer_rate", "Answer rate (answerable)"),
    ("correctness.must_mention", "must_mention pass"), ("correctness.token_f1", "Token F1"),
    ("correctness.rougeL", "ROUGE-L"),
)
LAT_STAGES = ("retrieve", "generate", "postprocess", "total")
WORST = 10


def write_all(result: "EvalResult", out: Path) -> dict[str, str]:
    """Write report.json, report.md (+ its two SVG plots) and report.html into `out`; return paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md", "html": out / "report.html"}
    bars, lat = metric_bars_svg(result), latency_svg(result.cases)
    (out / "metrics.svg").write_text(bars, encoding="utf-8")
    (out / "latency.svg").write_text(lat, encoding="utf-8")
    paths["json"].write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown(result), encoding="utf-8")
    paths["html"].write_text(html_page(result, bars, lat), encoding="utf-8")
    return {k: str(v) for k, v in paths.items()}


def get(metrics: dict[str, Any], path: str) -> Any:
    """A metric by dotted path ('citations.alce_recall'), None when absent."""
    node: Any = metrics
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def fmt(value: Any, digits: int = 3) -> str:
    """A metric for display: 'n/a' for None."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def badness(case: "CaseResult") -> tuple[float, list[str]]:
    """How bad a case is (higher is worse) and why, for the worst-cases table."""
    if case.error:
        return 5.0, [f"error: {case.error}"]
    m, score, why = case.metrics, 0.0, []
    if case.gold_answerable != case.answered:
        score += 2.0
        why.append("refused an answerable question" if case.gold_answerable else "answered an unanswerable question")
    if m.get("correctness.must_mention") == 0.0:
        score += 1.0
        why.append("missed " + ", ".join(f"/{p}/" for p in case.missed_patterns))
    for key, weight, label in (("citations.alce_recall", 1.0, "ALCE recall"),
                               ("citations.alce_precision", 0.5, "ALCE precision"),
                               ("correctness.token_f1", 0.5, "token F1")):
        v = m.get(key)
        if v is not None and v < 1.0:
            score += weight * (1.0 - v)
            if v < 0.5:
                why.append(f"{label} {v:.2f}")
    unknown = case.counts.get("keys_written", 0) - case.counts.get("keys_valid", 0)
    if unknown > 0:
        score += 0.25
        why.append(f"{unknown} unknown citation key(s) written")
    if m.get("retrieval.hits@10") == 0.0:
        score += 0.5
        why.append("no gold article in the top 10")
    return score, why


def worst_cases(cases: Sequence["CaseResult"], n: int = WORST) -> list[tuple["CaseResult", float, list[str]]]:
    """The n worst cases with a positive badness, worst first (ties in dataset order)."""
    scored = [(c, *badness(c)) for c in cases]
    scored = [s for s in scored if s[1] > 0]
    return sorted(scored, key=lambda s: -s[1])[:n]


# --- SVG ------------------------------------------------------------------------------------


def metric_bars_svg(result: "EvalResult") -> str:
    """Horizontal bars of the headline 0..1 metrics, with gate thresholds as red ticks."""
    limits = {g["metric"]: g["threshold"] for g in result.gates if g["op"] == ">="}
    rows = [(label, get(result.metrics, path), limits.get(path)) for path, label in HEADLINE]
    left, width, row_h = 190, 360, 22
    h = row_h * len(rows) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{h}" '
             f'font-family="sans-serif" font-size="12" role="img" aria-label="metric bars">']
    for x in (0, 0.25, 0.5, 0.75, 1.0):
        px = left + x * width
        parts.append(f'<line x1="{px:.1f}" y1="5" x2="{px:.1f}" y2="{h - 20}" stroke="#ddd"/>'
                     f'<text x="{px:.1f}" y="{h - 6}" text-anchor="middle" fill="#666">{x:g}</text>')
    for i, (label, value, limit) in enumerate(rows):
        y = 8 + i * row_h
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{html.escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 13}" fill="#999">n/a</text>')
        else:
            v = max(0.0, min(1.0, float(value)))
            color = "#c0392b" if limit is not None and v < limit else "#2e86c1"
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{v * width:.1f}" height="{row_h - 6}" fill="{color}"/>'
                         f'<text x="{left + v * width + 4:.1f}" y="{y + 13}">{v:.3f}</text>')
        if limit is not None:
            px = left + max(0.0, min(1.0, limit)) * width
            parts.append(f'<line x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + row_h - 2}" stroke="#c0392b" '
                         f'stroke-width="2"><title>threshold {limit:g}</title></line>')
    parts.append("</svg>")
    return "".join(parts)


def latency_svg(cases: Sequence["CaseResult"]) -> str:
    """Latency distribution: one dot per question per stage on a shared seconds axis, p50 marked."""
    from .metrics import percentile

    data = {s: [c.timings[s] for c in cases if not c.error and s in c.timings] for s in LAT_STAGES}
    top = max([v for vals in data.values() for v in vals] + [0.001])
    left, width, row_h = 90, 460, 34
    h = row_h * len(LAT_STAGES) + 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 30}" height="{h}" '
             f'font-family="sans-serif" font-size="12" role="img" aria-label="latency distribution">']
    for i in range(5):
        x = top * i / 4
        px = left + width * i / 4
        parts.append(f'<line x1="{px:.1f}" y1="4" x2="{px:.1f}" y2="{h - 22}" stroke="#ddd"/>'
                     f'<text x="{px:.1f}" y="{h - 8}" text-anchor="middle" fill="#666">{x:.3g}s</text>')
    for i, stage in enumerate(LAT_STAGES):
        y = 8 + i * row_h + row_h / 2
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{stage}</text>')
        for j, v in enumerate(data[stage]):
            jitter = ((j * 7) % 9 - 4) * 1.6
            parts.append(f'<circle cx="{left + width * v / top:.1f}" cy="{y + jitter:.1f}" r="3" '
                         f'fill="#2e86c1" fill-opacity="0.55"><title>{v:.3f}s</title></circle>')
        p50 = percentile(data[stage], 50)
        if p50 is not None:
            px = left + width * p50 / top
            parts.append(f'<line x1="{px:.1f}" y1="{y - 12:.1f}" x2="{px:.1f}" y2="{y + 12:.1f}" stroke="#111" '
                         f'stroke-width="2"><title>p50 {p50:.3f}s</title></line>')
    parts.append("</svg>")
    return "".join(parts)


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
            ("temperature / seed", f"{meta.get('temperature')} / {meta.get('llm_seed')}")]


def markdown(result: "EvalResult") -> str:
    """The human report as Markdown (plots referenced as metrics.svg and latency.svg)."""
    m, lines = result.metrics, ["# Eval report", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {_md(v)} |" for k, v in _meta_lines(result.meta)]
    lines += [""] + [f"> warning: {_md(w)}" for w in result.meta.get("warnings", [])]
    lines += ["", "## Metrics", "", "![metric bars](metrics.svg)", "", "| metric | value |", "|---|---|"]
    lines += [f"| {label} (`{path}`) | {fmt(get(m, path))} |" for path, label in HEADLINE]
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
    lines += ["", "## Worst cases", ""]
    worst = worst_cases(result.cases)
    if not worst:
        lines.append("None: every case passed every check.")
    for c, score, why in worst:
        lines += [f"### {_md(c.id)}: {_md(c.question)}", "", f"- why: {_md('; '.join(why))}",
                  f"- answer: {_md(c.answer or c.error)}"]
        for cit in c.citations:
            lines.append(f"- [{cit['key']}] `{cit['article_id']}` {cit['start']}:{cit['end']}: "
                         f"{_md(cit['before'][-60:])} **{_md(cit['quote'])}** {_md(cit['after'][:60])}")
        lines.append("")
    return "\n".join(lines) + "\n"


# --- HTML -----------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f4f4f4}mark{background:#fde68a}.fail{color:#c0392b;font-weight:bold}.muted{color:#777}
.cites li{margin-bottom:.4rem}.ctx{font-size:.9em}code{font-size:.85em}"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def html_page(result: "EvalResult", bars_svg: str, latency_svg_: str) -> str:
    """One self-contained page: provenance, metric bars, refusals, latency, gates, worst cases."""
    m = result.metrics
    out = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Eval report</title>",
           f"<style>{_CSS}</style></head><body><h1>Eval report</h1><table>"]
    out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _meta_lines(result.meta)]
    out.append("</table>")
    out += [f"<p class='fail'>warning: {_e(w)}</p>" for w in result.meta.get("warnings", [])]
    out += ["<h2>Metrics</h2>", bars_svg, "<table><tr><th>metric</th><th>value</th></tr>"]
    out += [f"<tr><td>{_e(label)} <code>{_e(path)}</code></td><td>{_e(fmt(get(m, path)))}</td></tr>"
            for path, label in HEADLINE]
    conf = m["refusals"]["confusion"]
    out += ["</table><h2>Refusals</h2><table><tr><th>gold \\ assistant</th><th>answered</th><th>refused</th></tr>",
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
    out += ["<h2>Worst cases</h2>", _worst_table(result.cases), "</body></html>"]
    return "\n".join(out) + "\n"


def _worst_table(cases: Sequence["CaseResult"]) -> str:
    worst = worst_cases(cases)
    if not worst:
        return "<p>None: every case passed every check.</p>"
    rows = ["<table><tr><th>question</th><th>answer</th><th>citations and source spans</th><th>why</th></tr>"]
    for c, score, why in worst:
        gold = "answerable" if c.gold_answerable else "unanswerable"
        q = f"<b>{_e(c.id)}</b> <span class='muted'>({gold})</span><br>{_e(c.question)}"
        if c.standalone_question and c.standalone_question != c.question:
            q += f"<br><span class='muted'>as: {_e(c.standalone_question)}</span>"
        answer = _e(c.answer or c.error)
        if c.reference:
            answer += f"<br><span class='muted'>reference: {_e(c.reference)}</span>"
        items = []
        for cit in c.citations:
            span = (f"{_e(cit['before'])}<mark>{_e(cit['quote'])}</mark>{_e(cit['after'])}" if cit["verbatim"]
                    else f"<span class='fail'>not verbatim:</span> {_e(cit['quote'])}")
            items.append(f"<li>[{cit['key']}] {_e(cit.get('title', ''))} <code>{_e(cit['article_id'])}</code> "
                         f"{cit['start']}:{cit['end']}"
                         f"<div class='ctx'>\u2026{span}\u2026</div></li>")
        missing = [e["quote"] for e in c.evidence if not e["retrieved"]]
        if missing:
            items.append("<li class='muted'>gold evidence not retrieved: " + " / ".join(_e(x) for x in missing) + "</li>")
        rows.append(f"<tr><td>{q}</td><td>{answer}</td><td><ul class='cites'>{''.join(items)}</ul></td>"
                    f"<td>{_e('; '.join(why))}<br><span class='muted'>score {score:.2f}</span></td></tr>")
    rows.append("</table>")
    return "".join(rows)
