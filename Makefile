# Kehu — the two commands: `make demo` and `make test`. Both build .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE ?= kehu.settings

.PHONY: demo test test-fast lint typecheck check schema schema-check messages vendor bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kehu migrate --noinput
	$(BIN)/kehu compilemessages --ignore=.venv -v 0
	$(BIN)/kehu demo
	@# a worker for background jobs (exports) beside the web server, stopped with it
	$(BIN)/kehu db_worker --interval 1 --no-startup-delay & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/kehu runserver $${KEHU_ADDR:-127.0.0.1:8000}

## The whole suite: gates first (cheap), then pytest (unit, API fuzzing, browser).
test: $(STAMP) check
	$(BIN)/pytest -n 2 --dist loadfile -m "not browser and not serial"
	$(BIN)/pytest -m "browser or serial"  # live-server and transactional tests flush the database: run apart

check: $(STAMP)
	$(BIN)/kehu compilemessages --ignore=.venv -v 0
	$(BIN)/python -m kehu.core.i18ncheck
	$(BIN)/ruff check .
	$(BIN)/kehu check
	$(BIN)/kehu makemigrations --check --dry-run
	$(BIN)/python -m kehu.core.schemacheck

typecheck: $(STAMP)
	$(BIN)/mypy kehu

## Regenerate the committed OpenAPI schema after a deliberate API change.
schema: $(STAMP)
	$(BIN)/kehu spectacular --file docs/openapi.yaml --validate

messages: $(STAMP)
	$(BIN)/kehu makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=benchmarks
	$(BIN)/kehu compilemessages --ignore=.venv

## Refresh the vendored front-end files from the npm registry (never needed to run Kehu).
vendor:
	./scripts/vendor.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) *.egg-info
