# meterkast task runner. `make demo` and `make test` work on a fresh machine: they create the
# virtualenv and install what is missing. CI calls `make test` unchanged (see .ci/run).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The compiled kernels (every src/meterkast/**/_*.c, see setup.py) are built in place by the
# editable install; this rebuilds them whenever a C source changes.
NATIVE_SRC := $(shell find src -name '_*.c' -o -name '_*.h')
NATIVE := $(VENV)/.native-$(shell cat setup.py $(NATIVE_SRC) | cksum | cut -d' ' -f1)
DEMO_CONNECTIONS ?= 2000
DEMO_HOME ?= .meterkast/demo
DEMO_PORT ?= 8000

.PHONY: demo test lint typecheck unit bench clean install docs chromium native

install: $(STAMP) $(NATIVE)

native: $(NATIVE)

$(NATIVE): $(STAMP) setup.py $(NATIVE_SRC)
	$(BIN)/python setup.py --quiet build_ext --inplace
	rm -f $(VENV)/.native-*
	touch $@

$(STAMP): pyproject.toml setup.py
	command -v gcc >/dev/null || (apt-get update && apt-get install -y gcc)
	$(PYTHON) -c "import sysconfig, pathlib, sys; sys.exit(not pathlib.Path(sysconfig.get_paths()['include'], 'Python.h').exists())" \
		|| (apt-get update && apt-get install -y python3-dev)
	test -f /usr/include/openssl/evp.h || (apt-get update && apt-get install -y libssl-dev)
	test -f /usr/include/sqlite3.h || (apt-get update && apt-get install -y libsqlite3-dev)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The demo runs on a fresh embedded instance of its own (SQLite + local files, no server).
demo: $(STAMP) $(NATIVE)
	rm -rf $(DEMO_HOME)
	export METERKAST_HOME=$(DEMO_HOME); \
	$(BIN)/meterkast init && \
	$(BIN)/meterkast generate --connections $(DEMO_CONNECTIONS) --seed 42 --history-months 24 && \
	$(BIN)/meterkast area summary && \
	$(BIN)/meterkast fleet build && \
	$(BIN)/meterkast read --from $$(date -d '-3 days' +%F) --to $$(date -d '-1 day' +%F) && \
	$(BIN)/meterkast demo-access --base-url http://127.0.0.1:$(DEMO_PORT) && \
	$(BIN)/meterkast serve --port $(DEMO_PORT)

lint: $(STAMP) $(NATIVE)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP) $(NATIVE)
	$(BIN)/mypy

unit: $(STAMP) $(NATIVE)
	$(BIN)/pytest -q tests/unit

# The browser tests drive Debian's Chromium (Playwright without its own browser download).
chromium:
	command -v chromium || (apt-get update && apt-get install -y chromium)

test: lint typecheck chromium
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP) $(NATIVE)
	$(BIN)/python -m bench

docs: $(STAMP) $(NATIVE)
	$(BIN)/typer meterkast.cli utils docs --name meterkast --output docs/cli.md
	$(BIN)/meterkast register export --format md --output docs/register.md

clean:
	rm -rf $(VENV) .meterkast .pytest_cache .mypy_cache .ruff_cache
