# Two commands: `make demo` (set up, then crawl the bundled offline portal) and `make test`.
VENV ?= .venv
PYTHON ?= python3

.PHONY: setup demo test check bench clean lock

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[dev]'    # the versions the lock pins
	touch $@

lock: setup      # re-resolve requirements.lock from pyproject.toml (after changing a dependency)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal -o requirements.lock

demo: setup
	$(VENV)/bin/xxgk demo

test: setup
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup --durations=25

check: setup     # the quick tier: lint, types, then tests with no simulator crawls, processes or servers; SQLite only; under a minute
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	XXGK_TEST_DB=sqlite $(VENV)/bin/pytest -q -n 2 -m "not e2e"

bench: setup
	$(VENV)/bin/python benchmarks/crawl_bench.py

clean:
	rm -rf $(VENV) xxgk-demo .pytest_cache
