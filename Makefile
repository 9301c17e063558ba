# Two commands on a fresh machine:  `make run`  and  `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
WIKI_PORT ?= 8080
# MediaWiki branch for `make run` (1.39 or 1.43; empty: the host's package).
MW ?=
# Debian packages: a real MediaWiki (the host's LTS: 1.39 on Debian 12, 1.43 on
# Debian 13) and PHP for it, debootstrap for the other LTS's Debian root,
# Chromium for the browser tests, Redis for the multi-process tests, and
# python3-venv for the virtualenv (python3 -m venv needs it on Debian).
APT_PACKAGES := mediawiki php-cli php-sqlite3 php-intl php-mbstring php-xml debootstrap chromium redis-server python3-venv

.PHONY: deps system-deps venv catalogs translations-extract translations-update mw-root run test test-fast bench clean

deps: system-deps venv catalogs

# The app's own words (README, "Languages"): the catalogs in translations/ are
# compiled here, never committed as binaries.  extract + update after changing words.
PYBABEL := $(VENV)/bin/pybabel
catalogs: venv
	@$(PYBABEL) compile -d translations --statistics 2>&1 | grep -v "^compiling"; test $${PIPESTATUS[0]} -eq 0

translations-extract: venv
	$(PYBABEL) extract -F translations/babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --project wiki-login --copyright-holder "wiki-login contributors" -o translations/messages.pot .

translations-update: translations-extract
	$(PYBABEL) update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

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

# The other MediaWiki LTS: a Debian root of the other suite (trixie's 1.43 on
# Debian 12, bookworm's 1.39 on Debian 13), built once (about 2-4 minutes) and
# cached in /var/cache/wiki-login/ (devwiki/mwroot.py). Standard library only.
mw-root: system-deps
	@python3 -m devwiki.mwroot

# A local real MediaWiki with demo users (unless WIKI_API_URL is set), and the app.
run: deps
	@$(PY) -m devwiki.devstack --port $(PORT) --wiki-port $(WIKI_PORT) $(if $(MW),--mw $(MW))

# The whole suite: unit tests, and the real-MediaWiki integration and Chromium UI
# tests against both MediaWiki LTS versions.
test: deps mw-root
	$(PY) -m pytest -ra

test-fast: venv catalogs mw-root
	$(PY) -m pytest -ra -m "not slow"

bench: deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) .devwiki .devwiki-mw* instance .pytest_cache artifacts
