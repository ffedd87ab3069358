# `make run` starts the service on its embedded defaults; `make test` runs every check CI runs.
# Both create .venv on first use and reuse it while pyproject.toml is unchanged.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch (the diarizer needs torch). It must be installed before the project:
# a plain `torch` requirement would pull a CUDA build of several GB.
TORCH_SPEC ?= torch==2.13.0
# Everything else comes from the lock files, pinned with hashes (`make lock` writes them): the same
# packages on every machine, in CI and in the Docker image, so that measured figures compare.
RUN_LOCK := requirements/run.lock
TEST_LOCK := requirements/test.lock
# Where the CPU build of torch is found when locking (its dependencies differ from the CUDA build's).
TORCH_FIND_LINKS ?= /opt/wheels

.PHONY: run test lint lock system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml $(RUN_LOCK) | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(RUN_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $@

$(VENV)/.installed-test: pyproject.toml $(TEST_LOCK) $(VENV)/.installed-run
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(TEST_LOCK)
	$(BIN)/pip check
	touch $@

# Rewrite the lock files from pyproject.toml (newest versions that fit), torch left to TORCH_SPEC.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	echo "torch==2.13.0+cpu" > $(VENV)/torch-override.txt
	for extra in run test; do \
		$(BIN)/uv pip compile pyproject.toml $$( [ $$extra = test ] && echo --extra test ) --generate-hashes \
			--python-version 3.11 --find-links $(TORCH_FIND_LINKS) --override $(VENV)/torch-override.txt \
			--no-emit-package torch --no-header -q -o requirements/$$extra.lock; \
	done

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
