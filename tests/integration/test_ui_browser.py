"""The chat page in a real browser (Debian's chromium driven by Playwright) over a real Chroma and the
packaged embedder. The model is the session's `real_llm` (bundled llama.cpp) when that fixture
exists, otherwise a scripted one. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import re
import socket

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.models.embed import make_embedder
from assistant.search.store import Store
from assistant.types import REFUSAL, EvidenceEvent
from assistant.app.ui import build_app, launch_options

from ..conftest import ARTIFACTS, SEED
from ..support.browser import chromium
from ..support.fakes import ScriptedChat

pytestmark = pytest.mark.integration

ANSWER_WAIT_MS = 300_000  # the bundled model takes 20-40 s per answer on 2 cores; leave room
QUESTION = "Is Russia stalling?"
OFF_TOPIC = "What is the best recipe for sourdough bread?"
XSS = {"id": "xss-probe", "title": "<script>alert(1)</script> Harbour notes", "source": "<img src=x onerror=alert(1)>",
       "published_at": "2025-03-01",
       "body": "Harbour dredging resumes next week <img src=x onerror=alert(1)> after a pause.\n"
               "<script>alert(1)</script> Crews will work at night."}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llm(request):
    """The real bundled model when the session offers `real_llm`; a scripted one otherwise."""
    try:
        return request.getfixturevalue("real_llm")
    except pytest.FixtureLookupError:
        return ScriptedChat()


@pytest.fixture(scope="module")
def server(llm, tmp_path_factory):
    data = tmp_path_factory.mktemp("ui-browser")
    settings = Settings(data_dir=data / "library")
    embedder = make_embedder(settings.embedder, settings)
    store = Store.open(settings.data_dir, None, settings.collection, embedder)
    assistant = Assistant(settings, store, embedder, llm=llm)
    (data / "xss.jsonl").write_text(json.dumps(XSS) + "\n")
    report = assistant.ingest([SEED, data / "xss.jsonl"])
    assert len(report.added) == 2, report
    if isinstance(llm, ScriptedChat):
        llm.enqueue(_scripted_answer(assistant), REFUSAL, REFUSAL)
    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(**launch_options(settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        app.close()


def _scripted_answer(assistant: Assistant) -> str:
    # What the real model says to this question, with the keys the evidence really has.
    stream = assistant.ask_stream(QUESTION)
    event = next(stream)
    stream.close()
    assert isinstance(event, EvidenceEvent)
    keys = {needle: next((e.key for e in event.evidence if needle in e.text), None)
            for needle in ("stalling for time", "played down the likelihood")}
    assert keys["stalling for time"] is not None
    text = ("Yes. Many Western experts suspect Russian officials are stalling for time as Russian troops make "
            f"progress on the battlefield [{keys['stalling for time']}].")
    if (played := keys["played down the likelihood"]) is not None:
        text += f" Privately, Putin has played down the likelihood of a quick deal [{played}]."
    return text


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.goto(server)
    pg.wait_for_selector("#ba-question textarea", timeout=60_000)
    yield pg
    ctx.close()
    assert dialogs == [], f"a script ran in the page: {dialogs}"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_answer_streams_in_with_markers_tied_to_highlighted_sources(page):
    page.get_by_text(QUESTION, exact=True).click()  # the example on the empty chat
    page.wait_for_selector("#ba-chat .ba-question", timeout=30_000)
    page.wait_for_selector("#ba-chat .ba-answer, #ba-chat .ba-refusal, #ba-chat .ba-error", timeout=ANSWER_WAIT_MS)
    shot(page, "ui-answer.png")

    assert page.locator("#ba-chat .ba-error").count() == 0
    answer = page.locator("#ba-chat .ba-answer")
    assert answer.count() == 1, "expected a cited answer, got: " + page.locator("#ba-chat").inner_text()
    markers = set(re.findall(r"\[(\d+)\]", answer.locator(".ba-text").inner_text()))
    marks = page.locator("#ba-sources-panel mark")
    assert markers and marks.count() >= 1
    highlighted = {marks.nth(i).get_attribute("data-key") for i in range(marks.count())}
    assert highlighted == markers, "every marker in the answer has its highlighted sentence, and no other"
    panel = page.locator("#ba-sources-panel").text_content()
    assert QUESTION in panel and re.search(r"Checked|Exact quote", panel)
    assert "Russia envoy washington" in panel


def test_a_refusal_reads_as_a_note(page):
    page.fill("#ba-question textarea", OFF_TOPIC)
    page.press("#ba-question textarea", "Enter")
    page.wait_for_selector("#ba-chat .ba-refusal, #ba-chat .ba-answer, #ba-chat .ba-error", timeout=ANSWER_WAIT_MS)
    shot(page, "ui-refusal.png")
    refusal = page.locator("#ba-chat .ba-refusal")
    assert refusal.count() == 1 and REFUSAL in refusal.inner_text()
    assert page.locator("#ba-chat .ba-error").count() == 0
    assert page.locator("#ba-sources-panel mark").count() == 0


def test_library_lists_escaped_titles_uploads_and_deletes(page, tmp_path):
    page.get_by_role("tab", name="Library").click()
    table = page.locator("#ba-library table")
    table.wait_for(timeout=30_000)
    text = table.inner_text()
    assert "<script>alert(1)</script> Harbour notes" in text and "<img src=x onerror=alert(1)>" in text
    assert page.locator("#ba-library script, #ba-library img").count() == 0

    upload = tmp_path / "2025-04-09 Kremlin notes.md"
    upload.write_text("# Kremlin notes\n\nThe Kremlin said talks would take time, officials said.\n")
    page.set_input_files("#ba-files input[type=file]", str(upload))
    page.wait_for_selector("#ba-files :text('Kremlin')", timeout=30_000)
    page.click("#ba-add")
    page.wait_for_selector("#ba-report :text('Added 1')", timeout=120_000)
    assert "Kremlin notes" in page.locator("#ba-report").inner_text()
    page.wait_for_selector("#ba-library :text('Kremlin notes')", timeout=30_000)
    assert "9 Apr 2025" in page.locator("#ba-library").inner_text()
    shot(page, "ui-library.png")

    page.click("#ba-pick input")
    page.get_by_role("option", name=re.compile("Kremlin notes")).click()
    page.click("#ba-delete")
    page.wait_for_selector("#ba-report :text('Deleted')", timeout=60_000)
    page.wait_for_function("!document.querySelector('#ba-library').innerText.includes('Kremlin notes')", timeout=30_000)


_RECORD = """() => {
  window.__seen = [];
  const chat = document.querySelector('#ba-chat');
  const grab = () => { for (const el of chat.querySelectorAll('.ba-checked, .ba-text, .ba-draft'))
                         window.__seen.push([el.className, el.innerText]); };
  new MutationObserver(grab).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


def test_no_unchecked_sentence_is_ever_on_the_page_while_an_answer_streams(page):
    # Every state the chat passes through is recorded in the page itself, then checked: only text made of
    # sentences that each end in a citation marker may appear, and no draft element at all.
    page.evaluate(_RECORD)
    page.fill("#ba-question textarea", "How might Trump increase pressure on Russia?")
    page.press("#ba-question textarea", "Enter")
    page.wait_for_selector("#ba-chat .ba-answer, #ba-chat .ba-refusal, #ba-chat .ba-error", timeout=ANSWER_WAIT_MS)
    seen = page.evaluate("window.__seen")
    assert seen, "the observer saw no answer text"
    assert not [t for cls, t in seen if "ba-draft" in cls]
    final = page.locator("#ba-chat .ba-answer .ba-text, #ba-chat .ba-refusal").last.inner_text()
    for _, text in seen:
        text = " ".join(text.split())
        if not text or text == REFUSAL:
            continue
        assert re.fullmatch(r"(?:[^\[\]]+?(?:\[\d+\])+[.!?]?\s*)+", text), f"unchecked text on the page: {text!r}"
        assert " ".join(final.split()).startswith(text), (text, final)
