# The platform's two commands are `make run` and `make test`; both set everything up by themselves.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell sha256sum $(LOCK) clients/python/pyproject.toml clients/console/pyproject.toml pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)
export PYTHONPATH := $(CURDIR):$(CURDIR)/clients/python:$(CURDIR)/clients/console
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# pip names every package missing from this machine's local mirrors; that is noise, not a problem.
PIP_NOISE := is ignored: it is neither a file nor a directory

.PHONY: help venv console-assets run test bench eval train lint proto lock breaking sbom clean

help:
	@echo "make run    - set up and start the whole platform, then walk through it (Ctrl-C stops it)"
	@echo "make test   - set up and run the test suite"
	@echo "make bench  - run every benchmark (bench/results/*.json)"
	@echo "make eval   - measure decision quality (eval/results/*.json)"
	@echo "make train  - retrain the committed model artefacts (within the tolerance the tests state)"
	@echo "make lint   - ruff, mypy, buf lint/breaking, and an SBOM (build/sbom.json)"
	@echo "make proto  - regenerate the Python code and descriptor set from proto/"
	@echo "make lock   - re-resolve requirements.in into requirements.lock (hashes)"

# The virtualenv is rebuilt only when the lock or a pyproject changes (a stamp named by their digest).
venv: $(STAMP)
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@# Every package pinned with its hash, torch as the local CPU build: nothing resolves at install time.
	@echo "installing the locked environment into $(VENV) (first time: several minutes)"
	@$(PY) -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r $(LOCK) > $(VENV)/install.log 2>&1 \
	  || { grep -v "$(PIP_NOISE)" $(VENV)/install.log | tail -40; exit 1; }
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  -e clients/python -e clients/console > $(VENV)/install-local.log 2>&1 \
	  || { grep -v "$(PIP_NOISE)" $(VENV)/install-local.log | tail -40; exit 1; }
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "environment ready"

lock:
	$(PY) -m piptools compile --generate-hashes --allow-unsafe --strip-extras -q -o $(LOCK) requirements.in

proto: venv
	$(PY) proto/generate.py

# The console's browser libraries (cytoscape) from npm, by the lock's integrity hashes; never committed.
CONSOLE_ASSETS := clients/console/node_modules/.package-lock.json
console-assets: $(CONSOLE_ASSETS)
$(CONSOLE_ASSETS): clients/console/package-lock.json
	@echo "installing the console's browser libraries from clients/console/package-lock.json"
	@cd clients/console && npm ci --ignore-scripts --no-audit --no-fund --silent
	@touch $@

run: venv console-assets
	$(PY) -m server.devrun

test: venv console-assets
	@bash tests/setup.sh
	$(PY) -m pytest

bench: venv
	@set -e; for b in bench/*.py; do case $$b in */_*) continue;; esac; echo "== $$b"; $(PY) $$b; done

eval: venv
	@set -e; for e in eval/*.py; do case $$e in */_*) continue;; esac; echo "== $$e"; $(PY) $$e; done

train: venv
	$(PY) -m server.risk.train
	$(PY) -m server.customer.intents.train

lint: venv
	$(PY) -m ruff check server inference retrieval clients/python/fintech/client tests bench eval proto
	@# Two runs: checked together, the SDK's package root makes mypy read the generated stubs' enum types
	@# into the servers' code, which passes plain ints to enum fields (valid protobuf, a stub mismatch).
	$(PY) -m mypy server inference retrieval
	$(PY) -m mypy clients/python/fintech/client
	@bash proto/buf.sh lint
	@bash proto/buf.sh breaking
	@$(MAKE) --no-print-directory sbom

breaking: venv
	@bash proto/buf.sh breaking

sbom: venv
	@mkdir -p build
	$(PY) -m cyclonedx_py environment $(VENV) -o build/sbom.json --of JSON
	@echo "SBOM written to build/sbom.json"

clean:
	rm -rf build var .pytest_cache
