# The project's commands. Each sets up what it needs in .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: setup serve-setup demo train models check test lint

# Everything: training (torch), export, demo, tests.
setup: $(VENV)/.full
$(VENV)/.full: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[train,dev]"
	touch $@

# Serving only: numpy, onnxruntime, gradio, pillow. No torch.
serve-setup: $(VENV)/.serve
$(VENV)/.serve: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e .
	touch $@

train: setup
	$(PY) -m zoo train all

test: setup
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
