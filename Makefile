# feedpub: the two set-up commands of the README live here.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip

.PHONY: demo test fuzz bench clean install install-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make demo: build the sample blog's feeds and a digest into public/, send it to outbox/,
## then build again so public/digests/ holds the web copy of the digest just sent
demo: $(VENV)/.installed
	$(VENV)/bin/feedpub build
	$(VENV)/bin/feedpub digest --last 2
	FEEDPUB_UNSUBSCRIBE_SECRET=$${FEEDPUB_UNSUBSCRIBE_SECRET:-demo-only-not-secret} $(VENV)/bin/feedpub send --last 2 --yes
	$(VENV)/bin/feedpub build

## make test: the whole suite
test: $(VENV)/.installed-test
	$(PY) -m pytest -q -p no:cacheprovider

## make fuzz: the post parser under atheris for a fixed number of runs
fuzz: $(VENV)/.installed-test
	$(PIP) install -q -e '.[fuzz]'
	$(PY) tests/fuzz/fuzz_posts.py -runs=$${RUNS:-20000} tests/fuzz/corpus

## make bench: build/digest/send benchmarks, prints a table
bench: $(VENV)/.installed-test
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) public outbox .feedpub build *.egg-info
