# Backprop Lab. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: env build release demo test lab clean

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

test: env  ## the whole test suite (what CI runs)
	$(PY) -m pytest -n 2 --dist loadgroup

lab: env  ## JupyterLab on the student notebooks
	$(VENV)/bin/jupyter lab course

clean:
	rm -rf autograder/working dist solutions/*/*.ipynb
