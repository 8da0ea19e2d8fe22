"""The `briefing` command: ingest | reindex | search | articles | delete | ask | timeline | chat | serve | mcp | verify
| log | eval | doctor | server | stop-model.

Exit codes: 0 done; 1 an expected failure (AssistantError: one line on stderr naming the fix, a
traceback only with BRIEFING_DEBUG=1), or `doctor` found a problem; 2 bad usage; 3 `ingest` could not
read some inputs (listed under failed; every other input was stored); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any, Callable, Sequence

from ..errors import AssistantError

EXIT_INPUT_FAILED = 3  # ingest stored what it could read, but some inputs failed


def _parser() -> argparse.ArgumentParser:
    # Logging options work before or after the command (`briefing -v ingest …`, `briefing ingest -v …`);
    # SUPPRESS keeps a subcommand's unset copy from overwriting the top-level value.
    logging_opts = argparse.ArgumentParser(add_help=False)
    logging_opts.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                              help="show what happens: -v info, -vv debug (default BRIEFING_LOG_LEVEL)")
    logging_opts.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                              type=str.upper, default=argparse.SUPPRESS, help="log level of the assistant's messages")
    common = argparse.ArgumentParser(add_help=False, parents=[logging_opts])
    common.add_argument("--data-dir", help="library folder (default: BRIEFING_DATA_DIR or ~/.local/share/briefing-assistant)")
    common.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8100 (BRIEFING_CHROMA_URL)")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--since", help="only briefings published on/after this date (YYYY-MM-DD)")
    filters.add_argument("--until", help="only briefings published on/before this date")
    filters.add_argument("--source", action="append", help="only this source (repeatable)")
    filters.add_argument("--as-of", help="answer as of this date: later briefings are ignored")

    p = argparse.ArgumentParser(prog="briefing", description="Cited answers over news briefings.",
                                parents=[logging_opts])
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("ingest", parents=[common], help="add files, folders or web pages (http/https URLs) to the library")
    s.add_argument("paths", nargs="*", help="files, folders or http(s) URLs of articles")
    s.add_argument("--feed", help="also read this RSS/Atom feed and add the items not in the library yet")
    s.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    s.add_argument("--every", metavar="INTERVAL", help="ingest again every INTERVAL (30m, 1h, 90s) until Ctrl-C or "
                   "SIGTERM: keeps feeds fresh; a failed round is logged and retried at the next")
    s = sub.add_parser("reindex", parents=[common], help="chunk and embed the whole library again with the current "
                       "settings (embedder, chunk size): in place, searches keep working, a killed run is resumed")
    s.add_argument("--json", action="store_true", help="print the reindex report as JSON")
    s = sub.add_parser("search", parents=[common, filters], help="show the passages that match a question")
    s.add_argument("question")
    s.add_argument("--k", type=int, default=None, help="passages to show (default BRIEFING_SEARCH_K)")
    s.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("articles", parents=[common], help="list the library")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("delete", parents=[common], help="remove an article by id")
    s.add_argument("article_id")
    s = sub.add_parser("ask", parents=[common, filters], help="answer a question with citations")
    s.add_argument("question", help="the question, or - to read it from standard input")
    s.add_argument("--k", type=int, default=None, help="passages to read (default BRIEFING_ANSWER_K)")
    s.add_argument("--json", action="store_true", help="print the Answer as JSON and nothing else")
    s.add_argument("-c", "--continue", dest="cont", action="store_true",
                   help="continue the last conversation (its questions and answers are the history)")
    s.add_argument("--format", choices=["md", "json", "html"],
                   help="print an evidence pack (quotes, sources, sha256 of each article) instead of the answer")
    s.add_argument("--out", help="write the evidence pack to this file instead of standard output")
    s = sub.add_parser("timeline", parents=[common, filters], help="answer for each briefing date, then what changed")
    s.add_argument("question")
    s.add_argument("--k", type=int, default=None, help="passages to read per date (default BRIEFING_ANSWER_K)")
    s.add_argument("--max-dates", type=int, default=None, help="answer at most this many dates (default 6)")
    s.add_argument("--json", action="store_true", help="print the list of Answers as JSON and nothing else")
    s = sub.add_parser("chat", parents=[common], help="serve the chat page (open the address it prints in a browser)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--share", action="store_true", help="public Gradio link (off unless asked)")
    s.add_argument("--no-auth", action="store_true",
                   help="serve a non-loopback host or share link without BRIEFING_AUTH (refused unless given)")
    s.add_argument("--ingest", nargs="*", default=[], help="files/folders to ingest before opening")
    sub.add_parser("stop-model", parents=[common],
                   help="stop the local model server kept warm by BRIEFING_LOCAL__KEEP_WARM=true")
    s = sub.add_parser("serve", parents=[common], help="OpenAI-compatible API (/v1/chat/completions) and the chat page")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1; others need BRIEFING_AUTH)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--no-auth", action="store_true", help="allow a non-loopback host without a login (private networks)")
    s.add_argument("--no-page", action="store_true", help="serve the API only, not the chat page at /")
    s = sub.add_parser("mcp", parents=[common], help="serve the ask/search/articles tools to an MCP client over stdio")
    s = sub.add_parser("verify", parents=[common], help="re-check every quote of an evidence pack, offline")
    s.add_argument("pack", help="an evidence pack (.json, .md or .html) from `briefing ask --format`")
    s.add_argument("--files", nargs="+", help="check against these article files instead of the library")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("log", parents=[common],
                       help="past questions and answers (briefing ask and the chat page); --export-eval for marked ones")
    from .log_command import add_arguments as _log_arguments

    _log_arguments(s)
    s = sub.add_parser("eval", parents=[logging_opts], help="score the assistant on a questions dataset (fresh temporary store)")
    from ..evaluation.command import add_arguments as _eval_arguments

    _eval_arguments(s)
    s = sub.add_parser("eval-judge", help="measure the citation judge on the labelled faithfulness set")
    from ..evaluation.command import add_judge_arguments as _judge_arguments

    _judge_arguments(s)
    s = sub.add_parser("doctor", parents=[common], help="check the install: versions, model, server, store, settings")
    s.add_argument("--full", action="store_true", help="also re-hash the model file (sha256 of 1.1 GB, a few seconds)")
    s.add_argument("--json", action="store_true", help="print the checks as JSON")
    s = sub.add_parser("server", parents=[common], help="the kept-warm local model server (BRIEFING_LOCAL__KEEP_WARM)")
    s.add_argument("action", choices=["status", "stop"])
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("briefing-assistant")
    except PackageNotFoundError:
        return "unknown (not installed)"


def default_factory(**overrides: Any) -> Any:
    """The Assistant factory `main` uses unless given one: `Assistant.from_settings(**overrides)`,
    imported here so `--version`, `log` and `server` start without Chroma."""
    from ..assistant import Assistant

    return Assistant.from_settings(**overrides)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("since", "until", "as_of"):
        if getattr(args, key, None):
            out[key] = getattr(args, key)
    if getattr(args, "source", None):
        out["sources"] = args.source
    return out


def _print_json(value: Any) -> None:
    from ..types import Answer, to_jsonable

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


def _run(args: argparse.Namespace, factory: Callable[..., Any]) -> int:
    if args.command in ("eval", "eval-judge"):
        from ..evaluation import command as evaluation

        return (evaluation.run if args.command == "eval" else evaluation.run_judge)(args, factory=factory)
    if args.command == "doctor":
        from .doctor import run as _doctor

        return _doctor(data_dir=args.data_dir, chroma_url=args.chroma_url, full=args.full, as_json=args.json)
    if args.command == "server":
        return _server(args)
    if args.command == "chat":
        from .ui import launch

        launch(data_dir=args.data_dir, chroma_url=args.chroma_url, host=args.host, port=args.port,
               share=args.share, ingest=args.ingest, no_auth=args.no_auth, factory=factory)
        return 0
    if args.command == "stop-model":
        from ..config import load_settings
        from ..models.local_server import stop_warm_server

        stopped = stop_warm_server(load_settings(data_dir=args.data_dir).data_dir)
        print("stopped the warm local model server" if stopped else "no warm local model server was running")
        return 0
    if args.command == "serve":
        from .serve import serve

        serve(data_dir=args.data_dir, chroma_url=args.chroma_url, host=args.host, port=args.port,
              no_auth=args.no_auth, page=not args.no_page, factory=factory)
        return 0
    if args.command == "mcp":
        from .mcp_tools import run_stdio

        run_stdio(data_dir=args.data_dir, chroma_url=args.chroma_url, factory=factory)
        return 0
    if args.command == "log":
        from .log_command import run as _log

        return _log(args)
    if args.command == "ask" and args.question == "-":
        args.question = sys.stdin.read().strip()
        if not args.question:
            print("briefing: no question on standard input", file=sys.stderr)
            return 2
    if args.command == "ingest" and not args.paths and not args.feed:
        print("briefing: give files, folders or URLs to ingest, or --feed URL", file=sys.stderr)
        return 2
    # reindex opens a library embedded with another model: re-embedding it is the point.
    opening = {"check_embedder": False} if args.command == "reindex" else {}
    with factory(data_dir=args.data_dir, chroma_url=args.chroma_url, **opening) as a:
        if args.command == "reindex" or (args.command == "ingest" and args.every):
            from . import library_commands

            if args.command == "reindex":
                return library_commands.reindex(a, args.json)
            return library_commands.ingest_every(a, args.paths, args.feed, args.every, args.json)
        if args.command == "ingest":
            report = a.ingest(args.paths, feed=args.feed)
            if args.json:
                _print_json(report)
            else:
                print(report)
            return EXIT_INPUT_FAILED if report.failed else 0
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
        if args.command == "verify":
            from ..answer.packs import verify

            return verify(a, args)
    return 2


def _server(args: argparse.Namespace) -> int:
    from ..config import load_settings
    from ..models.local_server import stop_warm_server, warm_server_status

    settings = load_settings(data_dir=args.data_dir)
    info = warm_server_status(settings.data_dir)
    if args.action == "status":
        if info is None:
            print(f"no warm local model server for {settings.data_dir} "
                  "(BRIEFING_LOCAL__KEEP_WARM=1 keeps one running between commands)")
            return 0
        up = time.time() - float(info.get("started", time.time()))
        print(f"running: pid {info['pid']}, http://127.0.0.1:{info['port']}/v1, "
              f"{'healthy' if info['healthy'] else 'NOT answering'}, up {up / 60:.0f} min, model {info.get('model')}")
        return 0 if info["healthy"] else 1
    if stop_warm_server(settings.data_dir):
        print(f"stopped the warm local model server (pid {info['pid'] if info else '?'})")
    else:
        print("no warm local model server was running")
    return 0


def _ask(a: Any, args: argparse.Namespace) -> int:
    from .conversations import Conversations
    from ..types import AnswerEvent, EvidenceEvent, StatusEvent, TextDelta

    answer = None
    streamed = ""
    quiet = args.json or bool(args.format)
    with Conversations(a.settings.data_dir) as log:
        conversation = log.latest() if args.cont else None
        history = log.history(conversation) if conversation is not None else []
        conversation = log.start() if conversation is None else conversation
        for event in a.ask_stream(args.question, history=history or None, k=args.k, **_filters(args)):
            if isinstance(event, AnswerEvent):
                answer = event.answer
            elif quiet:
                continue
            elif isinstance(event, EvidenceEvent):
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
        log.add(conversation, answer)
    if args.format:
        from ..answer.packs import emit

        return emit(a, answer, args.format, args.out)
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
    from ..answer.timeline import TimelinePlan, format_timeline
    from ..types import Answer

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

    from ..redact import mask_secrets

    secrets = [os.environ.get(v, "") for v in ("OPENAI_API_KEY", "BRIEFING_LLM__API_KEY")]
    secrets += [os.environ.get(v, "").partition(":")[2] for v in ("BRIEFING_AUTH", "BRIEFING_UI__AUTH")]
    try:
        from ..config import load_settings

        s = load_settings()
        secrets += [s.llm.api_key.get_secret_value() if s.llm.api_key else "",
                    s.ui.auth.get_secret_value().partition(":")[2] if s.ui.auth else ""]
    except AssistantError:
        pass
    print(mask_secrets(traceback.format_exc(), secrets), file=sys.stderr, end="")


def _setup(args: argparse.Namespace) -> bool:
    """Configure logging once from -v/--log-level and the settings (environment and .env); returns
    BRIEFING_DEBUG. Invalid settings are reported by the command itself, so fall back to defaults here."""
    from ..config import load_settings
    from ..logs import configure_logging, level_from

    try:
        s = load_settings()
        level, debug = s.log_level, s.debug
    except AssistantError:
        level, debug = "WARNING", False
    configure_logging(level_from(getattr(args, "verbose", 0), getattr(args, "log_level", None), level, debug))
    return debug


def main(argv: Sequence[str] | None = None, factory: Callable[..., Any] | None = None) -> int:
    """Entry point of the `briefing` console script; `factory(**overrides)` builds each command's Assistant
    (default_factory), so tests inject an assistant on fakes instead of patching."""
    args = _parser().parse_args(argv)
    debug = _setup(args)
    # SIGTERM runs the same exit path as Ctrl-C, so atexit stops a local model server we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run(args, factory or default_factory)
    except AssistantError as exc:
        if debug:
            _print_traceback_without_secrets()
            return 1
        print(f"briefing: {exc.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("briefing: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `briefing search --json | head`: the reader left; no traceback, no second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
