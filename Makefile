# The two commands of the README: `make demo` and `make test`.
# Everything a fresh Debian machine lacks is installed from here, so a clean clone needs nothing by hand.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test install system-deps bench clean i18n

demo: install
	$(VENV)/bin/wangxun demo

# The code is checked before it is tested: ruff (lint, then formatting) and import-linter (the
# layers in pyproject.toml). Any of them failing fails the command, as a test would.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -n auto --dist loadfile $(PYTEST_ARGS)

install: system-deps $(STAMP)

# Debian's chromium (Playwright's own browser download is blocked here) and CJK fonts for screenshots.
system-deps:
	@bash scripts/install_system_deps.sh

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip setuptools wheel
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

# The web app's catalogues (webmap/translations): extract every message id, update zh_CN and en. Write
# the English for new ids in webmap/translations/en/LC_MESSAGES/messages.po (the app compiles the .mo
# files at start when they are missing or older than the .po).
i18n: install
	$(VENV)/bin/python scripts/i18n.py update
	$(VENV)/bin/python scripts/i18n.py missing || echo "English still to write for the ids above"

bench: install
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) var
