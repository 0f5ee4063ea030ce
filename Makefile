# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export OMP_NUM_THREADS ?= 2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup browser-deps bench-deps run test lint typecheck ingest bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first: a CPU build lies on disk; an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Browser tests drive Debian's Chromium; Chinese needs a CJK font. Installed only when missing.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

ingest: setup
	$(BIN)/applybot ingest

run: ingest
	$(BIN)/applybot serve

lint: setup
	$(BIN)/ruff check common retrieval bot handlers tests bench
	$(BIN)/ruff format --check common retrieval bot handlers tests bench

typecheck: setup
	$(BIN)/mypy

test: setup browser-deps lint typecheck
	$(BIN)/python -m pytest

# The HTTP benchmark's load client (C, light enough to leave the 2 cores to the server).
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq wrk; }

# Benchmarks and the full-size reliability run (about an hour on 2 cores); results and plots in docs/.
bench: setup bench-deps
	$(BIN)/python bench/retrieval_bench.py
	$(BIN)/python bench/cmrc_eval.py
	$(BIN)/python bench/answer_bench.py
	$(BIN)/python bench/baselines.py
	$(BIN)/python bench/http_bench.py --client wrk
	$(BIN)/python bench/http_bench.py --client wrk --unseen --out docs/bench_http_unseen.json
	$(BIN)/python bench/http_bench.py --client httpx --out docs/bench_http_httpx.json
	$(BIN)/python bench/plots.py
	APPLYBOT_FULL_RELIABILITY=1 $(BIN)/python -m pytest tests/system/test_reliability.py

clean:
	rm -rf $(VENV) .applybot
