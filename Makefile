# Backprop Lab. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: env build release demo check lint test sweep lab formgrader screenshots clean

env: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

build: env  ## regenerate course/ from solutions/
	$(PY) -m autograder build

release: env  ## regenerate course/ and zip the student bundle into dist/
	$(PY) -m autograder bundle

demo: env  ## grade a sample class of chapter 01 end to end
	$(PY) -m autograder demo

lint: env  ## ruff (lint and format) on the package, the grader, the tests and the chapter sources
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: lint  ## the fast loop: lint, the quick tests, and chapter 01's sample class graded
	$(PY) -m pytest -n 2 -q -m "not slow and not grading and not browser"
	$(PY) -m pytest -q tests/test_demo.py

# Three pytest-xdist workers even on 2 cores: the browser, Dask and grading tests spend part of
# their time waiting on other processes, and a chapter's class stays on one worker (loadgroup).
test: lint  ## the test suite but the sweep (CI runs both)
	$(PY) -m pytest -n 3 --dist loadgroup -m "not sweep"

sweep: env  ## the rest of the mutants, the corpus on Dask, chapters 05, 07 and 08 at full size, the backbone rebuilt (marker sweep)
	$(PY) -m pytest -n 3 --dist loadgroup -m sweep

lab: env  ## JupyterLab on the student notebooks
	$(VENV)/bin/jupyter lab course

formgrader: env  ## JupyterLab for the instructor: Nbgrader > Formgrader shows what `make demo` graded
	$(VENV)/bin/jupyter lab

screenshots: env  ## refresh the README's screenshots (docs/screenshots/) with the browser test
	BACKPROPLAB_README_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py

clean:
	rm -rf autograder/working dist solutions/*/*.ipynb
