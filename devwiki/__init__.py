"""Real MediaWiki wikis on this machine, for `make run`, the test suite and the benchmarks.

- ``wikiserver``: install and serve a wiki (SQLite, ``php -S`` on 127.0.0.1) from the
  host's ``mediawiki`` package or from the other LTS's Debian root, with demo users,
  TOTP, captchas and the test-only TestIdP provider (``tests/mediawiki/``);
- ``mwroot``: build, once, that Debian root of the other suite (cached outside the repo);
- ``devstack``: what ``make run`` starts: a wiki and the app.

Tooling, not the app: the Docker image leaves it out.
"""
