"""20 concurrent chat sessions through gradio_client against the served app, while a library
ingest runs in the same process: no errors, no cross-talk between sessions, no torn reads.

The model is the fault server's `echo` mode behind the real openai client: it answers from the
request alone (evidence line [1] plus the question's session token; a follow-up rewrite carries
the conversation's token), so 40 turns run in seconds and any mixing of sessions shows up as a
foreign sess... token. Numbers for the closing note are printed (run with -s to see them).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.app.ui import answer_concurrency

from ..support.live_app import client, remote_assistant, served
from ..support.openai_fault_server import SESSION_TOKEN, FaultServer

pytestmark = pytest.mark.integration

SESSIONS = 20
BATCHES = 6  # ingest runs while the sessions ask
PER_BATCH = 5


def wire_record(n: int, version: int = 0) -> dict:
    """A small wire story; id fixed, so a later version of wire-000 updates it in place."""
    body = (f"Harbour report {n} version {version}.\nThe port of Kestrel {n} reopened to cargo ships on "
            f"Tuesday after a two-week closure, officials said. Dock workers in Kestrel {n} expect "
            f"{100 + n + version} ships this month, version {version} of the report said.")
    return {"id": f"wire-{n:03d}", "title": f"Kestrel port {n}", "source": "Wire",
            "published_at": f"2025-04-{1 + n % 27:02d}", "body": body}


# None: the default for an endpoint of one's own (4 answers at once); 20: every session in parallel,
# which is what shakes out thread-safety bugs in the Assistant, the store and the retriever.
@pytest.mark.parametrize("limit", [None, SESSIONS], ids=["default-4", "all-20"])
def test_twenty_sessions_with_follow_ups_while_ingesting(tmp_path, seed_dir, limit):
    with FaultServer(model="echo-model", default="echo") as srv:
        a = remote_assistant(tmp_path, srv, ui={"concurrency": limit})
        assert a.ingest([seed_dir]).added
        assert answer_concurrency(a.settings) == (limit or 4)
        versions: dict[str, list[str]] = {}  # every body each article id ever had, for the torn-read check
        errors: list[str] = []
        ingesting = threading.Event()
        ingesting.set()

        def ingest_batches() -> None:
            try:
                for b in range(BATCHES):
                    recs = [wire_record(b * PER_BATCH + i + 1) for i in range(PER_BATCH)] + [wire_record(0, b)]
                    for r in recs:
                        versions.setdefault(r["id"], []).append(r["body"])
                    path = tmp_path / f"batch-{b}.jsonl"
                    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
                    report = a.ingest([path])
                    if report.failed:
                        errors.append(f"ingest batch {b}: {report.failed}")
            except Exception as exc:  # reported below, with everything else
                errors.append(f"ingest: {exc!r}")
            finally:
                ingesting.clear()

        searches = [0]

        def search_while_ingesting() -> None:
            # Every passage must come from a fully recorded article: its text is the body (of some
            # version ever written) at the passage's offsets, and the article can be read back.
            while ingesting.is_set():
                try:
                    for p in a.search("Kestrel port reopened cargo ships", k=8):
                        art = a.article(p.article_id)
                        known = versions.get(p.article_id, []) + ([art.body] if art else [])
                        if art is None or not any(body[p.start:p.end] == p.text for body in known):
                            errors.append(f"torn read: {p.chunk_id} of {p.article_id}")
                    searches[0] += 1
                except Exception as exc:
                    errors.append(f"search during ingest: {exc!r}")

        def session(i: int) -> dict:
            token = "sess" + chr(97 + i // 26) + chr(97 + i % 26) + "".join(
                chr(97 + int(c, 16) % 26) for c in uuid.uuid4().hex[:6])
            c = client(url)
            first = c.predict(question=f"Is Russia stalling for time? {token}", api_name="/ask")
            history = [{"role": "user", "content": f"Is Russia stalling for time? {token}"},
                       {"role": "assistant", "content": first["text"]}]
            second = c.predict(question="And what do experts suspect about the troops?",
                               history=json.dumps(history), api_name="/ask")
            return {"token": token, "answers": [first, second]}

        with served(a) as url:
            started = time.perf_counter()
            writer = threading.Thread(target=ingest_batches)
            reader = threading.Thread(target=search_while_ingesting)
            writer.start()
            reader.start()
            with ThreadPoolExecutor(SESSIONS) as pool:
                futures = [pool.submit(session, i) for i in range(SESSIONS)]
                results = []
                for f in futures:
                    try:
                        results.append(f.result(timeout=240))
                    except Exception as exc:
                        errors.append(f"session: {exc!r}")
            writer.join(timeout=120)
            reader.join(timeout=120)
            wall = time.perf_counter() - started

        cross_talk, turns = 0, 0
        for r in results:
            for answer in r["answers"]:
                turns += 1
                seen = set(SESSION_TOKEN.findall(" ".join((answer["text"], answer["question"], answer["model_rewritten_question"] or ""))))
                if seen != {r["token"]}:
                    cross_talk += 1
                    errors.append(f"{r['token']} got {sorted(seen)} in {answer['text']!r}")
                if not answer["answerable"] or not answer["citations"]:
                    errors.append(f"{r['token']}: no cited answer: {answer['text']!r}")
                for cite in answer["citations"]:
                    art = a.article(cite["article_id"])
                    if art is None or art.body[cite["start"]:cite["end"]] != cite["quote"]:
                        errors.append(f"{r['token']}: citation {cite['key']} is not verbatim")
        records = a.store.article_records()
        print(f"\nCONCURRENCY limit={limit or 4} sessions={SESSIONS} turns={turns} errors={len(errors)} cross_talk={cross_talk} "
              f"wall_s={wall:.1f} searches_during_ingest={searches[0]} articles={len(records)} "
              f"model_requests={len(srv.posts)}")
        assert not errors, "\n".join(errors[:20])
        assert turns == 2 * SESSIONS and cross_talk == 0
        assert searches[0] > 0, "the search thread never overlapped the ingest"
        # Nothing lost: the seed, every wire story, and wire-000 at its last version.
        assert len(records) == 1 + 1 + BATCHES * PER_BATCH
        assert a.article("wire-000").body == versions["wire-000"][-1]
        # No orphan or duplicate chunks: exactly the chunks the committed records account for.
        assert a.store.count() == sum(r.chunk_count for r in records.values())
