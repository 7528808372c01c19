# The project's commands. Each sets up what it needs in .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: setup serve-setup demo train models test lint

# Everything: training (torch), export, demo, tests; and onnxruntime-node (when npm exists) for the test
# that runs the models in another runtime. Its install script would fetch CUDA binaries from nuget; the
# CPU build it bundles is all the test needs, hence ONNXRUNTIME_NODE_INSTALL=skip.
setup: $(VENV)/.full
$(VENV)/.full: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[train,dev]"
	if command -v npm >/dev/null; then ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund; fi
	touch $@

# Serving only: numpy, onnxruntime, gradio, pillow. No torch.
serve-setup: $(VENV)/.serve
$(VENV)/.serve: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e .
	touch $@

demo: serve-setup
	$(PY) -m demo

train: setup
	$(PY) -m zoo train all

# Rebuild the committed models: train every model, export it, prove it.
models: setup
	$(PY) -m zoo train all
	$(PY) -m export all
	$(PY) -m export --check

test: setup
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
