"""Inline SVG plots for the eval reports, drawn here (no plotting library): metric bars with gate
ticks, the latency distribution, and metric deltas against a baseline."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Sequence

from .results import HEADLINE, get

if TYPE_CHECKING:
    from .results import CaseResult, EvalResult

LAT_STAGES = ("retrieve", "generate", "postprocess", "total")


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




def delta_svg(comparison: dict[str, Any], metrics: Sequence[tuple[str, str]]) -> str:
    """Bars of (run - baseline) per metric around a zero line: green better, red worse."""
    by = {d["metric"]: d for d in comparison.get("deltas", [])}
    rows = [(label, by[path]) for path, label in metrics if path in by and by[path]["delta"] is not None]
    left, half, row_h = 190, 180, 22
    h = row_h * max(1, len(rows)) + 30
    top = max([abs(d["delta"]) for _, d in rows] + [0.05])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + 2 * half + 80}" height="{h}" '
             f'font-family="sans-serif" font-size="12" role="img" aria-label="metric deltas against the baseline">']
    mid = left + half
    parts.append(f'<line x1="{mid}" y1="4" x2="{mid}" y2="{h - 20}" stroke="#888"/>'
                 f'<text x="{left}" y="{h - 6}" fill="#666">-{top:.2g}</text>'
                 f'<text x="{mid}" y="{h - 6}" text-anchor="middle" fill="#666">0</text>'
                 f'<text x="{mid + half}" y="{h - 6}" text-anchor="end" fill="#666">+{top:.2g}</text>')
    for i, (label, d) in enumerate(rows):
        y = 8 + i * row_h
        w = half * abs(d["delta"]) / top
        x = mid if d["delta"] >= 0 else mid - w
        color = "#999" if d["better"] is None else ("#27ae60" if d["better"] else "#c0392b")
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{html.escape(label)}</text>'
                     f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row_h - 6}" fill="{color}">'
                     f'<title>{d["old"]:.3f} -&gt; {d["new"]:.3f}</title></rect>'
                     f'<text x="{mid + half + 6}" y="{y + 13}">{d["delta"]:+.3f}</text>')
    if not rows:
        parts.append(f'<text x="{mid}" y="20" text-anchor="middle" fill="#999">no metric in common</text>')
    parts.append("</svg>")
    return "".join(parts)
