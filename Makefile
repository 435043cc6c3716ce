# make run: the main job (the cpu-demo preset, headless); make test: the test suite (installed with the
# ray and figures extras, which the Ray executor's and the figures' tests need); make lint: ruff and the
# import contracts. Each installs first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3.11

.PHONY: install run app test lint

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,ray,figures]'
	touch $@

install: $(VENV)/.installed

run: install
	@mkdir -p out
	$(VENV)/bin/tradeoff-tui --preset cpu-demo --export out/cpu-demo.html --export out/cpu-demo.json

app: install
	$(VENV)/bin/tradeoff-tui

test: install
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports
