"""The chat page: streamed, cited answers beside a sources panel; a Library tab; the `ask` API.

The only module that imports gradio. The event handlers are plain methods of `Handlers`, so tests
drive them without a browser; `build_app` wires them to components; `launch` builds the Assistant
from settings and serves the page. All HTML comes from the render*.py modules, which escape every input.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

import gradio as gr

from ..assistant import Assistant
from ..config import Settings
from .endpoints import Endpoints, ingest as ingest_items
from ..errors import AssistantError
from ..ingest.files import SUFFIXES
from .render import (
    CSS, answer_html, checked_html, describe_model, error_html, fmt_date, header_html, question_html, reading_message,
    settings_html, status_html,
)
from .render_library import library_html, notice_html, report_html
from .render_sources import empty_sources_html, evidence_html, sources_html
from .render_timeline import CSS as TIMELINE_CSS, timeline_views
from ..types import AnswerEvent, EvidenceEvent, StatusEvent, TextDelta
from .uploads import (  # noqa: F401 - public here too
    UPLOAD_TYPES, accept_uploads, check_upload, place_upload, safe_name, unique_target,
)

log = logging.getLogger(__name__)

EXAMPLES = ("Is Russia stalling?", "What might Trump do to pressure Russia?", "How close are Russia and China?")
# One turn of the conversation as kept in the page's state: the question, the HTML shown for the
# reply, and the reply's plain text (None while streaming or after an error: not sent as history).
Turn = dict[str, Any]
Outputs = tuple[list[dict[str, str]], list[Turn], str]


class Handlers:
    """Everything the page does, over one Assistant. Methods return plain values (and gr.update)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    # --- chat ----------------------------------------------------------------------------------

    def respond(self, question: str, turns: list[Turn] | None, k: float | None = None, since: str = "",
                until: str = "", timeline: bool = False) -> Iterator[Outputs]:
        """Stream one answer: a status line, the evidence (in the sources panel), each sentence once it
        has passed the checks, then the answer with its highlighted sources. Yields (chat messages, turns, sources panel).
        With `timeline`, the answer per briefing date then what changed (render_timeline.py)."""
        turns = [dict(t) for t in turns or []]
        question = (question or "").strip()
        if not question:
            yield messages(turns), turns, gr.skip()
            return
        history = history_of(turns)
        turn: Turn = {"question": question, "html": status_html("Searching the briefings\u2026"), "text": None}
        panel = empty_sources_html()

        def snapshot() -> Outputs:
            done = turns + [dict(turn)]
            return messages(done), done, panel

        yield snapshot()
        try:
            if timeline:  # answered per date from the briefings alone; the conversation is not used
                items = self.assistant.timeline_stream(question, k=int(k) if k else None, **date_filters(since, until))
                for turn["html"], panel, turn["text"] in timeline_views(items, self.bodies):
                    yield snapshot()
                return
            status, shown = "", ""
            events = self.assistant.ask_stream(question, history=history or None, k=int(k) if k else None,
                                               **date_filters(since, until))
            for event in events:
                if isinstance(event, EvidenceEvent):
                    status = reading_message(event)
                    turn["html"], panel = status_html(status), evidence_html(event)
                elif isinstance(event, StatusEvent):
                    turn["html"] = checked_html(f"{status} {event.text}", shown)
                elif isinstance(event, TextDelta):
                    # Only sentences that passed the checks arrive here; the model's draft never does.
                    shown += event.text
                    turn["html"] = checked_html(f"{status} Checking the rest\u2026", shown)
                elif isinstance(event, AnswerEvent):
                    answer = event.answer
                    turn["html"], turn["text"] = answer_html(answer), answer.text
                    turn["answer"] = answer  # for the evidence pack download
                    panel = sources_html(answer, self.bodies(p.article_id for p in answer.sources()))
                else:
                    continue
                yield snapshot()
        except AssistantError as exc:
            gr.Warning(exc.one_line())
            turn["html"] = error_html(exc.one_line())
            yield snapshot()
        except Exception as exc:  # the page must keep serving; the traceback goes to the server log
            log.exception("answering %r failed", question)
            turn["html"] = error_html(f"Something went wrong ({type(exc).__name__}); "
                                      "the details are in the server log.")
            yield snapshot()

    def bodies(self, article_ids: Any) -> dict[str, str]:
        """Full article bodies by id, for highlighting cited spans (missing articles are left out)."""
        out: dict[str, str] = {}
        for aid in article_ids:
            if aid not in out and (article := self.assistant.article(aid)) is not None:
                out[aid] = article.body
        return out

    def api_ask(self, question: str, history: str = "", k: int = 0, since: str = "", until: str = "") -> dict:
        """Answer a question from the briefings. `history`: optional JSON list of {"role", "content"}
        turns; `k`: passages to read (0 = default); `since`/`until`: YYYY-MM-DD. Returns the Answer as
        JSON: text, answerable, citations (key, quote, start, end, support), passages, model, timings."""
        if not (question or "").strip():
            raise gr.Error("question is empty")
        try:
            turns = parse_history(history)
            answer = self.assistant.ask(question, history=turns or None, k=int(k) or None, **date_filters(since, until))
        except AssistantError as exc:
            raise gr.Error(exc.one_line()) from exc
        return answer.to_dict()

    def api_ingest(self, files: list[gr.FileData] | None = None, urls: list[str] | None = None) -> dict:
        """Add files (txt, md, html, json, jsonl; checked like uploads on the page) and http(s) URLs to the
        library. Returns the ingest report: added, unchanged, updated, failed (with reasons), plus
        `rejected` for files refused before ingest."""
        # Only files uploaded with the request (they land in Gradio's upload folder): a client naming a path
        # on this machine must not get that file read into the library and quoted back.
        uploads = Path(gr.utils.get_upload_folder()).resolve()
        paths = [Path(str(f.get("path") if isinstance(f, dict) else getattr(f, "path", f) or "")).resolve()
                 for f in files or []]
        if any(uploads not in p.parents for p in paths):
            raise gr.Error("files must be uploaded with the request (gradio_client.handle_file), not named by path")
        accepted, rejected, _ = accept_uploads(self.assistant.settings, paths)
        if rejected and not accepted and not urls:
            raise gr.Error("; ".join(rejected))
        try:
            report = ingest_items(self.assistant, accepted, urls or [])
        except AssistantError as exc:
            raise gr.Error(exc.one_line()) from exc
        return {**report, "rejected": rejected}

    def pack_file(self, turns: list[Turn] | None) -> Any:
        """The evidence pack (HTML, with the checkable JSON inside) of the latest answer, for the download button."""
        from ..answer.packs import build_pack, write_pack

        answer = next((t.get("answer") for t in reversed(turns or []) if t.get("answer") is not None), None)
        if answer is None or not answer.citations:
            return gr.update(value=None, visible=False)
        folder = Path(self.assistant.settings.data_dir) / "packs"
        return gr.update(value=str(write_pack(build_pack(answer, self.assistant.article), "html", folder)), visible=True)

    @staticmethod
    def take(question: str) -> tuple[str, str]:
        """Move the typed question out of the box (cleared at once) into the pending state."""
        return "", (question or "").strip()

    @staticmethod
    def take_example(evt: gr.SelectData) -> tuple[str, str]:
        """An example question clicked on the empty chat."""
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        return "", str(value.get("text", "")).strip()

    @staticmethod
    def reset() -> Outputs:
        """A new conversation: no messages, no history, an empty sources panel."""
        return [], [], empty_sources_html()

    # --- library -------------------------------------------------------------------------------

    def library(self) -> tuple[str, Any]:
        """The article table and the delete picker's choices."""
        arts = self.assistant.articles()
        choices = [(f"{a.title} \u00b7 {fmt_date(a.published_at)} \u00b7 {a.id}", a.id) for a in arts]
        return library_html(arts), gr.update(choices=choices, value=None)

    def upload(self, files: Sequence[Any] | None, replace: bool = False,
               progress: Any = gr.Progress()) -> tuple[str, str, Any]:  # noqa: B008
        """Check type and size, copy accepted files under <data_dir>/uploads with safe names, ingest them,
        showing chunks embedded out of the total on the page (gr.Progress; Gradio injects it).
        A file never overwrites an earlier upload of the same name (another user's, perhaps) unless the
        content is the same or `replace` is ticked; otherwise it is saved as name-2, name-3...
        Returns (report, library table, picker update)."""
        accepted, rejected, renamed = accept_uploads(self.assistant.settings, files, replace)
        for message in rejected:
            gr.Warning(message)
        if not accepted and not rejected:
            return (notice_html("Choose one or more files to upload first.", ok=False), *self.library())
        try:
            progress(0, desc="Reading files…")

            def embedded(done: int, total: int) -> None:
                progress((done, total) if total else 1.0, desc=f"Embedding chunks: {done} of {total}", unit="chunks")

            report = self.assistant.ingest(accepted, on_chunks=embedded) if accepted else None
        except AssistantError as exc:
            gr.Warning(exc.one_line())
            return (notice_html(f"Could not add the files: {exc.one_line()}", ok=False), *self.library())
        if report is not None and report.failed:
            gr.Warning(f"{len(report.failed)} file(s) could not be read; see the report.")
        titles = {a.id: a.title for a in self.assistant.articles()}
        notes = "".join(notice_html(n, ok=False) for n in renamed)
        return (report_html(report, rejected, titles) + notes, *self.library())

    def delete(self, article_id: str | None) -> tuple[str, str, Any]:
        """Remove one article. Returns (notice, library table, picker update)."""
        if not article_id:
            return (notice_html("Choose an article to delete.", ok=False), *self.library())
        article = self.assistant.article(article_id)
        try:
            removed = self.assistant.delete(article_id)
        except AssistantError as exc:
            gr.Warning(exc.one_line())
            return (notice_html(exc.one_line(), ok=False), *self.library())
        if not removed:
            return (notice_html("That article is no longer in the library.", ok=False), *self.library())
        title = article.title if article else article_id
        return (notice_html(f"Deleted \u201c{title}\u201d."), *self.library())


# --- helpers (plain Python) ------------------------------------------------------------------------

def messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """Chatbot messages ({"role", "content"}) for the turns; content is escaped HTML from render.py."""
    out: list[dict[str, str]] = []
    for t in turns:
        out.append({"role": "user", "content": question_html(t["question"])})
        out.append({"role": "assistant", "content": t["html"]})
    return out


HISTORY_KEEP = 12  # messages sent with a follow-up: the rewrite reads the last few, and a long chat stays under
# BRIEFING_LIMITS__MAX_HISTORY_MESSAGES instead of failing on its 21st question


def history_of(turns: Sequence[Turn], keep: int = HISTORY_KEEP) -> list[dict[str, str]]:
    """The conversation so far as ask_stream history: plain question and answer text, errors left out;
    only the last `keep` messages."""
    out: list[dict[str, str]] = []
    for t in turns:
        if t.get("text") is None:
            continue
        out.append({"role": "user", "content": t["question"]})
        out.append({"role": "assistant", "content": t["text"]})
    return out[-keep:] if keep > 0 else []


def parse_history(raw: str | list | None) -> list[dict[str, str]]:
    """History for the API: a JSON list of {"role": "user"|"assistant", "content": str}."""
    if raw in (None, "", "[]"):
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise gr.Error(f"history is not valid JSON ({exc.msg})") from exc
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and i.get("role") in ("user", "assistant") and isinstance(i.get("content"), str)
            for i in items):
        raise gr.Error('history must be a JSON list of {"role": "user"|"assistant", "content": "..."}')
    return [{"role": i["role"], "content": i["content"]} for i in items]


def date_filters(since: str | None, until: str | None) -> dict[str, str]:
    """The date range as ask filters (empty boxes mean no limit)."""
    return {key: value.strip() for key, value in (("since", since), ("until", until)) if value and value.strip()}


def gradio_errors(fn: Any) -> Any:
    """`fn` with AssistantError shown to API clients as one line (gr.Error); the signature and type hints
    stay visible to gr.api (functools.wraps), and a generator stays a generator."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def stream(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except AssistantError as exc:
                raise gr.Error(exc.one_line()) from exc
        return stream

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            raise gr.Error(exc.one_line()) from exc
    return call


# --- the page ----------------------------------------------------------------------------------------

def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page over `assistant`: Ask (chat + sources + settings) and Library tabs, plus the
    public API: `/ask` (streamed updates; the final one is the Answer as JSON), `/search`, `/articles`,
    `/ingest`, `/timeline`. Every other event is private to the page."""
    h = Handlers(assistant)
    ep = Endpoints(assistant)
    s = assistant.settings
    private: dict[str, Any] = {"api_visibility": "private"}
    heavy: dict[str, Any] = {"concurrency_id": "heavy", "concurrency_limit": answer_concurrency(s)}
    with gr.Blocks(title="Briefing Assistant", analytics_enabled=False) as app:
        turns = gr.State([])
        pending = gr.State("")
        gr.HTML(header_html(describe_model(s)), padding=False)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=6, min_width=360):
                        chat = gr.Chatbot(
                            value=[], show_label=False, height=500, elem_id="ba-chat", render_markdown=False,
                            sanitize_html=True, allow_tags=False, latex_delimiters=[], feedback_options=None,
                            buttons=["copy"], layout="bubble", examples=[{"text": q} for q in EXAMPLES],
                            placeholder="<strong>Ask about your briefings.</strong><br>Answers are short; every claim "
                                        "links to the sentence that supports it.")
                        with gr.Row(equal_height=True):
                            box = gr.Textbox(placeholder="Ask a question, or a follow-up\u2026", show_label=False,
                                             scale=8, lines=1, max_lines=4, autofocus=True, elem_id="ba-question")
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ba-ask")
                        with gr.Accordion("Settings", open=True, elem_id="ba-settings"):
                            gr.HTML(settings_html(s))
                            with gr.Row():
                                k = gr.Slider(1, 20, value=s.answer_k, step=1, label="Passages to read (k)", scale=2)
                                since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", scale=1,
                                                   elem_id="ba-since")
                                until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", scale=1,
                                                   elem_id="ba-until")
                        with gr.Row():
                            new = gr.Button("New conversation", size="sm", variant="secondary", scale=0,
                                            elem_id="ba-new")
                            timeline = gr.Checkbox(label="Timeline: answer per briefing date, then what changed",
                                                   value=False, scale=0, elem_id="ba-timeline")
                            pack = gr.DownloadButton("Download evidence pack", visible=False, size="sm", scale=0,
                                                     variant="secondary", elem_id="ba-pack")
                    with gr.Column(scale=5, min_width=320):
                        sources = gr.HTML(empty_sources_html(), elem_id="ba-sources-panel")
            with gr.Tab("Library", id="library") as library_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        limit = f"up to {s.upload_limit_mb:g} MB each"
                        files = gr.File(label=f"Upload briefings ({UPLOAD_TYPES}, {limit})",
                                        file_count="multiple", file_types=sorted(SUFFIXES), type="filepath",
                                        height=150, elem_id="ba-files")
                        replace = gr.Checkbox(label="Replace earlier uploads with the same name", value=False,
                                              elem_id="ba-replace")
                        add = gr.Button("Add to library", variant="primary", elem_id="ba-add")
                    with gr.Column(scale=2):
                        report = gr.HTML(elem_id="ba-report")
                listing = gr.HTML(elem_id="ba-library")
                with gr.Row(equal_height=False, elem_id="ba-delete-row"):
                    pick = gr.Dropdown(label="Delete an article", choices=[], scale=5, elem_id="ba-pick")
                    remove = gr.Button("Delete", variant="stop", scale=1, min_width=110, elem_id="ba-delete")

        # First, so no private event can claim the names. `/ask` streams; predict() still returns the final
        # Answer JSON, and history may still be a JSON string, as in its first version.
        gr.api(gradio_errors(ep.ask), api_name="ask", **heavy)
        gr.api(gradio_errors(ep.search), api_name="search", concurrency_limit=4)
        gr.api(gradio_errors(ep.articles), api_name="articles", concurrency_limit=4)
        gr.api(h.api_ingest, api_name="ingest", **heavy)
        gr.api(gradio_errors(ep.timeline), api_name="timeline", **heavy)
        answer = {"fn": h.respond, "inputs": [pending, turns, k, since, until, timeline], "outputs": [chat, turns, sources],
                  "show_progress": "hidden", **private, **heavy}
        offer_pack = {"fn": h.pack_file, "inputs": [turns], "outputs": [pack], **private}
        gr.on([box.submit, send.click], h.take, [box], [box, pending], queue=False, **private).then(
            **answer).then(**offer_pack)
        chat.example_select(h.take_example, None, [box, pending], queue=False, **private).then(
            **answer).then(**offer_pack)
        new.click(h.reset, None, [chat, turns, sources], queue=False, **private)
        chat.clear(h.reset, None, [chat, turns, sources], queue=False, **private)
        add.click(h.upload, [files, replace], [report, listing, pick], **private, **heavy).then(
            lambda: None, None, [files], queue=False, **private)
        remove.click(h.delete, [pick], [report, listing, pick], **private)
        library_tab.select(h.library, None, [listing, pick], **private)
        app.load(h.library, None, [listing, pick], **private)
    return app


def mount_page(app: Any, assistant: Assistant, path: str = "/") -> None:
    """Serve the chat page on an existing FastAPI app (`briefing serve`), with the same login, upload limit
    and look as `briefing chat`."""
    blocks = build_app(assistant)
    blocks.queue(default_concurrency_limit=1)
    opts = launch_options(assistant.settings)
    gr.mount_gradio_app(app, blocks, path, auth=opts["auth"], max_file_size=opts["max_file_size"],
                        footer_links=opts["footer_links"], theme=opts["theme"], css=opts["css"])


def answer_concurrency(settings: Settings) -> int:
    """How many answers (and uploads) run at once: BRIEFING_UI__CONCURRENCY, else 1 for the bundled
    model (one slot on a small machine: a second job would only slow both) and 4 for an endpoint of
    your own, so one user's slow or failing request never holds up everyone else."""
    if settings.ui.concurrency is not None:
        return settings.ui.concurrency
    return 1 if settings.llm.uses_local else 4


def launch_options(settings: Settings, host: str | None = None, port: int | None = None,
                   share: bool | None = None) -> dict[str, Any]:
    """Keyword arguments for Blocks.launch: address, share (only when asked), auth, upload limit, look."""
    ui = settings.ui
    auth = None
    if ui.auth is not None:
        user, _, password = ui.auth.get_secret_value().partition(":")
        auth = (user, password)
    return {
        "server_name": host or ui.host, "server_port": port or ui.port, "share": bool(share or ui.share),
        "auth": auth, "max_file_size": int(settings.upload_limit_mb * 1e6), "footer_links": ["api"],
        "theme": _theme(), "css": CSS + TIMELINE_CSS,
    }


def _theme() -> gr.themes.Base:
    # Gradio's bundled semibold face holds only a few glyphs; regular and bold are complete.
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=font)


def _warm_up(assistant: Assistant) -> None:
    # Start the model (the bundled server takes a while) while the page loads; a failure here is
    # shown again, as an error line, on the first question.
    try:
        assistant.llm  # noqa: B018 - the property starts the model
    except AssistantError as exc:
        log.warning("the model did not start: %s", exc.one_line())


def launch(data_dir: str | Path | None = None, chroma_url: str | None = None, host: str | None = None,
           port: int | None = None, share: bool | None = None, ingest: Sequence[str | Path] | None = None,
           no_auth: bool = False, factory: Any = None) -> None:
    """Build the Assistant (`factory`, default from settings), optionally ingest paths, and serve the page.

    Refuses (ConfigError) a non-loopback host or a share link without BRIEFING_AUTH unless `no_auth`
    is given, and then warns loudly (access.check_exposure)."""
    from .access import check_exposure
    from ..config import load_settings

    # Checked before anything is opened or started: a refused launch leaves nothing behind.
    warning = check_exposure(load_settings(data_dir=data_dir, chroma_url=chroma_url), host, share, no_auth)
    if warning:
        log.warning("%s", warning)
        bar = "!" * min(100, len(warning))
        print(f"\n{bar}\n{warning}\n{bar}\n", file=sys.stderr, flush=True)
    assistant = (factory or Assistant.from_settings)(data_dir=data_dir, chroma_url=chroma_url)
    try:
        if ingest:
            print(assistant.ingest(list(ingest)))
        app = build_app(assistant)
        app.queue(default_concurrency_limit=1)
        threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
        app.launch(**launch_options(assistant.settings, host, port, share))
    finally:
        assistant.close()
