# Tally — two commands: `make run` and `make test`.
# Every target installs what it needs into .venv first (idempotent, quick when done).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install java run test ui lint fmt bench manifest explain clean db-stop

install: $(STAMP)

$(STAMP): pyproject.toml
	@echo "installing Tally and its dependencies into $(VENV) (the first time takes a few minutes) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# -qq: errors only (pip's per-index warnings and the build backend's notes are noise here)
	@$(BIN)/python -m pip install -qq --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -qq --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Java 17 for the Spark target (TALLY_ENGINE=spark) and its tests: Debian's package when
# it is missing, or one line saying why not (the Spark tests then skip, saying so).
java:
	@command -v java >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "installing Java 17 for the Spark target (openjdk-17-jre-headless) ..."; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	    else \
	        echo "Java is missing and cannot be installed here (needs root and apt-get): the Spark tests will skip"; \
	    fi; }

run: install            ## embedded PostgreSQL + demo data + materialize every asset once via Dagster
	$(BIN)/tally run

test: install java      ## the whole test suite against a real (embedded) PostgreSQL
	$(BIN)/python -m pytest

ui: install             ## Dagster UI on http://localhost:3000 against the same database
	$(BIN)/tally ui

manifest: install       ## dbt parse -> target/manifest.json (Dagster loads it)
	$(BIN)/tally dbt -- parse

explain: install        ## every incremental mart's SQL per mode -> target/explain/<mart>/<mode>.sql
	$(BIN)/python -m orchestration.explain

bench: install          ## benchmarks (scale runs; not part of CI)
	$(BIN)/python -m bench

lint: install           ## ruff (lint + format check) and sqlfluff (dbt templater; starts the embedded PostgreSQL if needed)
	$(BIN)/ruff check orchestration tests bench
	$(BIN)/ruff format --check orchestration tests bench
	$(BIN)/tally sqlfluff -- lint models tests/dbt

fmt: install
	$(BIN)/ruff format orchestration tests bench
	$(BIN)/ruff check --fix orchestration tests bench

db-stop: install
	$(BIN)/tally db stop

clean:
	-$(BIN)/tally db stop
	rm -rf .tally target logs
