# make run: create .venv, install, open the window on the sample corpus.
# make test: the whole suite, headless.  make bench: benchmarks, JSON report in bench-report.json,
# printed as the README's table.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/annotator

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) tests/benchmarks/run.py --out bench-report.json
	$(PY) tests/benchmarks/table.py bench-report.json

lint: $(STAMP)
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/test_architecture.py tests/test_architecture_ui.py

clean:
	rm -rf $(VENV) build *.egg-info
