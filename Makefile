# Two commands: `make demo` (set up, then crawl the bundled offline portal) and `make test`.
VENV ?= .venv
PYTHON ?= python3

.PHONY: setup demo test check bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(VENV)/bin/xxgk demo

test: setup
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

check: setup     # the quick tier: no simulator crawls, processes or servers; SQLite only; well under a minute
	XXGK_TEST_DB=sqlite $(VENV)/bin/pytest -q -n 2 -m "not e2e"

bench: setup
	$(VENV)/bin/python benchmarks/crawl_bench.py

clean:
	rm -rf $(VENV) xxgk-demo .pytest_cache
