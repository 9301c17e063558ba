# Two commands on a fresh machine:  `make run`  and  `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
WIKI_PORT ?= 8080
# Debian packages: a real MediaWiki (1.39 LTS) and PHP for it, Chromium for the
# browser tests, Redis for the multi-process tests.
APT_PACKAGES := mediawiki php-cli php-sqlite3 php-intl php-mbstring php-xml chromium redis-server

.PHONY: deps system-deps venv run test test-fast bench clean

deps: system-deps venv

system-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# A local real MediaWiki with demo users (unless WIKI_API_URL is set), and the app.
run: deps
	@$(PY) -m tests.devstack --port $(PORT) --wiki-port $(WIKI_PORT)

# The whole suite: unit tests, real-MediaWiki integration tests, Chromium UI tests.
test: deps
	$(PY) -m pytest -ra

test-fast: venv
	$(PY) -m pytest -ra -m "not slow"

bench: deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) .devwiki instance .pytest_cache artifacts
