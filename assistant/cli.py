"""The `briefing` command: ingest | search | articles | delete | ask | timeline | chat | eval | stop-model.

Expected failures (AssistantError) become one line on stderr naming the fix, exit code 1;
a traceback only with BRIEFING_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any, Sequence

from .errors import AssistantError


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="library folder (default: BRIEFING_DATA_DIR or ~/.local/share/briefing-assistant)")
    common.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (BRIEFING_CHROMA_URL)")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--since", help="only briefings published on/after this date (YYYY-MM-DD)")
    filters.add_argument("--until", help="only briefings published on/before this date")
    filters.add_argument("--source", action="append", help="only this source (repeatable)")
    filters.add_argument("--as-of", help="answer as of this date: later briefings are ignored")

    p = argparse.ArgumentParser(prog="briefing", description="Cited answers over news briefings.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("ingest", parents=[common], help="add files, folders or web pages (http/https URLs) to the library")
    s.add_argument("paths", nargs="*", help="files, folders or http(s) URLs of articles")
    s.add_argument("--feed", help="also read this RSS/Atom feed and add the items not in the library yet")
    s.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    s = sub.add_parser("search", parents=[common, filters], help="show the passages that match a question")
    s.add_argument("question")
    s.add_argument("--k", type=int, default=10)
    s.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("articles", parents=[common], help="list the library")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("delete", parents=[common], help="remove an article by id")
    s.add_argument("article_id")
    s = sub.add_parser("ask", parents=[common, filters], help="answer a question with citations")
    s.add_argument("question")
    s.add_argument("--k", type=int, default=None, help="passages to read (default BRIEFING_ANSWER_K)")
    s.add_argument("--json", action="store_true", help="print the Answer as JSON and nothing else")
    s = sub.add_parser("timeline", parents=[common, filters], help="answer for each briefing date, then what changed")
    s.add_argument("question")
    s.add_argument("--k", type=int, default=None, help="passages to read per date (default BRIEFING_ANSWER_K)")
    s.add_argument("--max-dates", type=int, default=None, help="answer at most this many dates (default 6)")
    s.add_argument("--json", action="store_true", help="print the list of Answers as JSON and nothing else")
    s = sub.add_parser("chat", parents=[common], help="open the chat page in the browser")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--share", action="store_true", help="public Gradio link (off unless asked)")
    s.add_argument("--no-auth", action="store_true",
                   help="serve a non-loopback host or share link without BRIEFING_AUTH (refused unless given)")
    s.add_argument("--ingest", nargs="*", default=[], help="files/folders to ingest before opening")
    sub.add_parser("stop-model", parents=[common],
                   help="stop the local model server kept warm by BRIEFING_LOCAL__KEEP_WARM=true")
    s = sub.add_parser("eval", help="score the assistant on a questions dataset (fresh temporary store)")
    from .evaluation.command import add_arguments as _eval_arguments

    _eval_arguments(s)
    s = sub.add_parser("eval-judge", help="measure the citation judge on the labelled faithfulness set")
    from .evaluation.command import add_judge_arguments as _judge_arguments

    _judge_arguments(s)
    return p


def _assistant(args: argparse.Namespace) -> Any:
    from .assistant import Assistant

    return Assistant.from_settings(data_dir=args.data_dir, chroma_url=args.chroma_url)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("since", "until", "as_of"):
        if getattr(args, key, None):
            out[key] = getattr(args, key)
    if getattr(args, "source", None):
        out["sources"] = args.source
    return out


def _print_json(value: Any) -> None:
    from .types import Answer, to_jsonable

    # The model's raw draft and the sentences the checks dropped are shown only when debugging.
    debug = os.environ.get("BRIEFING_DEBUG") == "1"

    def plain(v: Any) -> Any:
        if isinstance(v, Answer):
            return v.to_dict(debug=debug)
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return to_jsonable(v)

    json.dump(plain(value), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _run(args: argparse.Namespace) -> int:
    if args.command == "eval":
        from .evaluation.command import run as _eval

        return _eval(args)
    if args.command == "eval-judge":
        from .evaluation.command import run_judge as _eval_judge

        return _eval_judge(args)
    if args.command == "chat":
        from .ui import launch

        launch(data_dir=args.data_dir, chroma_url=args.chroma_url, host=args.host, port=args.port,
               share=args.share, ingest=args.ingest, no_auth=args.no_auth)
        return 0
    if args.command == "stop-model":
        from .config import load_settings
        from .local_llm import stop_warm_server

        stopped = stop_warm_server(load_settings(data_dir=args.data_dir).data_dir)
        print("stopped the warm local model server" if stopped else "no warm local model server was running")
        return 0
    if args.command == "ingest" and not args.paths and not args.feed:
        print("briefing: give files, folders or URLs to ingest, or --feed URL", file=sys.stderr)
        return 2
    with _assistant(args) as a:
        if args.command == "ingest":
            report = a.ingest(args.paths, feed=args.feed)
            if args.json:
                _print_json(report)
            else:
                print(report)
            return 0 if report.ok or (report.added or report.updated or report.unchanged) else 1
        if args.command == "search":
            passages = a.search(args.question, k=args.k, mode=args.mode, **_filters(args))
            if args.json:
                _print_json(passages)
            else:
                for i, p in enumerate(passages, 1):
                    date = p.published_at.date().isoformat() if p.published_at else "undated"
                    print(f"{i}. {p.title} ({date}) {p.section}\n   {' '.join(p.text.split())[:300]}\n   [{p.article_id} {p.start}:{p.end} score {p.score:.4f}]")
            return 0
        if args.command == "articles":
            items = a.articles()
            if args.json:
                _print_json(items)
            else:
                for art in items:
                    date = art.published_at.date().isoformat() if art.published_at else "undated"
                    print(f"{art.id}  {date}  {art.chunk_count:>3} chunks  {art.title}")
            return 0
        if args.command == "delete":
            if not a.delete(args.article_id):
                print(f"briefing: no article with id {args.article_id!r} (see `briefing articles`)", file=sys.stderr)
                return 1
            print(f"deleted {args.article_id}")
            return 0
        if args.command == "ask":
            return _ask(a, args)
        if args.command == "timeline":
            return _timeline(a, args)
    return 2


def _ask(a: Any, args: argparse.Namespace) -> int:
    from .types import AnswerEvent, EvidenceEvent, StatusEvent, TextDelta

    answer = None
    streamed = ""
    for event in a.ask_stream(args.question, k=args.k, **_filters(args)):
        if args.json:
            if isinstance(event, AnswerEvent):
                answer = event.answer
            continue
        if isinstance(event, EvidenceEvent):
            # Evidence first, on stderr, so the user reads while the model thinks; stdout stays the answer.
            print("Evidence:", file=sys.stderr)
            for e in event.evidence:
                print(f"  [{e.key}] {e.text}", file=sys.stderr)
        elif isinstance(event, StatusEvent):
            print(event.text, file=sys.stderr, flush=True)
        elif isinstance(event, TextDelta):
            # Each sentence as soon as it has passed the checks; nothing unchecked is printed.
            streamed += event.text
            print(event.text, end="", flush=True)
        elif isinstance(event, AnswerEvent):
            answer = event.answer
    if args.json:
        _print_json(answer)
        return 0
    if streamed and answer.text == streamed:
        print()
        print(answer.sources_text())
    else:
        if streamed:
            print()
        print(answer)
    for note in answer.notes:
        print(f"Note: {note}", file=sys.stderr)
    return 0


def _timeline(a: Any, args: argparse.Namespace) -> int:
    from .timeline import TimelinePlan, format_timeline
    from .types import Answer

    entries = []
    for item in a.timeline_stream(args.question, k=args.k, max_dates=args.max_dates, **_filters(args)):
        if isinstance(item, TimelinePlan) and not args.json:
            print(f"Dates with evidence: {', '.join(item.dates) or 'none'}", file=sys.stderr, flush=True)
        elif isinstance(item, Answer):
            entries.append(item)
    if args.json:
        _print_json(entries)
    else:
        print(format_timeline(entries))
    return 0


def _print_traceback_without_secrets() -> None:
    """The debug traceback with API keys and the login password masked: the chained exceptions of an
    HTTP client quote whatever the server sent back, and a server may echo the key it was given."""
    import traceback

    secrets = [os.environ.get(v, "") for v in ("OPENAI_API_KEY", "BRIEFING_LLM__API_KEY")]
    secrets += [os.environ.get(v, "").partition(":")[2] for v in ("BRIEFING_AUTH", "BRIEFING_UI__AUTH")]
    try:
        from .config import load_settings

        s = load_settings()
        secrets += [s.llm.api_key.get_secret_value() if s.llm.api_key else "",
                    s.ui.auth.get_secret_value().partition(":")[2] if s.ui.auth else ""]
    except AssistantError:
        pass
    text = traceback.format_exc()
    for secret in sorted({x for x in secrets if len(x) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    print(text, file=sys.stderr, end="")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `briefing` console script."""
    args = _parser().parse_args(argv)
    # SIGTERM runs the same exit path as Ctrl-C, so atexit stops a local model server we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run(args)
    except AssistantError as exc:
        if os.environ.get("BRIEFING_DEBUG") == "1":
            _print_traceback_without_secrets()
            return 1
        print(f"briefing: {exc.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("briefing: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
