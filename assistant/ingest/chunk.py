"""Cut Articles into Chunks: sentence-aligned, one section at a time, with exact body offsets.

The only importer of langchain-text-splitters. Every chunk satisfies
`chunk.text == article.body[chunk.start:chunk.end]`, and no chunk boundary falls inside a sentence.
"""

from __future__ import annotations

import hashlib

from ..config import Settings
from ..errors import IngestError
from ..sentences import SENTENCE_BOUNDARY
from ..types import Article, Chunk


class Chunker:
    """What the Ingestor cuts articles with: `chunker(article) -> list[Chunk]`, with the chunk size and
    overlap fixed when it is built (BRIEFING_CHUNK_SIZE, BRIEFING_CHUNK_OVERLAP)."""

    def __init__(self, size: int, overlap: int) -> None:
        self.size = size
        self.overlap = overlap

    @classmethod
    def from_settings(cls, settings: Settings) -> "Chunker":
        """The chunker for these settings (`chunk_size`, `chunk_overlap`)."""
        return cls(settings.chunk_size, settings.chunk_overlap)

    def __call__(self, article: Article) -> list[Chunk]:
        """The article's chunks (empty when it has no text)."""
        return chunk_article(article, self.size, self.overlap)


def chunk_article(article: Article, size: int, overlap: int) -> list[Chunk]:
    """Cut an article into sentence-aligned chunks, one section at a time, with body offsets."""
    body = article.body
    headings = sorted(article.headings)
    # Imported here, not at the top: it takes ~0.4 s, and only an ingest needs it (not `briefing ask`).
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=["\n\n", "\n", SENTENCE_BOUNDARY],
        is_separator_regex=True, keep_separator="end", strip_whitespace=True, add_start_index=True,
    )
    # Sections: the text between one heading and the next; the label joins the open headings.
    spans: list[tuple[int, int, str]] = []
    cursor, top, sub = 0, "", ""
    for start, end, level in headings:
        # Cut at the heading's whole line, so markers such as "## " or a closing " ##" stay out of chunks.
        line_start = body.rfind("\n", 0, start) + 1
        if line_start > cursor:
            spans.append((cursor, line_start, _label(top, sub)))
        if level == 1:
            top, sub = body[start:end], ""
        else:
            sub = body[start:end]
        line_end = body.find("\n", end)
        cursor = len(body) if line_end < 0 else line_end
    spans.append((cursor, len(body), _label(top, sub)))
    chunks: list[Chunk] = []
    for a, b, section in spans:
        part = body[a:b]
        if not part.strip():
            continue
        for doc in splitter.create_documents([part]):
            # The splitter returns a split longer than chunk_size (one long sentence) unstripped,
            # with its separator whitespace attached: trim it here and shift the offset to match.
            raw = doc.page_content
            text = raw.strip()
            if not text:
                continue
            found_at = int(doc.metadata.get("start_index", -1))
            s = a + found_at + (len(raw) - len(raw.lstrip())) if found_at >= 0 else -1
            if s < a or body[s:s + len(text)] != text:
                found = body.find(text, a, b)
                if found < 0:  # cannot happen with verbatim splits; refuse to store a wrong offset
                    raise IngestError(f"chunk offsets could not be located in article {article.id}")
                s = found
            chunks.append(Chunk(id=chunk_id(article.id, text, s), article_id=article.id, text=text,
                                start=s, end=s + len(text), section=section, index=len(chunks)))
    return chunks


def _label(top: str, sub: str) -> str:
    return " \u203a ".join(x for x in (top, sub) if x)


def chunk_id(article_id: str, text: str, start: int) -> str:
    """Stable id from the article id and the chunk's content and place."""
    return "c-" + hashlib.sha256(f"{article_id}\x00{start}\x00{text}".encode()).hexdigest()[:20]
