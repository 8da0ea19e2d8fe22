"""False positives of the echo filter (assistant/answer/injection.py drop_echoes) on legitimate text.

drop_echoes removes answer sentences that repeat the system prompt (a leak obeying "print your
instructions") or use a word only a hidden order contained. A legitimate sentence it removes is a
false positive: the user loses a true, cited statement. This script runs every sentence of
  - the CLAPnq dev passages (597 Wikipedia passages, /work/shared/datasets/clapnq_dev/articles.jsonl),
  - the CLAPnq reference answers (answer-like paraphrases, questions.jsonl, answerable only),
  - the seed briefing (/work/shared/briefings/*.txt, else examples/briefings/),
through drop_echoes as if the model had written it, in two conditions:
  - "quoted":      the sentence is also the evidence (the model copied it), and
  - "paraphrased": the evidence is empty, the worst case (the model reworded it, so nothing it
                   shares with the prompt is excused by the evidence).
The prompt text is the answer prompt's system message as answering.py renders it, plus every
prompt file's text (so rules that move between the system and user message are covered too).
No orders are given: none of these texts contains one (tests/component/test_injection.py checks that).

    .venv/bin/python evals/echo_filter_fp.py [--prompts-dir DIR] [--out evals/results/echo_filter_fp.json]

The target is 0 false positives in every row.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answer.injection import drop_echoes  # noqa: E402
from assistant.sentences import sentence_spans  # noqa: E402

CLAPNQ = Path("/work/shared/datasets/clapnq_dev")
SEED_DIRS = (Path("/work/shared/briefings"), ROOT / "examples" / "briefings")
_VAR = re.compile(r"\{\{\s*\w+\s*\}\}")


def prompt_texts(prompts_dir: Path) -> dict[str, str]:
    """The texts the filter compares against: the answer system prompt alone, and all prompt files."""
    files = sorted(prompts_dir.glob("*.md"))
    answer = (prompts_dir / "answer.md").read_text()
    system = answer.split("@user", 1)[0].replace("@system", "")
    clean = lambda t: _VAR.sub(" ", t.replace("@system", " ").replace("@user", " "))  # noqa: E731
    return {"answer system prompt": clean(system), "all prompt files": "\n".join(clean(f.read_text()) for f in files)}


def corpora() -> dict[str, list[str]]:
    """Sentence lists by corpus name."""
    out: dict[str, list[str]] = {}
    arts = [json.loads(x) for x in (CLAPNQ / "articles.jsonl").read_text().splitlines() if x.strip()]
    out["clapnq passages"] = [s for a in arts for s in (a.get("sentences") or
                                                        [a["body"][i:j] for i, j in sentence_spans(a["body"])])]
    qs = [json.loads(x) for x in (CLAPNQ / "questions.jsonl").read_text().splitlines() if x.strip()]
    out["clapnq reference answers"] = [a["answer"][i:j] for a in qs if a.get("answerable")
                                       for i, j in sentence_spans(a["answer"])]
    seed = next(d for d in SEED_DIRS if d.is_dir())
    out["seed briefing"] = [t[i:j] for p in sorted(seed.glob("*.txt")) for t in [p.read_text()]
                            for i, j in sentence_spans(t)]
    return out


def measure(prompts_dir: Path) -> dict:
    """False positives per corpus, prompt text and condition, with up to 10 examples each."""
    rows = []
    for pname, ptext in prompt_texts(prompts_dir).items():
        for cname, sentences in corpora().items():
            for cond in ("quoted", "paraphrased"):
                dropped = []
                for s in sentences:
                    evidence = [s] if cond == "quoted" else []
                    _, gone = drop_echoes(s, [], evidence, "", ptext)
                    if gone:
                        dropped.append(s)
                rows.append({"prompt": pname, "corpus": cname, "condition": cond, "sentences": len(sentences),
                             "false_positives": len(dropped), "rate": round(len(dropped) / max(1, len(sentences)), 5),
                             "examples": dropped[:10]})
    # What it still catches: every prompt sentence of 4+ words, leaked as an answer sentence.
    leaks = {}
    for pname, ptext in prompt_texts(prompts_dir).items():
        lines = [ptext[i:j].strip("- ") for i, j in sentence_spans(ptext) if len(ptext[i:j].split()) >= 4]
        missed = [x for x in lines if not drop_echoes(x, [], [], "", ptext)[1]]
        leaks[pname] = {"leaked_sentences": len(lines), "caught": len(lines) - len(missed), "missed": missed}
    return {"prompts_dir": str(prompts_dir), "rows": rows, "leaks": leaks,
            "total_false_positives": sum(r["false_positives"] for r in rows)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts-dir", type=Path, default=ROOT / "prompts")
    ap.add_argument("--out", type=Path, default=ROOT / "evals" / "results" / "echo_filter_fp.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    result = measure(args.prompts_dir)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    for r in result["rows"]:
        print(f"{r['prompt']:>22} | {r['corpus']:>24} | {r['condition']:>11} | "
              f"{r['false_positives']:>4} / {r['sentences']:<6} ({r['rate']:.2%})")
    print(f"total false positives: {result['total_false_positives']}")
    for pname, leak in result["leaks"].items():
        print(f"prompt leaks caught ({pname}): {leak['caught']} / {leak['leaked_sentences']}; missed: {leak['missed']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0 if result["total_false_positives"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
