# Gongzhi — `make run` and `make test` are all a fresh clone needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast lint bench clean i18n

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: setup
	GONGZHI_DEMO=$${GONGZHI_DEMO:-1} $(BIN)/gongzhi up

# One pytest process per CPU (at most 8: each keeps to a Redis database of its own, see
# tests/celery_harness.py); `PYTEST_ARGS="-n 0"` runs the suite in this one process.
test: setup
	$(BIN)/pytest -n auto --maxprocesses 8 $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy shared services workers

# Messages: extract the keys used in the code and templates, merge them into the
# zh_CN and en catalogs (new keys appear untranslated there), compile the .mo files.
# Keys reach the catalogs through these calls; error keys through the domain errors that carry them.
I18N_KEYWORDS := -k translate -k message -k plural_message:1,2 -k N_ -k NP_:1,2 -k Invalid:2 \
	-k DomainError -k NotFound -k Forbidden -k Unauthorized -k Conflict -k Stale -k PreconditionRequired \
	-k TooLarge -k UnsupportedMedia -k TooManyRequests -k error_response:3 -k error_page:3
i18n: setup
	$(BIN)/pybabel extract -F babel.cfg $(I18N_KEYWORDS) --no-location --sort-output -o shared/locale/gongzhi.pot .
	$(BIN)/pybabel update -i shared/locale/gongzhi.pot -d shared/locale -D gongzhi --no-fuzzy-matching --width 0
	$(BIN)/pybabel compile --statistics -d shared/locale -D gongzhi

bench: setup
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
