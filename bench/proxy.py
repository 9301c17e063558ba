"""The editor's API calls through the app's same-origin ``/api``, against the wiki directly.

One logged-in browser calls ``/api`` as the demo editor does (GET with the
session cookie; POST with the page's CSRF token in ``X-CSRFToken``): loading a
page's wikitext (``action=query``), fetching the csrf token (the lightest
call it makes) and previewing (``action=parse``).  The baseline sends the same
calls straight to api.php with the very wiki cookies the app stored for that
browser.  Beside both, the floor: the same calls through ``bench.floor_proxy``,
a bare WSGI forwarder under the same gunicorn, which shows what one hop through
gunicorn costs on this machine before the app does anything.  Calls rotate
(app, raw, floor; then another order) after a warm-up.

Keeping connections alive: the same ``meta=userinfo`` call straight to the wiki
from one pooled ``requests.Session`` against a fresh connection per call, with
the TCP connections the wiki accepted counted from its log.  ``php -S`` closes
every connection after one answer (``Connection: close``), so against this wiki
pooling cannot pay off; what a fresh connection costs where the server does keep
connections alive is measured against the app's own gunicorn (``/livez``).
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

import requests

from devwiki.wikiserver import WikiServer

from .harness import (
    APP_TIMEOUT, SESSION_COOKIE, USERS, WIKI_TIMEOUT, AppServer, CpuMeter, Row, app_login, compare,
    cpu_row, csrf_token, in_process_app, interleave, median, rotate, side_server, timed, wiki_pid,
)

NAME = "proxy"
WARMUP = 5
ROUNDS, SECONDS = 80, 12.0
GOAL_RATIO = 1.05  # per call, against the bare forwarder under the same server
CPU_GOAL_RATIO = 1.10  # its server CPU per call, against the forwarder's
PAGE = "Main Page"
USERINFO = {"action": "query", "meta": "userinfo", "format": "json"}
# What static/js/editor.js sends, parameter for parameter.
LOAD = {"action": "query", "prop": "revisions", "titles": PAGE, "rvslots": "main",
        "rvprop": "content|timestamp|ids|user", "curtimestamp": "1", "format": "json", "formatversion": "2"}
TOKEN = {"action": "query", "meta": "tokens", "type": "csrf", "format": "json", "formatversion": "2"}
PREVIEW = {"action": "parse", "title": PAGE, "contentmodel": "wikitext", "prop": "text", "pst": "1",
           "preview": "1", "disableeditsection": "1", "disablelimitreport": "1", "format": "json",
           "formatversion": "2",
           "text": "== Benchmark ==\nSome '''bold''' text, a [[Main Page|link]] and a list:\n* one\n* two\n"}


def run(wiki: WikiServer, app: AppServer, workdir: Path) -> list[Row]:
    user = USERS[0]
    browser = app_login(app.url, user)
    token = csrf_token(browser.get(app.url + "/", timeout=APP_TIMEOUT).text)
    direct = _with_stored_cookies(wiki, app, browser.cookies[SESSION_COOKIE])
    same_origin = {"Sec-Fetch-Site": "same-origin", "Origin": app.url}
    calls = (
        ("page load: action=query, revisions (GET)", "GET", LOAD, lambda d: "pages" in d["query"]),
        ("csrf token: action=query, tokens (GET)", "GET", TOKEN, lambda d: "csrftoken" in d["query"]["tokens"]),
        ("preview: action=parse (POST)", "POST", PREVIEW, lambda d: "parse" in d),
    )
    rows = []
    with _floor_proxy(wiki, app, direct) as floor_side, requests.Session() as floor:
        cpu = CpuMeter(app=app.pid, floor=floor_side.pid, wiki=wiki_pid(wiki))
        for metric, method, params, ok in calls:
            app_headers = {**same_origin, **({"X-CSRFToken": token} if method == "POST" else {})}
            sides = {
                "app": partial(_call, browser, app.url + "/api", method, params, ok, app_headers, APP_TIMEOUT),
                "raw": partial(_call, direct, wiki.api_url, method, params, ok, {}, WIKI_TIMEOUT),
                "floor": partial(_call, floor, floor_side.url + "/", method, params, ok, {}, APP_TIMEOUT),
            }
            for _ in range(WARMUP):
                for call in sides.values():
                    call()
            # CPU per side: the server's own (app: gunicorn + app; floor: gunicorn + forwarder) and the wiki's.
            used = {side: {"server": 0.0, "wiki": 0.0} for side in sides}

            def metered(side: str) -> float:
                cpu.take()
                seconds = timed(sides[side])
                took = cpu.take()
                if side != "raw":  # the meter's trees are named like the sides
                    used[side]["server"] += took[side]
                used[side]["wiki"] += took["wiki"]
                return seconds

            times = rotate({side: partial(metered, side) for side in sides}, rounds=ROUNDS, seconds=SECONDS)
            n = len(times["app"])
            per = {side: {k: v / n * 1000 for k, v in u.items()} for side, u in used.items()}
            rows += [
                compare(NAME, f"{metric}: median per call (n={n}), app vs the wiki directly",
                        median(times["app"]), median(times["raw"])),
                compare(NAME, f"{metric}: bare gunicorn forwarder (the floor) vs the wiki directly",
                        median(times["floor"]), median(times["raw"])),
                compare(NAME, f"{metric}: median per call, app vs the bare forwarder",
                        median(times["app"]), median(times["floor"]), at_most=GOAL_RATIO),
                cpu_row(NAME, f"{metric}: server CPU per call", per["app"]["server"], per["app"]["wiki"],
                        per["raw"]["wiki"]),
                compare(NAME, f"{metric}: server CPU per call (gunicorn + app vs gunicorn + forwarder)",
                        per["app"]["server"] / 1000, per["floor"]["server"] / 1000,
                        fmt=lambda s: f"{s * 1000:.2f} ms", at_most=CPU_GOAL_RATIO),
            ]
    return rows + _keep_alive_rows(wiki, app, direct)


def _call(http: requests.Session, url: str, method: str, params: dict[str, str], ok: Callable[[dict], bool],
          headers: dict[str, str], timeout: float) -> None:
    """One API call as the editor makes it: GET parameters in the query string, POST in the body."""
    where = {"params": params} if method == "GET" else {"data": params}
    _expect(http.request(method, url, headers=headers, timeout=timeout, **where), ok)


def _floor_proxy(wiki: WikiServer, app: AppServer, direct: requests.Session):
    """``bench.floor_proxy`` beside the app, forwarding with ``direct``'s cookies (a ``harness.Side``)."""
    cookies = "; ".join(f"{c.name}={c.value}" for c in direct.cookies)
    return side_server(app, "bench.floor_proxy", "/?action=query&meta=siteinfo&format=json",
                       FLOOR_WIKI_API_URL=wiki.api_url, FLOOR_COOKIE=cookies)


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
