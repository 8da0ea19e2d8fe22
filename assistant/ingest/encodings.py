"""Content-Encoding of downloaded pages, decoded with a bound on the output.

httpx decodes a compressed body one network read at a time and hands back everything that read
expands to: an 809-byte brotli response became 1 GB (2.1 GB peak RSS) before the size limit was
checked. Here the raw bytes (already capped by web.download) are decoded in pieces of at most the
bytes still allowed, so a bomb stops at the limit. An encoding that cannot be bounded with the
installed libraries is neither advertised nor read.
"""

from __future__ import annotations

import io
import zlib
from typing import Callable, Iterator

from ..errors import IngestError

_PIECE = 1 << 16  # decoded bytes per step once the room left is larger


def _brotli_bounded() -> bool:
    try:
        import brotli
    except ImportError:
        return False
    # brotli >= 1.2 can stop a step at a given output size; older versions decode a block whole.
    return hasattr(brotli.Decompressor(), "can_accept_more_data")


def _zstd_available() -> bool:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


def supported() -> tuple[str, ...]:
    """The encodings this module decodes with a bound, in the order to offer them."""
    return ("gzip", "deflate") + (("br",) if _brotli_bounded() else ()) + (("zstd",) if _zstd_available() else ())


def accept_encoding() -> str:
    """The Accept-Encoding header to send: only what `decode` can bound (httpx offers more)."""
    return ", ".join(supported())


def decode(raw: bytes, encoding: str, max_bytes: int, too_big: Callable[[], str]) -> bytes:
    """`raw` decoded per its Content-Encoding header, stopping with IngestError(too_big()) as soon as
    the output passes `max_bytes`. Raises IngestError for an encoding that is not supported."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip().lower() != "identity"]
    if not codings:
        return raw
    if len(codings) > 1:
        raise IngestError(f"the site sent a body encoded {len(codings)} times ({encoding}); "
                          "save the page from a browser and ingest the file")
    coding = codings[0]
    steps = {"gzip": _zlib_steps, "x-gzip": _zlib_steps, "deflate": _zlib_steps, "br": _brotli_steps,
             "zstd": _zstd_steps}.get(coding)
    if steps is None or (coding == "br" and not _brotli_bounded()) or (coding == "zstd" and not _zstd_available()):
        raise IngestError(f"the site sent {coding}-compressed content, which is not read; save the page from a "
                          "browser and ingest the file")
    out, size = [], 0
    try:
        for piece in steps(raw, coding, lambda: max_bytes - size + 1):
            size += len(piece)
            if size > max_bytes:
                raise IngestError(too_big())
            out.append(piece)
    except IngestError:
        raise
    except Exception as exc:  # zlib.error, brotli.error, zstandard.ZstdError: all a corrupt body
        raise IngestError(f"the page's {coding} compression is corrupt ({exc}); try again later") from exc
    return b"".join(out)


def _zlib_steps(raw: bytes, coding: str, room: Callable[[], int]) -> Iterator[bytes]:
    if coding == "deflate":
        # "deflate" is zlib-wrapped by the standard and raw by some servers; the header tells which.
        wrapped = len(raw) >= 2 and raw[0] & 0x0F == 8 and ((raw[0] << 8) | raw[1]) % 31 == 0
        d = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
    else:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = raw
    while data and not d.eof:
        piece = d.decompress(data, min(room(), _PIECE))
        data = d.unconsumed_tail
        yield piece
    yield d.flush()


def _brotli_steps(raw: bytes, coding: str, room: Callable[[], int]) -> Iterator[bytes]:
    import brotli

    d = brotli.Decompressor()
    yield d.process(raw, output_buffer_limit=min(room(), _PIECE))
    while not d.is_finished() and not d.can_accept_more_data():
        yield d.process(b"", output_buffer_limit=min(room(), _PIECE))


def _zstd_steps(raw: bytes, coding: str, room: Callable[[], int]) -> Iterator[bytes]:
    import zstandard

    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True) as reader:
        while piece := reader.read(min(room(), _PIECE)):
            yield piece
