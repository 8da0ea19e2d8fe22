"""Files uploaded from the chat page: what is accepted, under which name it is kept, and never
overwriting another upload. Plain Python (no gradio), so ui.py stays the page and these stay testable."""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from ..errors import IngestError
from ..ingest.files import SUFFIXES, decode

if TYPE_CHECKING:
    from ..config import Settings

UPLOAD_TYPES = "txt, md, html, json or jsonl"


def accept_uploads(settings: "Settings", files: Sequence[Any] | None,
                   replace: bool = False) -> tuple[list[Path], list[str], list[str]]:
    """Check each file (check_upload) and copy the accepted ones under <data_dir>/uploads with safe names,
    never over another upload of the same name unless the bytes are equal or `replace` (place_upload).
    Returns (saved paths, "name: reason" for each refused file, a notice for each file saved under another name)."""
    dest = Path(settings.data_dir) / "uploads"
    accepted: list[Path] = []
    rejected: list[str] = []
    renamed: list[str] = []
    for item in files or []:
        src = Path(item if isinstance(item, (str, Path)) else getattr(item, "name", str(item)))
        problem = check_upload(src, settings.upload_limit_mb, settings.upload_limit_setting)
        if problem:
            rejected.append(f"{src.name}: {problem}")
            continue
        name = safe_name(src.name)
        try:
            target = place_upload(src, dest, name, accepted, replace)
        except OSError as exc:
            rejected.append(f"{src.name}: could not be saved under {dest} ({exc.strerror or exc})")
            continue
        if target.name != name and not any(t.name == name for t in accepted):
            renamed.append(f"{src.name} was added as {target.name}: an earlier upload named {name} holds other "
                           "text. Tick \u201cReplace earlier uploads with the same name\u201d to replace it.")
        accepted.append(target)
    return accepted, rejected, renamed


def check_upload(path: Path, max_mb: float, setting: str = "BRIEFING_UI__MAX_UPLOAD_MB") -> str:
    """Why an uploaded file is refused ("" when it is fine): wrong extension, empty, over the size limit
    (`setting` names the variable that raises it), or binary content whatever its name says."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        kind = f"{suffix} files are" if suffix else "files without an extension are"
        return f"{kind} not supported; upload {UPLOAD_TYPES}"
    try:
        size = path.stat().st_size
    except OSError:
        return "the upload did not arrive; try again"
    if size == 0:
        return "the file is empty"
    if size > max_mb * 1e6:
        shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"
        return f"{shown} is over the {max_mb:g} MB upload limit ({setting})"
    # Sniff the content too: a PNG renamed .txt must not even reach the upload folder.
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError:
        return "the upload could not be read; try again"
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return ""  # UTF-16/32 text: decoding 8 kB of it could split a character; ingest checks it whole
    try:
        decode(head)
    except IngestError as exc:
        return f"{exc}; upload {UPLOAD_TYPES} text"
    return ""


def safe_name(name: str) -> str:
    """A file name safe to write: ASCII letters, digits, dot, dash and underscore; no folders, no
    leading dot; the (lowercased) extension kept, and a date like 2025-04-02 in it survives."""
    base = re.split(r"[\\/]", name)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:80] or "upload"
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())[:10]
    return f"{stem}.{suffix}" if suffix else stem


def unique_target(folder: Path, name: str, taken: Sequence[Path]) -> Path:
    """folder/name, or folder/name-2... when another file of this upload already took that name."""
    return next(t for t in _candidates(folder, name) if t not in taken)


def place_upload(src: Path, folder: Path, name: str, taken: Sequence[Path], replace: bool = False) -> Path:
    """Copy an upload into `folder` and return where it went, never clobbering another upload:
    the first of name, name-2, name-3... that is free (claimed atomically, so two sessions uploading
    at once cannot both take it) or already holds exactly these bytes (a re-upload: ingest finds it
    unchanged). With `replace`, folder/name is overwritten: the explicit "replace" of the page."""
    folder.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()  # at most the upload limit (check_upload ran first)
    for target in _candidates(folder, name):
        if target in taken:
            continue  # another file of this same upload
        if replace and target.name == name:
            tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.part"
            tmp.write_bytes(data)
            os.replace(tmp, target)
            return target
        try:
            with target.open("xb") as f:
                f.write(data)
            return target
        except FileExistsError:
            if target.read_bytes() == data:
                return target
    raise OSError(f"too many uploads named {name}")


def _candidates(folder: Path, name: str, limit: int = 1000) -> Iterator[Path]:
    stem, dot, suffix = name.rpartition(".")
    yield folder / name
    for n in range(2, limit):
        yield folder / (f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}")
