"""Shared plumbing for tests that serve the real Gradio app on a free loopback port and talk to it
through gradio_client (faults, concurrency), with the model behind tests/support/openai_fault_server.py."""

from __future__ import annotations

import contextlib
import socket
from typing import Iterator

from gradio_client import Client

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.models.llm import OpenAIChat
from assistant.search.store import Store
from assistant.app.ui import build_app, launch_options

from .fakes import FakeEmbedder
from .openai_fault_server import FaultServer

TEST_KEY = "sk-test-fault-0123456789"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remote_assistant(tmp_path, srv: FaultServer, timeout_s: float = 10.0, max_retries: int = 2,
                     **settings: object) -> Assistant:
    """An Assistant configured for an OpenAI-compatible endpoint (the fault server), as a user with a
    hosted model would run it: fake embedder and real embedded Chroma, real openai client."""
    s = Settings(data_dir=tmp_path / "data", **settings,
                 llm={"base_url": srv.base_url, "api_key": TEST_KEY, "model": srv.model,
                      "timeout_s": timeout_s, "max_retries": max_retries})
    embedder = FakeEmbedder()
    store = Store.open(s.data_dir, None, s.collection, embedder)
    llm = OpenAIChat(srv.base_url, TEST_KEY, srv.model, timeout_s=timeout_s, max_retries=max_retries)
    return Assistant(s, store, embedder, llm=llm)


@contextlib.contextmanager
def served(assistant: Assistant) -> Iterator[str]:
    """The chat app over `assistant`, queued as `briefing chat` queues it; yields its URL."""
    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(**launch_options(assistant.settings, port=free_port()),
                           prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        app.close()


def client(url: str) -> Client:
    """A fresh gradio_client session (its own session hash), quiet."""
    return Client(url, verbose=False, analytics_enabled=False, download_files=False)
