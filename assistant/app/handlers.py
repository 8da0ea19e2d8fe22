"""What the chat page does, as plain Python over one Assistant: answer a question (streamed, and logged
like the CLI's: feedback.py), the evidence-pack download, and the Library tab (list, upload, fetch pages and feeds, delete).

No gradio here (ui.py is its only importer). The few things only the web framework can do (a
warning toast, "leave this output as it is", a component update) are the hook methods at the end of
`PageHandlers`; ui.Handlers implements them with gradio and adds the handlers whose signatures
gradio reads (the `/ingest` API's file type, an example click's event data, upload progress).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..assistant import Assistant
from ..errors import AssistantError
from ..types import AnswerEvent, EvidenceEvent, StatusEvent, TextDelta
from .feedback import log_page_answer
from .render import answer_html, checked_html, error_html, fmt_date, question_html, reading_message, status_html
from .render_library import library_html, notice_html, report_html
from .render_sources import empty_sources_html, evidence_html, sources_html
from .render_timeline import timeline_views
from .uploads import accept_uploads

log = logging.getLogger(__name__)

# One turn of the conversation as kept in the page's state: the question, the HTML shown for the
# reply, and the reply's plain text (None while streaming or after an error: not sent as history).
Turn = dict[str, Any]
Outputs = tuple[list[dict[str, str]], list[Turn], str]


class PageHandlers:
    """Everything the page does, over one Assistant. Methods return plain values (and what the hooks
    return for components); ui.Handlers supplies the hooks."""

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
            yield messages(turns), turns, self.skip()
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
                    turn["answer"] = answer  # for the evidence pack download and the wrong-answer form
                    # Logged like the CLI's answers, so `briefing log` shows it and a user can mark it wrong.
                    turn["logged"] = log_page_answer(self.assistant.settings.data_dir, turns, answer)
                    panel = sources_html(answer, self.bodies(p.article_id for p in answer.sources()))
                else:
                    continue
                yield snapshot()
        except AssistantError as exc:
            self.warn(exc.one_line())
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

    def pack_file(self, turns: list[Turn] | None) -> Any:
        """The evidence pack (HTML, with the checkable JSON inside) of the latest answer, for the download button."""
        from ..answer.packs import build_pack, write_pack

        answer = next((t.get("answer") for t in reversed(turns or []) if t.get("answer") is not None), None)
        if answer is None or not answer.citations:
            return self.download(None)
        folder = Path(self.assistant.settings.data_dir) / "packs"
        return self.download(str(write_pack(build_pack(answer, self.assistant.article), "html", folder)))

    @staticmethod
    def take(question: str) -> tuple[str, str]:
        """Move the typed question out of the box (cleared at once) into the pending state."""
        return "", (question or "").strip()

    @staticmethod
    def reset() -> Outputs:
        """A new conversation: no messages, no history, an empty sources panel."""
        return [], [], empty_sources_html()

    # --- library -------------------------------------------------------------------------------

    def library(self) -> tuple[str, Any]:
        """The article table and the delete picker's choices."""
        arts = self.assistant.articles()
        choices = [(f"{a.title} \u00b7 {fmt_date(a.published_at)} \u00b7 {a.id}", a.id) for a in arts]
        return library_html(arts), self.picker(choices)

    def upload(self, files: Sequence[Any] | None, replace: bool = False,
               progress: Callable[..., Any] | None = None) -> tuple[str, str, Any]:
        """Check type and size, copy accepted files under <data_dir>/uploads with safe names, ingest them,
        showing chunks embedded out of the total on the page (`progress`: ui.Handlers has Gradio inject it).
        A file never overwrites an earlier upload of the same name (another user's, perhaps) unless the
        content is the same or `replace` is ticked; otherwise it is saved as name-2, name-3...
        Returns (report, library table, picker update)."""
        accepted, rejected, renamed = accept_uploads(self.assistant.settings, files, replace)
        for message in rejected:
            self.warn(message)
        if not accepted and not rejected:
            return (notice_html("Choose one or more files to upload first.", ok=False), *self.library())
        progress = _no_progress if progress is None else progress
        try:
            progress(0, desc="Reading files…")

            def embedded(done: int, total: int) -> None:
                progress((done, total) if total else 1.0, desc=f"Embedding chunks: {done} of {total}", unit="chunks")

            report = self.assistant.ingest(accepted, on_chunks=embedded) if accepted else None
        except AssistantError as exc:
            self.warn(exc.one_line())
            return (notice_html(f"Could not add the files: {exc.one_line()}", ok=False), *self.library())
        if report is not None and report.failed:
            self.warn(f"{len(report.failed)} file(s) could not be read; see the report.")
        titles = {a.id: a.title for a in self.assistant.articles()}
        notes = "".join(notice_html(n, ok=False) for n in renamed)
        return (report_html(report, rejected, titles) + notes, *self.library())

    def fetch(self, urls: str | None, feed: str | None = "",
              progress: Callable[..., Any] | None = None) -> tuple[str, str, Any]:
        """Add web pages (http(s) URLs, one per line) and the items of an RSS/Atom feed that are not in
        the library yet, as `briefing ingest URL --feed URL` does. Returns (report, library table, picker update)."""
        pages = [u.strip() for u in (urls or "").splitlines() if u.strip()]
        feed = (feed or "").strip()
        if not pages and not feed:
            return (notice_html("Give one or more web page URLs, or a feed URL, first.", ok=False), *self.library())
        bad = [u for u in pages + [feed] if u and not u.lower().startswith(("http://", "https://"))]
        if bad:
            return (notice_html(f"Not an http(s) URL: {bad[0]}", ok=False), *self.library())
        progress = _no_progress if progress is None else progress
        try:
            progress(0, desc="Fetching…")

            def embedded(done: int, total: int) -> None:
                progress((done, total) if total else 1.0, desc=f"Embedding chunks: {done} of {total}", unit="chunks")

            report = self.assistant.ingest(pages, feed=feed or None, on_chunks=embedded)
        except AssistantError as exc:
            self.warn(exc.one_line())
            return (notice_html(f"Could not fetch: {exc.one_line()}", ok=False), *self.library())
        if report.failed:
            self.warn(f"{len(report.failed)} page(s) could not be read; see the report.")
        titles = {a.id: a.title for a in self.assistant.articles()}
        return (report_html(report, [], titles), *self.library())

    def delete(self, article_id: str | None) -> tuple[str, str, Any]:
        """Remove one article. Returns (notice, library table, picker update)."""
        if not article_id:
            return (notice_html("Choose an article to delete.", ok=False), *self.library())
        article = self.assistant.article(article_id)
        try:
            removed = self.assistant.delete(article_id)
        except AssistantError as exc:
            self.warn(exc.one_line())
            return (notice_html(exc.one_line(), ok=False), *self.library())
        if not removed:
            return (notice_html("That article is no longer in the library.", ok=False), *self.library())
        title = article.title if article else article_id
        return (notice_html(f"Deleted \u201c{title}\u201d."), *self.library())

    # --- what only the web framework can do (ui.Handlers implements these with gradio) -----------

    def warn(self, message: str) -> None:
        """Show `message` to the user as a warning, without stopping the handler."""
        raise NotImplementedError

    def skip(self) -> Any:
        """An output value meaning "leave this component as it is"."""
        raise NotImplementedError

    def picker(self, choices: list[tuple[str, str]]) -> Any:
        """The delete picker with these (label, article id) choices and nothing selected."""
        raise NotImplementedError

    def download(self, path: str | None) -> Any:
        """The download button offering the file at `path`, or hidden when `path` is None."""
        raise NotImplementedError


def _no_progress(*_: Any, **__: Any) -> None:
    """Progress reports go nowhere (a caller outside the page)."""


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


def date_filters(since: str | None, until: str | None) -> dict[str, str]:
    """The date range as ask filters (empty boxes mean no limit)."""
    return {key: value.strip() for key, value in (("since", since), ("until", until)) if value and value.strip()}
