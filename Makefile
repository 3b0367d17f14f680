# Two commands: `make demo` (set up, then crawl the bundled offline portal) and `make test`.
VENV ?= .venv
PYTHON ?= python3

.PHONY: setup demo test bench clean

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

bench: setup
	$(VENV)/bin/python benchmarks/crawl_bench.py

clean:
	rm -rf $(VENV) xxgk-demo .pytest_cache
