"""Getting briefings in: reading files, web pages and feeds into Articles, cutting them into Chunks, and
the ingest pipeline that embeds and stores them (idempotent, safe to kill)."""
