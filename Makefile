# The two commands the README leads with:
#   make repro   set up .venv if needed, then run the whole DVC pipeline
#   make test    set up .venv if needed, then lint and run the test suite (not the system tests)
#   make test-system   the system tests (docs/testing.md); CI runs both
#   make tracking-server   the team's MLflow tracking server (docs/scaling-out.md)
#   make exp-show   DVC's experiment table, only what changed, in 120 columns (docs/experiments-and-sweeps.md)
# Set-up is incremental: .venv is (re)built only when pyproject.toml or constraints.txt change.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.convscope-installed

.PHONY: setup repro test test-system lint format lock clean-venv tracking-server exp-show

setup: $(STAMP)

# uv installs the pinned set faster than pip (benchmarks/decisions.md); it
# is itself pinned in constraints.txt and bootstrapped with the venv's own pip. Bytecode is
# compiled at install so that no stage process compiles TensorFlow again.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev,server,slurm]'
	touch $(STAMP)

# DVC runs the stage commands (`python -m convscope.<stage>`) with the PATH it is given.
repro: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro

# The team's MLflow tracking server on PostgreSQL (docs/scaling-out.md); settings from the
# environment: MLFLOW_BACKEND_STORE_URI (required), MLFLOW_ARTIFACTS_DESTINATION, MLFLOW_HOST,
# MLFLOW_PORT (see the script).
tracking-server: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" scripts/tracking-server

# DVC's experiment table, only what changed, in 120 columns (see the script's header).
exp-show: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" scripts/exp-show

# The suite a developer runs: lint, then every test but the system tests (docs/testing.md).
test: lint
	$(BIN)/pytest -m "not system"

# The system tests: servers, sweeps, queues, kills and resumes, benchmarks. CI runs both.
test-system: $(STAMP)
	$(BIN)/pytest -m system

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: $(STAMP)
	{ echo '# Exact versions `make` installs (pip freeze of a tested environment). Regenerate with `make lock`.'; \
	  $(BIN)/uv pip freeze --python $(BIN)/python --exclude-editable | grep -viE '^(pip|setuptools|wheel)=='; } > constraints.txt

clean-venv:
	rm -rf $(VENV)
