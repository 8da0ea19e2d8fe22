"""Answer latency with the bundled model, warm: when the first checked sentence appears and what the checks cost.

    python -m evals.bench_answers [--styles quote,prose] [--modes single,chat] [--out bench]   (part of `make bench`)

For each answer style, the seed questions (evals/datasets/seed_briefing.jsonl, first turn only) are
asked over the sample briefing after one warm-up question, so the model is loaded and its system
prompt cached. Mode `single` asks each question alone (the CLI, the Python API); mode `chat` asks them
as one conversation, each with the turns before it as history, as the chat page does, so each question
after the first also pays for the rewrite into a standalone question. Recorded per question: first
checked sentence (`first_shown_s`), whole answer, the draft's first token, model draft time, check
time (guards + judge calls) and the number of judge calls; medians per style and mode. The load
average and the local server's settings are recorded with every run: on a shared 2-core machine
they decide the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "evals" / "datasets" / "seed_briefing.jsonl"


def measure(style: str, questions: list[str], mode: str = "single") -> dict:
    """Ask every question once in `style` after a warm-up; per-question timings and medians."""
    from assistant import Assistant
    from assistant.app.handlers import HISTORY_KEEP

    with tempfile.TemporaryDirectory() as tmp, Assistant.from_settings(data_dir=tmp, answer={"style": style}) as a:
        a.ingest([ROOT / "examples" / "briefings"])
        a.ask("What did the Russian diplomat tell The Moscow Times?")  # warm-up: server up, system prompt cached
        rows, history = [], []
        for q in questions:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            ans = a.ask(q, history=history[-HISTORY_KEEP:] or None)
            t = ans.timings
            rows.append({"question": q, "answerable": ans.answerable, "text": ans.text,
                         "first_shown_s": t.get("first_shown_s"), "total_s": round(time.perf_counter() - t0, 2),
                         "rewrite_s": t.get("rewrite_s"), "first_token_s": t.get("first_token_s"),
                         "draft_s": t.get("generate_s"), "check_s": t.get("check_s", 0.0),
                         "judge_calls": ans.usage.get("judge_calls", 0), "load1": round(load, 2)})
            if mode == "chat":
                history += [{"role": "user", "content": q}, {"role": "assistant", "content": ans.text}]
        local = a.settings.local
    shown = [r["first_shown_s"] for r in rows if r["first_shown_s"] is not None]
    return {"style": style, "mode": mode, "questions": rows,
            "local": {"prompt_cache_mb": local.prompt_cache_mb, "n_threads": local.n_threads,
                      "flash_attn": local.flash_attn, "cpus": os.cpu_count()},
            "median_first_shown_s": round(statistics.median(shown), 2) if shown else None,
            "median_total_s": round(statistics.median(r["total_s"] for r in rows), 2),
            "median_check_s": round(statistics.median(r["check_s"] for r in rows), 2),
            "max_check_s": max(r["check_s"] for r in rows)}


def markdown(results: list[dict]) -> str:
    """A table per style."""
    out = ["# Answer latency, bundled model, warm", "",
           "Seconds from the question. `first shown` = first sentence that passed the checks; `first token` = the draft's",
           "first token (the prompt read); `draft` = the draft request, prompt included; `check` = guards +",
           "model-judge calls after the draft; `rewrite` = making a follow-up standalone (chat mode). load1 = 1-minute",
           "load average when the question was asked (the bench itself keeps ~2 cores busy).", ""]
    for res in results:
        mode = res.get("mode", "single")
        out += [f"## style `{res['style']}`, {mode}: median first shown {res['median_first_shown_s']} s, "
                f"whole answer {res['median_total_s']} s, checks {res['median_check_s']} s (max {res['max_check_s']})", "",
                f"Local server: {json.dumps(res.get('local', {}))}.", "",
                "| question | first shown | whole | rewrite | first token | draft | check | judge calls | load1 | answered |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["questions"]:
            out.append(f"| {r['question']} | {r['first_shown_s']} | {r['total_s']} | {r.get('rewrite_s')} | "
                       f"{r.get('first_token_s')} | {r['draft_s']} | {r['check_s']} | "
                       f"{r['judge_calls']} | {r['load1']} | {'yes' if r['answerable'] else 'refused'} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the styles asked for and write bench/answers.{json,md}."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", default="quote,prose")
    ap.add_argument("--modes", default="single,chat", help="single (each question alone), chat (one conversation)")
    ap.add_argument("--limit", type=int, default=0, help="at most N seed questions")
    ap.add_argument("--out", default=str(ROOT / "bench"))
    args = ap.parse_args(argv)
    rows = [json.loads(x) for x in SEED.read_text(encoding="utf-8").splitlines() if x.strip()]
    questions = [r["question"] for r in rows if not r.get("history")]
    if args.limit:
        questions = questions[: args.limit]
    results = [measure(style, questions, mode) for style in args.styles.split(",") for mode in args.modes.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "answers.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / "answers.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
