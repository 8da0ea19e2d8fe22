"""The 'Wrong answer' mark in a real browser (Debian's chromium driven by Playwright): the flag under an
answer opens the form, Save stores the mark in the data dir's conversation log, and the mark exports as an
eval row. A scripted model and the fake embedder on a real embedded Chroma; screenshot in test-artifacts/."""

from __future__ import annotations

import json
import time

import pytest

from assistant.app.cli import main as briefing
from assistant.app.conversations import Conversations
from assistant.assistant import Assistant
from assistant.evaluation.dataset import load_dataset
from assistant.search.store import Store
from assistant.app.ui import build_app, launch_options
from assistant.types import EvidenceEvent

from ..conftest import ARTIFACTS, SEED
from ..support.fakes import FakeEmbedder, ScriptedChat
from ..support.browser import chromium
from .test_ui_browser import free_port

pytestmark = pytest.mark.integration

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"
PLAYED_DOWN = "President Vladimir Putin has played down the likelihood of a quick deal"
REASON = "It states the experts' suspicion as a fact."


@pytest.fixture
def served(settings):
    # conftest's settings: one scripted reply per answer (prose, guards without the model judge).
    embedder = FakeEmbedder()
    store = Store.open(settings.data_dir, None, settings.collection, embedder)
    llm = ScriptedChat()
    assistant = Assistant(settings, store, embedder, llm=llm)
    assert assistant.ingest([SEED]).added
    stream = assistant.ask_stream(QUESTION)
    event = next(stream)
    stream.close()
    assert isinstance(event, EvidenceEvent)
    key = {n: next(e.key for e in event.evidence if n in e.text) for n in (STALLING, PLAYED_DOWN)}
    llm.enqueue(f"{STALLING} as Russian troops make progress on the battlefield [{key[STALLING]}]. "
                f"Privately, {PLAYED_DOWN} [{key[PLAYED_DOWN]}].")
    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(**launch_options(settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    try:
        yield url, settings
    finally:
        app.close()
        assistant.close()


@pytest.fixture
def page(served):
    with chromium() as browser:
        pg = browser.new_context(viewport={"width": 1360, "height": 1000}).new_page()
        pg.goto(served[0])
        pg.wait_for_selector("#ba-question textarea", timeout=60_000)
        yield pg


def test_marking_an_answer_wrong_stores_question_answer_citations_and_reason(page, served, tmp_path, capsys):
    _, settings = served
    page.fill("#ba-question textarea", QUESTION)
    page.click("#ba-ask")
    page.wait_for_selector("#ba-chat .ba-answer", timeout=60_000)
    assert not page.locator("#ba-flag").is_visible(), "the form shows only once an answer is flagged"

    page.locator("#ba-chat .ba-answer").hover()
    page.locator("#ba-chat .extra-feedback").last.hover()  # the flag under the answer; its option shows on hover
    page.locator("#ba-chat .extra-feedback-option", has_text="Wrong answer").last.click()
    page.wait_for_selector("#ba-flag", state="visible", timeout=10_000)
    assert QUESTION in page.locator("#ba-flag-heading").inner_text()
    page.locator("#ba-flag-sentences label", has_text=STALLING).click()
    page.fill("#ba-flag-reason textarea", REASON)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-flag.png"), full_page=True)
    page.click("#ba-flag-save")
    page.wait_for_selector("#ba-flag", state="hidden", timeout=10_000)

    deadline, flags = time.monotonic() + 10, []
    while not flags and time.monotonic() < deadline:
        with Conversations(settings.data_dir) as convs:
            flags = convs.flags()
        time.sleep(0.1)
    [flag] = flags
    assert (flag.kind, flag.reason) == ("wrong", REASON)
    assert len(flag.wrong) == 1 and flag.wrong[0].startswith(STALLING)
    assert flag.turn.question == QUESTION and flag.turn.source == "page"
    shown = page.locator("#ba-chat .ba-answer .ba-text").inner_text()
    assert STALLING in flag.turn.answer and PLAYED_DOWN in flag.turn.answer and STALLING in shown
    cited = json.loads(flag.turn.answer_json)["citations"]
    assert {c["quote"] for c in cited} and any(STALLING in c["quote"] for c in cited)

    out = tmp_path / "flagged.jsonl"
    assert briefing(["log", "--data-dir", str(settings.data_dir), "--export-eval", str(out)]) == 0
    [item] = load_dataset(out)
    assert item.question == QUESTION and item.answerable and REASON in item.note and len(item.must_not_mention) == 1
