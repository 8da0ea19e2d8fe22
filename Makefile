# Two commands on a fresh machine: `make run` (chat on the sample briefing) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
DATA ?= $(CURDIR)/.data
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test test-fast cycles browser eval eval-judge bench eval-retrieval eval-news clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# llama-cpp-python builds from source once (~14 min on 2 cores); pip reuses the built wheel after that.
	$(BIN)/python -m pip install --quiet -e '.[local,test]'
	rm -f $(VENV)/.installed-*
	touch $@

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install
	$(BIN)/briefing ingest --data-dir $(DATA) examples/briefings
	$(BIN)/briefing chat --data-dir $(DATA)

test: install browser
	$(BIN)/python -m pytest -q -ra

# Unit and component tests (no real model, no `chroma run`, no browser): tests/integration holds exactly the
# tests marked `integration` (tests/conftest.py refuses a misplaced one).
test-fast: install
	$(BIN)/python -m pytest -q tests/unit tests/component

# Import cycles in the package (also a unit test, tests/unit/test_import_cycles.py), with the subpackage graph.
cycles:
	$(BIN)/python tests/support/import_cycles.py --packages

# The seed eval with the committed gates (evals/thresholds.json): exits non-zero when a metric misses
# its threshold or a gated metric was not measured. The tutorial pipeline (naive) runs on the same
# questions beside ours. EVAL_ARGS adds options, e.g. EVAL_ARGS="--baseline old/report.json".
eval: install
	$(BIN)/briefing eval evals/datasets/seed_briefing.jsonl --corpus examples/briefings --out evals/reports/seed \
		--fail-under --config naive $(EVAL_ARGS)

# How far to trust the citation judge: its accuracy on the labelled faithfulness set (evals/results/judge_eval.*).
eval-judge: install
	$(BIN)/briefing eval-judge $(EVAL_JUDGE_ARGS)

# Speed and memory (bench/results.md); BENCH_ARGS=--quick for a short run. Big stores are cached in bench/tmp/.
bench: install
	$(BIN)/python -m evals.bench $(BENCH_ARGS)
	$(BIN)/python -m evals.bench_answers

# Retrieval quality on CLAPnq dev (evals/results/retrieval_clapnq.md), with the fusion/diversity measurements.
eval-retrieval: install
	$(BIN)/python evals/retrieval_clapnq.py --tune

# News-style retrieval (evals/results/retrieval_news.md): dense, BM25 and hybrid with and without time words, on
# evals/datasets/news_dev and CLAPnq; libraries are embedded once into evals/cache/. TUNE=--tune reruns the grid.
eval-news: install
	$(BIN)/python evals/retrieval_news.py --label after $(TUNE)
	$(BIN)/python evals/retrieval_news.py --report

clean:
	rm -rf $(VENV) .data test-artifacts .pytest_cache
