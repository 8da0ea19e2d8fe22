"""The chat page: streamed, cited answers beside a sources panel; a Library tab; the `ask` API.

The only module that imports gradio. What the page does is plain Python in handlers.py
(`PageHandlers`); `Handlers` here gives it gradio's warnings, updates and skips, and holds the
handlers whose signatures gradio reads. `build_app` wires them to components; `launch` builds the
Assistant from settings and serves the page. All HTML comes from the render*.py modules, which
escape every input.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import gradio as gr

from ..assistant import Assistant
from ..config import Settings
from .endpoints import Endpoints, ingest as ingest_items
from ..errors import AssistantError
from .feedback import FLAG_OPTION, KINDS, flag_form, save_flag
from ..ingest.files import SUFFIXES
from .answer_queue import page_queue_size, workers
from .gate import gate_middleware
from .handlers import PageHandlers, date_filters
from .render import CSS, describe_model, flag_heading_html, header_html, settings_html
from .render_sources import empty_sources_html
from .render_timeline import CSS as TIMELINE_CSS
from .uploads import (  # noqa: F401 - public here too
    UPLOAD_TYPES, accept_uploads, check_upload, place_upload, safe_name, unique_target,
)

log = logging.getLogger(__name__)

EXAMPLES = ("Is Russia stalling?", "What might Trump do to pressure Russia?", "How close are Russia and China?")


class Handlers(PageHandlers):
    """Everything the page does, over one Assistant, with gradio's warnings and component updates.
    Methods return plain values (and gr.update)."""

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

    @staticmethod
    def take_example(evt: gr.SelectData) -> tuple[str, str]:
        """An example question clicked on the empty chat."""
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        return "", str(value.get("text", "")).strip()

    def upload(self, files: Sequence[Any] | None, replace: bool = False,
               progress: Any = gr.Progress()) -> tuple[str, str, Any]:  # noqa: B008
        """PageHandlers.upload, with the upload's progress shown on the page (Gradio injects `progress`
        because of this default)."""
        return super().upload(files, replace, progress)

    def open_flag(self, turns: list[dict], evt: gr.LikeData) -> tuple[Any, ...]:
        """The 'Wrong answer' form for the answer whose flag was clicked (feedback.flag_form); clicking
        the option again closes it. Outputs: marked turn, form, its heading, kind, sentences, reason."""
        if evt.liked != FLAG_OPTION:
            return self.close_flag() + (gr.skip(),) * 4
        try:
            form = flag_form(turns or [], evt.index)
        except AssistantError as exc:
            gr.Warning(exc.one_line())
            return self.close_flag() + (gr.skip(),) * 4
        return (form.turn_id, gr.update(visible=True), flag_heading_html(form.question),
                gr.update(value=form.kind), gr.update(choices=list(form.sentences), value=[],
                                                      visible=bool(form.sentences)), "")

    def store_flag(self, turns: list[dict], turn_id: int | None, kind: str, reason: str,
                   wrong: list[str] | None) -> tuple[Any, Any]:
        """Save the mark (feedback.save_flag) and close the form; a missing field keeps it open, saying what."""
        try:
            gr.Info(save_flag(self.assistant.settings.data_dir, turns or [], turn_id, kind, reason, wrong))
        except AssistantError as exc:
            gr.Warning(exc.one_line())
            return gr.skip(), gr.skip()
        return self.close_flag()

    @staticmethod
    def close_flag() -> tuple[Any, Any]:
        """No answer being marked; the form hidden."""
        return None, gr.update(visible=False)

    def fetch(self, urls: str | None, feed: str | None = "",
              progress: Any = gr.Progress()) -> tuple[str, str, Any]:  # noqa: B008
        """PageHandlers.fetch, with its progress shown on the page (Gradio injects `progress`)."""
        return super().fetch(urls, feed, progress)

    def warn(self, message: str) -> None:
        """A warning toast on the page (a UserWarning outside a request)."""
        gr.Warning(message)

    def skip(self) -> Any:
        """gr.skip(): the component keeps its value."""
        return gr.skip()

    def picker(self, choices: list[tuple[str, str]]) -> Any:
        """The delete picker's new choices, nothing selected."""
        return gr.update(choices=choices, value=None)

    def download(self, path: str | None) -> Any:
        """The download button with the file, or hidden without one."""
        return gr.update(value=path, visible=path is not None)


# --- helpers ---------------------------------------------------------------------------------------

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
    `/sources`, `/delete_article`, `/ingest`, `/timeline`. Every other event is private to the page."""
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
                            sanitize_html=True, allow_tags=False, latex_delimiters=[], feedback_options=[FLAG_OPTION],
                            buttons=["copy"], layout="bubble", examples=[{"text": q} for q in EXAMPLES],
                            placeholder="<strong>Ask about your briefings.</strong><br>Answers are short; every claim "
                                        "links to the sentence that supports it.")
                        marking, flag_form_ = _flag_form()
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
                        with gr.Accordion("Add from the web", open=False, elem_id="ba-web"):
                            urls = gr.Textbox(label="Web pages (http(s) URLs, one per line)", lines=3, max_lines=10,
                                              elem_id="ba-urls")
                            feed = gr.Textbox(label="RSS/Atom feed URL: its items not in the library yet are added",
                                              lines=1, elem_id="ba-feed")
                            fetch = gr.Button("Fetch and add", variant="secondary", elem_id="ba-fetch")
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
        gr.api(gradio_errors(ep.sources), api_name="sources", concurrency_limit=4)
        gr.api(gradio_errors(ep.delete_article), api_name="delete_article", concurrency_limit=1)
        answer = {"fn": h.respond, "inputs": [pending, turns, k, since, until, timeline], "outputs": [chat, turns, sources],
                  "show_progress": "hidden", **private, **heavy}
        offer_pack = {"fn": h.pack_file, "inputs": [turns], "outputs": [pack], **private}
        gr.on([box.submit, send.click], h.take, [box], [box, pending], queue=False, **private).then(
            **answer).then(**offer_pack)
        chat.example_select(h.take_example, None, [box, pending], queue=False, **private).then(
            **answer).then(**offer_pack)
        new.click(h.reset, None, [chat, turns, sources], queue=False, **private).then(
            h.close_flag, None, [marking, flag_form_.box], queue=False, **private)
        chat.like(h.open_flag, [turns], [marking, *flag_form_.outputs], queue=False, **private)
        flag_form_.save.click(h.store_flag, [turns, marking, flag_form_.kind, flag_form_.reason, flag_form_.wrong],
                              [marking, flag_form_.box], queue=False, **private)
        flag_form_.cancel.click(h.close_flag, None, [marking, flag_form_.box], queue=False, **private)
        chat.clear(h.reset, None, [chat, turns, sources], queue=False, **private).then(
            h.close_flag, None, [marking, flag_form_.box], queue=False, **private)
        add.click(h.upload, [files, replace], [report, listing, pick], **private, **heavy).then(
            lambda: None, None, [files], queue=False, **private)
        fetch.click(h.fetch, [urls, feed], [report, listing, pick], **private, **heavy)
        remove.click(h.delete, [pick], [report, listing, pick], **private)
        library_tab.select(h.library, None, [listing, pick], **private)
        app.load(h.library, None, [listing, pick], **private)
    return app


@dataclass(frozen=True)
class _FlagForm:
    """The 'Wrong answer' form's components."""

    box: Any
    heading: Any
    kind: Any
    wrong: Any
    reason: Any
    save: Any
    cancel: Any

    @property
    def outputs(self) -> list[Any]:
        """What Handlers.open_flag fills, after the marked turn."""
        return [self.box, self.heading, self.kind, self.wrong, self.reason]


def _flag_form() -> tuple[gr.State, _FlagForm]:
    # Hidden until an answer's flag is clicked; the State holds the logged id of the turn being marked.
    marking = gr.State(None)
    with gr.Group(visible=False, elem_id="ba-flag") as box:
        heading = gr.HTML(elem_id="ba-flag-heading")
        kind = gr.Radio([(label, key) for key, label in KINDS.items()], value="wrong", label="What is wrong?",
                        elem_id="ba-flag-kind")
        wrong = gr.CheckboxGroup([], label="Which sentences are wrong?", elem_id="ba-flag-sentences")
        reason = gr.Textbox(label="Why? (kept with the answer; it becomes the note of an eval case)", lines=2,
                            max_lines=6, elem_id="ba-flag-reason")
        with gr.Row():
            save = gr.Button("Save", variant="primary", size="sm", scale=0, elem_id="ba-flag-save")
            cancel = gr.Button("Cancel", size="sm", scale=0, elem_id="ba-flag-cancel")
    return marking, _FlagForm(box, heading, kind, wrong, reason, save, cancel)


def mount_page(app: Any, assistant: Assistant, path: str = "/") -> None:
    """Serve the chat page on an existing FastAPI app (`briefing serve`), with the same login, upload limit
    and look as `briefing chat`."""
    blocks = build_app(assistant)
    blocks.queue(default_concurrency_limit=1, max_size=page_queue_size(assistant.settings))
    opts = launch_options(assistant.settings)
    gr.mount_gradio_app(app, blocks, path, auth=opts["auth"], max_file_size=opts["max_file_size"],
                        footer_links=opts["footer_links"], theme=opts["theme"], css=opts["css"])


def answer_concurrency(settings: Settings) -> int:
    """How many answers (and uploads) run at once: BRIEFING_UI__CONCURRENCY, else 1 for the bundled
    model (one slot on a small machine: a second job would only slow both) and 4 for an endpoint of
    your own, so one user's slow or failing request never holds up everyone else (answer_queue.workers,
    the one rule the API follows too)."""
    return workers(settings)


def launch_options(settings: Settings, host: str | None = None, port: int | None = None,
                   share: bool | None = None) -> dict[str, Any]:
    """Keyword arguments for Blocks.launch: address, share (only when asked), auth, upload limit, look, and
    the gate (gate.py: Host and Origin checks, failed logins throttled per address, request bodies capped)
    as middleware of the app Gradio builds. `briefing serve` puts the same gate on its parent app instead."""
    ui = settings.ui
    auth = None
    if ui.auth is not None:
        user, _, password = ui.auth.get_secret_value().partition(":")
        auth = (user, password)
    return {
        "server_name": host or ui.host, "server_port": port or ui.port, "share": bool(share or ui.share),
        "auth": auth, "max_file_size": int(settings.upload_limit_mb * 1e6), "footer_links": ["api"],
        "theme": _theme(), "css": CSS + TIMELINE_CSS,
        "app_kwargs": {"middleware": gate_middleware(settings, host or ui.host, bool(share or ui.share), cors=False)},
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
        app.queue(default_concurrency_limit=1, max_size=page_queue_size(assistant.settings))
        threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
        app.launch(**launch_options(assistant.settings, host, port, share))
    finally:
        assistant.close()
