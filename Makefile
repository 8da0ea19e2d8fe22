# Two commands on a fresh machine: `make run` (chat on the sample briefing) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever pyproject.toml, the lock file or this file changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock Makefile | sha256sum | cut -c1-12)
# Empty: the library every `briefing` command uses by default (BRIEFING_DATA_DIR or ~/.local/share/briefing-assistant).
DATA ?=
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install lock run test test-fast cycles browser eval eval-judge bench bench-serve eval-retrieval eval-news clean

install: $(STAMP)

# llama-cpp-python is built from source for this CPU (-march=native), once per CPU and version (~14 min
# on 2 cores), into a wheel directory keyed by both: a wheel built on another CPU can crash here (pip's
# own cache keys wheels by version only). AMX is left out: some VMs list AMX but fault on its first
# instruction (seen here: general protection fault in ggml's AMX matmul), and it only pays on big batches.
LLAMA_VERSION := $(shell grep -o 'llama-cpp-python\[server\]==[0-9.]*' pyproject.toml | cut -d= -f3)
LLAMA_CFLAGS := $(if $(filter x86_64,$(shell uname -m)),-mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
LLAMA_KEY := $(shell (grep -m1 '^flags' /proc/cpuinfo; echo '$(LLAMA_VERSION) $(LLAMA_CFLAGS)') | sha256sum | cut -c1-12)
LLAMA_WHEELS := $(HOME)/.cache/briefing-assistant/wheels/llama-$(LLAMA_KEY)

# requirements.lock pins every package to the versions tested (pip constraints: pyproject's ranges decide
# what is needed, the lock which version); llama-cpp-python is not in it, it comes from the wheel built here.
PIP_CONSTRAINTS ?= -c requirements.lock
$(STAMP): pyproject.toml requirements.lock Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  CFLAGS='$(LLAMA_CFLAGS)' CXXFLAGS='$(LLAMA_CFLAGS)' $(BIN)/python -m pip wheel --quiet --no-deps \
	    --no-cache-dir -w $(LLAMA_WHEELS) 'llama-cpp-python==$(LLAMA_VERSION)'
	$(BIN)/python -m pip install --quiet $(PIP_CONSTRAINTS) --find-links $(LLAMA_WHEELS) -e '.[local,test]'
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	rm -f $(VENV)/.installed-*
	touch $@

# After changing pyproject.toml's requirements: install them without the lock (pip upgrades only what no longer
# fits), then pin what is installed (scripts/lock.py follows pyproject's requirements, not `pip freeze`).
lock:
	$(MAKE) install PIP_CONSTRAINTS=
	$(BIN)/python scripts/lock.py > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Same library as a later `briefing ask` unless DATA=folder is given.
run: install
	$(BIN)/briefing ingest $(if $(DATA),--data-dir $(DATA)) examples/briefings
	$(BIN)/briefing chat $(if $(DATA),--data-dir $(DATA))

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

# `briefing serve` under load (100 clients on 127.0.0.1, a fake slow model) and 100 MB bodies without a key:
# p50/p99, 429s, RSS, SIGTERM time in bench/serve_load.md and .json.
bench-serve: install
	$(BIN)/python -m evals.bench_serve $(BENCH_SERVE_ARGS)

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
