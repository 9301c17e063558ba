"""The editor's API calls through the app's same-origin ``/api``, against the wiki directly.

One logged-in browser calls ``/api`` as the editor does (GET with the session
cookie; POST with the page's CSRF token in ``X-CSRFToken``); the baseline sends
the same calls straight to api.php with the very wiki cookies the app stored for
that browser.  Calls alternate (AB, BA, ...) after a warm-up.

Keeping connections alive: the same ``meta=userinfo`` call straight to the wiki
from one pooled ``requests.Session`` against a fresh connection per call, with
the TCP connections the wiki accepted counted from its log.  ``php -S`` closes
every connection after one answer (``Connection: close``), so against this wiki
pooling cannot pay off; what a fresh connection costs where the server does keep
connections alive is measured against the app's own gunicorn (``/livez``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import requests

from tests.wikiserver import WikiServer

from .harness import (
    APP_TIMEOUT, SESSION_COOKIE, USERS, WIKI_TIMEOUT, AppServer, CpuMeter, Row, app_login, compare,
    cpu_row, csrf_token, in_process_app, interleave, median, timed, wiki_pid,
)

NAME = "proxy"
WARMUP = 5
ROUNDS, SECONDS = 80, 15.0
GOAL_RATIO = 1.10
USERINFO = {"action": "query", "meta": "userinfo", "format": "json"}
PARSE = {"action": "parse", "contentmodel": "wikitext", "format": "json",
         "text": "== Benchmark ==\nSome '''bold''' text, a [[Main Page|link]] and a list:\n* one\n* two\n"}


def run(wiki: WikiServer, app: AppServer, workdir: Path) -> list[Row]:
    user = USERS[0]
    browser = app_login(app.url, user)
    token = csrf_token(browser.get(app.url + "/", timeout=APP_TIMEOUT).text)
    direct = _with_stored_cookies(wiki, app, browser.cookies[SESSION_COOKIE])
    same_origin = {"Sec-Fetch-Site": "same-origin", "Origin": app.url}

    def via_app_get() -> None:
        _expect(browser.get(app.url + "/api", params=USERINFO, headers=same_origin, timeout=APP_TIMEOUT),
                lambda d: d["query"]["userinfo"]["name"] == user.name)

    def direct_get() -> None:
        _expect(direct.get(wiki.api_url, params=USERINFO, timeout=WIKI_TIMEOUT),
                lambda d: d["query"]["userinfo"]["name"] == user.name)

    def via_app_post() -> None:
        _expect(browser.post(app.url + "/api", data=PARSE, timeout=APP_TIMEOUT,
                             headers={**same_origin, "X-CSRFToken": token}), lambda d: "parse" in d)

    def direct_post() -> None:
        _expect(direct.post(wiki.api_url, data=PARSE, timeout=WIKI_TIMEOUT), lambda d: "parse" in d)

    cpu = CpuMeter(app=app.pid, wiki=wiki_pid(wiki))
    rows = []
    for metric, via_app, straight in (("meta=userinfo (GET)", via_app_get, direct_get),
                                      ("action=parse (POST)", via_app_post, direct_post)):
        for _ in range(WARMUP):
            via_app()
            straight()
        cpu.take()
        app_times, raw_times = interleave(lambda _: timed(via_app), lambda _: timed(straight),
                                          rounds=ROUNDS, seconds=SECONDS)
        used = cpu.take()
        n = len(app_times)
        # The wiki does the same work for both sides' calls.
        app_cpu, wiki_cpu = used["app"] / n * 1000, used["wiki"] / (2 * n) * 1000
        rows += [
            compare(NAME, f"{metric}: median per call (n={n})", median(app_times), median(raw_times),
                    at_most=GOAL_RATIO),
            cpu_row(NAME, f"{metric}: server CPU per call", app_cpu, wiki_cpu, wiki_cpu),
        ]
    return rows + _keep_alive_rows(wiki, app, direct)


def _keep_alive_rows(wiki: WikiServer, app: AppServer, pooled: requests.Session) -> list[Row]:
    """Fresh connection per call vs. one pooled session: to the wiki, and to a keep-alive server."""
    def fresh_to_wiki() -> None:
        requests.get(wiki.api_url, params=USERINFO, cookies=pooled.cookies, timeout=WIKI_TIMEOUT).raise_for_status()

    def pooled_to_wiki() -> None:
        pooled.get(wiki.api_url, params=USERINFO, timeout=WIKI_TIMEOUT).raise_for_status()

    mark = wiki.log_mark()
    fresh, reused = interleave(lambda _: timed(fresh_to_wiki), lambda _: timed(pooled_to_wiki),
                               rounds=ROUNDS, seconds=SECONDS)
    calls = len(wiki.api_requests_since(mark))  # also waits until php -S has logged every close
    with open(wiki.log_path, "rb") as log:
        log.seek(mark)
        accepted = sum(line.rstrip().endswith(b" Accepted") for line in log)

    keep_alive = requests.Session()
    url = app.url + "/livez"
    fresh_local, reused_local = interleave(
        lambda _: timed(lambda: requests.get(url, timeout=APP_TIMEOUT).raise_for_status()),
        lambda _: timed(lambda: keep_alive.get(url, timeout=APP_TIMEOUT).raise_for_status()),
        rounds=4 * ROUNDS, seconds=SECONDS / 3)
    return [
        compare(NAME, f"wiki: fresh connection per call vs pooled ({accepted / calls:.2f} TCP "
                      f"connections per call either way)", median(fresh), median(reused)),
        compare(NAME, "keep-alive server (gunicorn /livez): fresh connection vs pooled",
                median(fresh_local), median(reused_local), fmt=lambda s: f"{s * 1000:.2f} ms"),
    ]


def _with_stored_cookies(wiki: WikiServer, app: AppServer, sid: str) -> requests.Session:
    """A bare session holding exactly the wiki cookies the app stored for session ``sid``."""
    iface = in_process_app(wiki, app.workdir).session_interface
    stored = iface._retrieve_session_data(iface._get_store_id(sid)) or {}
    http = requests.Session()
    for name, value, domain, path, expires, secure in stored.get("wiki_cookies", []):
        http.cookies.set_cookie(requests.cookies.create_cookie(
            name, value, domain=domain, path=path, expires=expires, secure=secure))
    return http


def _expect(resp: requests.Response, ok: Callable[[dict], bool]) -> None:
    resp.raise_for_status()
    if not ok(resp.json()):
        raise AssertionError(f"unexpected answer from {resp.url}: {resp.text[:300]}")
