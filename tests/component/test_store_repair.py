"""A library damaged the way two writers on one data dir left it (issue 28, item 6): article records
whose chunks are gone. Ingest and `briefing doctor` find them and chunk and embed them again."""

from __future__ import annotations

from assistant.app import doctor
from assistant.search.store import Store


def _damage(store: Store, article_id: str) -> None:
    # What another writer's cleanup did: the chunks deleted, the record kept.
    store.chunks.delete(where={"article_id": article_id})


def _stored_chunks(store: Store, article_id: str) -> int:
    return len(store.chunks.get(where={"article_id": article_id}, include=[])["ids"])


def test_ingest_repairs_an_article_left_without_its_chunks(fake_assistant, seed_dir):
    (aid,) = fake_assistant.ingest([seed_dir]).added
    want = fake_assistant.article(aid).chunk_count
    _damage(fake_assistant.store, aid)
    assert fake_assistant.store.miscounted() == [aid]
    report = fake_assistant.ingest([seed_dir])
    assert report.unchanged == [aid]  # same hash: before the repair, it never healed
    assert _stored_chunks(fake_assistant.store, aid) == want
    assert fake_assistant.store.miscounted() == []
    assert fake_assistant.search("Dmitriev Washington envoy", k=3, mode="bm25")[0].article_id == aid


def test_doctor_finds_and_repairs_miscounted_articles(fake_assistant, seed_dir, tmp_path):
    extra = tmp_path / "extra.md"
    extra.write_text("# Port reopens\n\nThe port of Kestrel reopened on Tuesday after a closure.\n\n"
                     "## Ships\n\nDock workers expect a hundred ships this month, officials said.\n")
    fake_assistant.ingest([seed_dir, extra])
    store, ids = fake_assistant.store, sorted(r for r in fake_assistant.store.article_records())
    counts = {i: store.article(i).chunk_count for i in ids}
    for i in ids:
        _damage(store, i)
    check = doctor.chunk_check(store, fake_assistant.embedder, fake_assistant.settings)
    assert check.ok and f"repaired {len(ids)} article(s)" in check.detail
    assert {i: _stored_chunks(store, i) for i in ids} == {i: store.article(i).chunk_count for i in ids}
    assert all(store.article(i).chunk_count > 0 for i in ids) and sum(counts.values()) > 0
    again = doctor.chunk_check(store, fake_assistant.embedder, fake_assistant.settings)
    assert again.detail == "every article has the chunks its record counts"


def test_a_second_writer_waits_and_then_gives_up_with_a_hint(tmp_path):
    import multiprocessing

    from assistant.search.writelock import WriteLock

    path = tmp_path / "data" / "write.lock"
    ctx = multiprocessing.get_context("fork")
    held, release = ctx.Event(), ctx.Event()

    def hold() -> None:
        with WriteLock(path):
            held.set()
            release.wait(30)

    child = ctx.Process(target=hold)
    child.start()
    try:
        assert held.wait(30)
        try:
            with WriteLock(path, wait_s=0.3):
                raise AssertionError("two processes held the write lock at once")
        except Exception as exc:  # StoreError naming the holder
            assert f"pid {child.pid}" in str(exc) and "try again" in exc.one_line()
    finally:
        release.set()
        child.join(30)
    with WriteLock(path, wait_s=1):  # free again once the other process let go
        pass
