# StatCommons: `make run` sets up what is missing and starts the hub; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-unit test-extension extension lint bench bench-runner bench-search bench-panel bench-pressure images engine-deps browser-deps postgres-deps deps

EXT := extensions/statcommons-workspace
# The official DCAT-AP SHACL shapes the catalogue is checked against (tests/library/test_dcat.py),
# from the reference data beside this checkout when it is there.
export DCAT_AP_SHAPES ?= $(abspath $(wildcard ../shared/data/dcat-ap/dcat-ap-SHACL.ttl))

$(VENV)/.installed: pyproject.toml constraints.txt
	@PYTHON=$(PYTHON) scripts/install-system.sh base
	@echo "==> installing Python packages into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@scripts/install-system.sh base
	@echo "==> installing configurable-http-proxy into node_modules/"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(VENV)/.installed node_modules/.installed

engine-deps:
	@scripts/install-system.sh engine

browser-deps:
	@scripts/install-system.sh browser

postgres-deps:
	@scripts/install-system.sh postgres

## extension: the JupyterLab extension's wheel, rebuilt only when its sources changed (statcommons/platform/images.py)
extension: deps
	@$(PY) -m statcommons.platform.images extension

$(EXT)/node_modules/.package-lock.json: $(EXT)/package.json $(EXT)/package-lock.json
	@scripts/install-system.sh base
	@cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error

## test-extension: the extension's jest tests (request layer, panel, item view, submit form)
test-extension: $(EXT)/node_modules/.package-lock.json
	@cd $(EXT) && npx jest --coverage=false --silent

## run: install what is missing, build the user images if needed, start the hub
run: deps engine-deps extension
	@$(PY) -m statcommons run

## images: build the user images that are missing or whose inputs changed
images: deps engine-deps extension
	@$(PY) -m statcommons images

lint: deps
	@$(VENV)/bin/ruff check statcommons tests benchmarks jupyterhub_config.py $(EXT)/statcommons_workspace

## test: every test tier (unit, hub with containers, OAuth, browser); images are built first.
# Three pytest processes (the tests mostly wait on hubs and containers), each given whole test
# files, so that a module's hub starts once. (loadgroup would split files further, but
# pytest-xdist 3.8 cannot tag the groups under pytest 9.)
XDIST := -n 3 --dist loadfile
test: deps engine-deps browser-deps postgres-deps lint images test-extension
	@$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

## test-unit: every test that needs no running hub, no engine and no browser
test-unit: deps postgres-deps
	@$(PY) -m pytest $(XDIST) -m "not containers and not hub and not browser and not notebooks" $(PYTEST_ARGS)

## bench: every benchmark (spawn, runner, search, Library panel, co-editing, pressure), each next to its baseline
bench: deps engine-deps browser-deps images postgres-deps
	@$(PY) benchmarks/spawn.py
	@$(PY) benchmarks/runner.py
	@$(PY) benchmarks/search.py
	@$(PY) benchmarks/library_panel.py
	@$(PY) benchmarks/collab.py
	@$(PY) benchmarks/pressure.py

## bench-pressure: 30 logins through the form and 200 users' requests from 40 clients, each next to its baseline
bench-pressure: deps engine-deps images
	@$(PY) benchmarks/pressure.py $(BENCH_ARGS)

## bench-collab: edit propagation between two members on a project server, next to a plain request
bench-collab: deps engine-deps browser-deps images
	@$(PY) benchmarks/collab.py $(BENCH_ARGS)

## bench-panel: the Library panel in chromium at 100,000 items: last keystroke to rendered results, next to the bare API call
bench-panel: deps engine-deps browser-deps images
	@$(PY) benchmarks/library_panel.py $(BENCH_ARGS)

## bench-search: catalogue search at 100,000 items (SQLite and PostgreSQL) next to a plain FTS5 query
bench-search: deps postgres-deps
	@$(PY) benchmarks/search.py $(BENCH_ARGS)

## bench-runner: notebook runner overhead and throughput next to bare papermill in a running container
bench-runner: deps engine-deps images
	@$(PY) benchmarks/runner.py $(BENCH_ARGS)
