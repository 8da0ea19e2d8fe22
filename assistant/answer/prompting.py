"""Prompt templates: files under prompts/, loaded by name, rendered with strict variables.

A template file holds `@system` and `@user` sections; `{{name}}` marks a variable. Rendering with
a missing variable or an unexpected one raises PromptError, so a typo never ships a silent prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import PromptError

_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SECTION = re.compile(r"^@(system|user)\s*$", re.M)


def prompts_dir() -> Path:
    """The prompts folder: inside the installed package (wheel), else the repository's top level."""
    package = Path(__file__).resolve().parent.parent  # assistant/
    for candidate in (package / "prompts", package.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise PromptError("prompts folder not found next to the package", hint="reinstall briefing-assistant")


@dataclass(frozen=True)
class Prompt:
    """A loaded template: its name, its sections and the variables they use."""

    name: str
    system: str
    user: str

    @property
    def variables(self) -> frozenset[str]:
        """Every {{variable}} the template needs."""
        return frozenset(_VAR.findall(self.system) + _VAR.findall(self.user))

    def render(self, **values: object) -> list[dict[str, str]]:
        """Chat messages with every variable filled; rejects missing and unknown variables."""
        missing = self.variables - values.keys()
        unknown = values.keys() - self.variables
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(sorted(missing))}")
            if unknown:
                parts.append(f"unknown {', '.join(sorted(unknown))}")
            raise PromptError(f"prompt '{self.name}': {'; '.join(parts)} variable(s)")

        # One pass over the template: values are inserted verbatim and never re-scanned, so text
        # that itself contains {{...}} (an article, a question) cannot inject another variable.
        def fill(text: str) -> str:
            return _VAR.sub(lambda m: str(values[m.group(1)]), text)

        messages = []
        if self.system:
            messages.append({"role": "system", "content": fill(self.system)})
        messages.append({"role": "user", "content": fill(self.user)})
        return messages


@lru_cache(maxsize=32)
def load_prompt(name: str) -> Prompt:
    """Load prompts/<name>.md. Raises PromptError when it is missing or has no @user section."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise PromptError(f"invalid prompt name {name!r}")
    path = prompts_dir() / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"no prompt named '{name}' ({path} is missing)")
    text = path.read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    marks = list(_SECTION.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        sections[m.group(1)] = text[m.end():end].strip("\n")
    if "user" not in sections:
        raise PromptError(f"prompt '{name}' has no @user section")
    return Prompt(name=name, system=sections.get("system", ""), user=sections["user"])
