"""Benchmarks: what the app costs on top of the wiki's own time, measured side by side.

Each benchmark runs the app (under gunicorn, over real HTTP, or in-process for
the session store) and a baseline (a bare ``requests`` script making the same
wiki API calls, or the same app with a smaller store) against one local real
MediaWiki, in the same run, interleaved, and reports ratios against goals:

- ``login``: one login at a time, plain and two-factor (bench/login.py);
- ``concurrency``: 200 logins of distinct users, 20 at a time (bench/concurrency.py);
- ``proxy``: the editor's API calls through ``/api`` against the wiki directly (bench/proxy.py);
- ``store``: per-request cost with 100 vs 10,000 stored sessions, files and Redis (bench/store.py);
- ``servers``: gunicorn gthread (8 and 32 threads), gunicorn gevent and granian serving the app and
  a bare forwarder: latency, CPU, 200 logins, a slow wiki, a graceful restart (bench/servers.py).

``python -m bench`` (``make bench``) runs them all and prints one table;
``python -m bench.profile_login`` shows where the app's time goes during a login.
"""
