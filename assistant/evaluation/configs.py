"""`--config name=overrides`: the same questions over other settings, on the same ingested library.

    --config k8=answer_k=8                  our pipeline with answer_k 8
    --config quote=answer.style=quote       a nested setting (dotted path into Settings)
    --config naive                          the tutorial pipeline (naive.py): BM25 top-4 ~1000-char chunks
    --config naive-dense=pipeline=naive,mode=dense,k=4,chunk_chars=1000
    --config naive-plain=pipeline=naive,prompt=naive_answer_plain   (no refusal instruction)

Values are read as JSON when they parse (numbers, true/false/null), else as text. An override of
`llm.*` builds a fresh chat model from the changed settings; everything else reuses the run's
model, store and embedder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

NAIVE_KEYS = ("mode", "k", "chunk_chars", "prompt")


@dataclass(frozen=True)
class RunConfig:
    """One named configuration: settings overrides, or the naive pipeline with its options."""

    name: str
    overrides: tuple[tuple[str, Any], ...] = ()
    naive: bool = False

    def describe(self) -> dict[str, Any]:
        """For reports: name, pipeline and overrides."""
        return {"name": self.name, "pipeline": "naive" if self.naive else "briefing",
                "overrides": dict(self.overrides)}


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_config(spec: str) -> RunConfig:
    """'name' or 'name=key=value,key=value' -> RunConfig; ConfigError when malformed."""
    name, _, rest = spec.partition("=")
    name = name.strip()
    if not name or name == "default":
        raise ConfigError(f"--config {spec!r} needs a name other than 'default'",
                          hint="use NAME=key=value[,key=value], e.g. k8=answer_k=8, or naive")
    pairs: list[tuple[str, Any]] = []
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--config {spec!r}: {part!r} is not key=value", hint="e.g. k8=answer_k=8")
        pairs.append((key.strip(), _value(value.strip())))
    naive = name == "naive" or dict(pairs).get("pipeline") == "naive"
    pairs = [(k, v) for k, v in pairs if k != "pipeline"]
    if naive:
        unknown = [k for k, _ in pairs if k not in NAIVE_KEYS]
        if unknown:
            raise ConfigError(f"--config {spec!r}: the naive pipeline has no option {unknown[0]!r}",
                              hint=f"naive options: {', '.join(NAIVE_KEYS)}")
    return RunConfig(name, tuple(pairs), naive)


def override_settings(settings: Any, overrides: tuple[tuple[str, Any], ...]) -> Any:
    """A copy of the settings with dotted-path overrides applied, each type-checked against the current value."""
    for path, value in overrides:
        settings = _set(settings, path.split("."), value, path)
    return settings


def _set(model: Any, parts: list[str], value: Any, path: str) -> Any:
    head = parts[0]
    fields = type(model).model_fields
    if head not in fields:
        raise ConfigError(f"--config: no setting {path!r}", hint=f"settings here: {', '.join(sorted(fields))}")
    current = getattr(model, head)
    if len(parts) > 1:
        return model.model_copy(update={head: _set(current, parts[1:], value, path)})
    if isinstance(current, bool) and not isinstance(value, bool) or \
            isinstance(current, (int, float)) and not isinstance(current, bool) and not isinstance(value, (int, float)):
        raise ConfigError(f"--config: {path} takes a {type(current).__name__}, not {value!r}")
    return model.model_copy(update={head: value})


def build(spec: RunConfig, assistant: Any) -> Any:
    """Something with `.ask(question, history=None, **filters) -> Answer` for this configuration."""
    if spec.naive:
        from .naive import NaivePipeline

        return NaivePipeline(assistant, assistant.llm, **dict(spec.overrides))
    from ..assistant import Assistant

    settings = override_settings(assistant.settings, spec.overrides)
    own_llm = any(k.startswith("llm.") for k, _ in spec.overrides)
    return Assistant(settings, assistant.store, assistant.embedder, llm=None if own_llm else assistant.llm)
