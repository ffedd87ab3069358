# `make run` starts the service on its embedded defaults; `make test` runs every check CI runs.
# Both create .venv on first use and reuse it while pyproject.toml is unchanged.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch (the diarizer needs torch). It must be installed before the project:
# a plain `torch` requirement would pull a CUDA build of several GB.
TORCH_SPEC ?= torch==2.13.0

.PHONY: run test lint system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# espeak-ng and sox synthesize the test calls; chromium runs the console's browser tests; nginx is
# the reverse proxy the deployment tests put in front of the service (its own daemon is not started).
system-deps:
	@if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null || ! command -v chromium >/dev/null \
		|| ! [ -x /usr/sbin/nginx ]; then \
		echo "installing espeak-ng, sox, chromium and nginx"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $$SUDO apt-get install -y -qq \
			espeak-ng sox libsox-fmt-all chromium nginx-light >/dev/null; \
		$$SUDO service nginx stop >/dev/null 2>&1 || true; \
	fi

run: $(VENV)/.installed-run
	$(BIN)/voxparse serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache

test: $(VENV)/.installed-test system-deps lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
