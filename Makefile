# One word each: make run, make test, make lint, make bench.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core from npm, for the accessibility browser test (tests/browser/test_accessibility.py).
AXE_VERSION := 4.14.1
AXE := .cache/npm/node_modules/axe-core/axe.min.js

.PHONY: run test test-sqlite test-postgres lint bench install axe-core clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,search]'
	touch $(STAMP)

install: $(STAMP)

## axe-core for the accessibility test, in .cache/npm (git-ignored; needs npm). Without it that test skips.
axe-core: $(AXE)

$(AXE):
	npm install --no-save --no-audit --no-fund --prefix .cache/npm axe-core@$(AXE_VERSION)

## Install into .venv, create the database and serve http://127.0.0.1:8000 (data in ./paperboy-data).
run: $(STAMP)
	$(BIN)/paperboy serve

## The whole suite on SQLite, then again on PostgreSQL when PAPERBOY_TEST_DATABASE_URL is set
## (.ci/run starts a server and sets it; scripts/pg-test-server does the same locally), then the
## modules that search vectors on PostgreSQL with pgvector when PAPERBOY_TEST_PGVECTOR_URL is set
## (`scripts/pg-test-server start pgvector`), where the database's HNSW index answers them.
PGVECTOR_TESTS := tests/functional/test_search_api.py tests/functional/test_search_pages.py \
	tests/functional/test_paper_page.py tests/functional/test_for_you.py \
	tests/functional/test_digest_for_you.py tests/unit/services/test_recommend.py
test: $(STAMP)
	env -u PAPERBOY_TEST_DATABASE_URL $(BIN)/pytest -n 2 -q
	@if [ -n "$$PAPERBOY_TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL"; \
		PAPERBOY_TEST_DATABASE_URL=$$PAPERBOY_TEST_DATABASE_URL $(BIN)/pytest -n 2 -q; \
	else echo "(PAPERBOY_TEST_DATABASE_URL unset: PostgreSQL pass skipped; see README)"; fi
	@if [ -n "$$PAPERBOY_TEST_PGVECTOR_URL" ]; then \
		echo "--- the tests that search vectors, on PostgreSQL with pgvector"; \
		PAPERBOY_TEST_DATABASE_URL=$$PAPERBOY_TEST_PGVECTOR_URL $(BIN)/pytest -n 2 -q $(PGVECTOR_TESTS); \
	else echo "(PAPERBOY_TEST_PGVECTOR_URL unset: the pgvector pass skipped; see README)"; fi

## ruff, mypy (strict), and the layer contracts of pyproject.toml's [tool.importlinter].
lint: $(STAMP)
	$(BIN)/ruff check paperboy tests bench
	$(BIN)/ruff format --check paperboy tests bench
	$(BIN)/mypy paperboy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .cache/npm
