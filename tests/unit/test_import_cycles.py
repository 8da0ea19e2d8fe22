"""The import-cycle check of tests/support/import_cycles.py, run by CI as a test: the package has no
cycle, and the checker does find one when there is one (a check that cannot fail is decoration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import ROOT
from ..support.import_cycles import cycles, graph, main, package_graph


def test_the_package_has_no_import_cycle():
    found = cycles(graph(ROOT))
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_subpackages_form_layers():
    # Folded to subpackages the graph is acyclic too: ingest/ may use search/, answer/ may use both,
    # app/ and evaluation/ sit on top; nothing below the front door imports it.
    folded = package_graph(graph(ROOT))
    assert cycles(folded) == []
    below = ("assistant.ingest", "assistant.search", "assistant.answer", "assistant.models")
    assert not any("assistant.assistant" in folded[p] for p in below)


def _package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "assistant"
    pkg.mkdir(parents=True)
    for name, text in {"__init__.py": "", **files}.items():
        (pkg / name).write_text(text)
    return root


def test_the_checker_finds_a_two_module_cycle_even_when_one_import_is_lazy(tmp_path, capsys):
    root = _package(tmp_path, {
        "a.py": "from . import b\n",
        "b.py": "def f():\n    from .a import g  # lazy: only hides the cycle until f runs\n",
    })
    assert cycles(graph(root)) == [["assistant.a", "assistant.b"]]
    assert main(["--root", str(root)]) == 1
    assert "cycle: assistant.a <-> assistant.b" in capsys.readouterr().out


def test_the_checker_counts_type_checking_imports_and_passes_a_clean_package(tmp_path):
    typed = _package(tmp_path / "typed", {
        "a.py": "from .b import B\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n",
    })
    assert cycles(graph(typed)) == [["assistant.a", "assistant.b"]]
    clean = _package(tmp_path / "clean", {"a.py": "from .b import B\n", "b.py": "import json\n"})
    assert cycles(graph(clean)) == [] and main(["--root", str(clean)]) == 0
