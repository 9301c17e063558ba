"""Which WSGI server serves users best: gunicorn gthread (32 threads as deployed; 8), gunicorn
gevent, granian WSGI.

Each of ``serving.KINDS`` serves the app and the bare forwarder
(``bench.floor_proxy``), both started by this benchmark with the same
environment, and is measured on the same wiki in the same run:

1. **Latency and CPU:** the editor's page-load call (``action=query``,
   revisions) through each app's ``/api`` and each forwarder, and straight to
   the wiki, rotating over all of them after a warm-up; the CPU time of each
   server's process tree per call.
2. **200 logins, 20 at a time** through each app (login and landing page),
   in halves run in the order of ``KINDS`` and then the other way round:
   throughput, p95, errors, and every browser its own user.
3. **A slow wiki:** behind ``serving.SlowWiki``, 16 and then 64 calls that the
   wiki takes 2 s to answer, all at once; meanwhile another user's request
   (a new visitor's login page; for the forwarder, a fast API call).  How long
   until all slow calls are answered (2 s when the server does not queue them),
   and how long the other user waited.
4. **Graceful restart:** SIGHUP to the server while login pages and slow
   ``/api`` calls are in flight: requests that failed, and whether the workers
   were really replaced.
"""
from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import requests

from devwiki.wikiserver import WikiServer, free_port

from .concurrency import Phase
from .harness import (
    APP_TIMEOUT, SESSION_COOKIE, USERS, WIKI_TIMEOUT, AppServer, CpuMeter, Row, app_env, app_login, check,
    compare, logged_in_as, median, new_browser, p95, raw_login, rotate, timed, wiki_pid,
)
from .serving import KINDS, SLOW_PARAM, SLOW_SECONDS, Served, SlowWiki

NAME = "servers"
BASE = KINDS[0]  # as deployed
WARMUP = 5
ROUNDS, SECONDS = 100, 25.0
PARALLEL_LOGINS = 20
SLOW_AT_ONCE = (16, 64)
RESTART_SECONDS, RESTART_AFTER = 9.0, 2.0
LOAD = {"action": "query", "prop": "revisions", "titles": "Main Page", "rvslots": "main",
        "rvprop": "content|timestamp|ids|user", "curtimestamp": "1", "format": "json", "formatversion": "2"}
FAST = {"action": "query", "meta": "userinfo", "format": "json"}
READY = "/?action=query&meta=siteinfo&format=json"


def run(wiki: WikiServer, app: AppServer, workdir: Path) -> list[Row]:
    with _servers(wiki.api_url, workdir / "direct") as (apps, forwarders, cookies):
        rows = _latency_rows(wiki, apps, forwarders, cookies)
        rows += _login_rows(wiki, apps)
    with SlowWiki(wiki.api_url) as slow, _servers(slow.api_url, workdir / "slow") as (apps, forwarders, _):
        rows += _slow_rows(apps, forwarders)
        rows += [_restart_row(kind, served) for kind, served in apps.items()]
    return rows


@contextlib.contextmanager
def _servers(api_url: str, workdir: Path) -> Iterator[tuple[dict[str, Served], dict[str, Served], str]]:
    """The app and the forwarder under every kind of server, for the wiki at ``api_url``.

    The forwarders use the wiki cookies of one user logged in by a bare script,
    and get the app's environment too (gunicorn.conf.py checks it at start).
    """
    jar = raw_login(api_url, USERS[-1]).cookies
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    with contextlib.ExitStack() as stack:
        apps, forwarders = {}, {}
        for kind in KINDS:
            port = free_port()
            env = {**app_env(_Wiki(api_url), workdir / kind, f"http://127.0.0.1:{port}"), "LOG_LEVEL": "INFO"}
            apps[kind] = stack.enter_context(Served(kind, "app", env, workdir, "/livez", port=port))
            forwarders[kind] = stack.enter_context(Served(
                kind, "bench.floor_proxy", {**env, "FLOOR_WIKI_API_URL": api_url, "FLOOR_COOKIE": cookies},
                workdir, READY))
        yield apps, forwarders, cookies


class _Wiki:
    """What ``app_env`` reads of a wiki: its API address."""

    def __init__(self, api_url: str):
        self.api_url = api_url


def _api(base: str, sid: str, params: dict[str, str], timeout: float = APP_TIMEOUT) -> requests.Response:
    """One same-origin GET through an app's /api, by the browser whose session is ``sid``."""
    return requests.get(base + "/api", params=params, cookies={SESSION_COOKIE: sid}, timeout=timeout,
                        headers={"Sec-Fetch-Site": "same-origin", "Origin": base, "Connection": "close"})


def _expect(resp: requests.Response) -> None:
    resp.raise_for_status()
    if "query" not in resp.json():
        raise AssertionError(f"unexpected answer from {resp.url}: {resp.text[:200]}")


def _latency_rows(wiki: WikiServer, apps: dict[str, Served], forwarders: dict[str, Served],
                  cookies: str) -> list[Row]:
    """The page-load call through every server, rotating, with each server's CPU per call."""
    browsers = {kind: app_login(served.url, USERS[i]) for i, (kind, served) in enumerate(apps.items())}
    direct = requests.Session()
    direct.headers["Cookie"] = cookies
    calls: dict[str, Callable[[], None]] = {"wiki": lambda: _expect(direct.get(wiki.api_url, params=LOAD,
                                                                               timeout=WIKI_TIMEOUT))}
    roots = {}
    for kind in KINDS:
        session, forwarder = browsers[kind], requests.Session()
        headers = {"Sec-Fetch-Site": "same-origin", "Origin": apps[kind].url}
        calls[f"{kind} app"] = partial(lambda s, u, h: _expect(s.get(u, params=LOAD, headers=h,
                                                                     timeout=APP_TIMEOUT)),
                                       session, apps[kind].url + "/api", headers)
        calls[f"{kind} forwarder"] = partial(lambda s, u: _expect(s.get(u, params=LOAD, timeout=APP_TIMEOUT)),
                                             forwarder, forwarders[kind].url + "/")
        roots[f"{kind} app"], roots[f"{kind} forwarder"] = apps[kind].pid, forwarders[kind].pid
    for _ in range(WARMUP):
        for call in calls.values():
            call()
    cpu = CpuMeter(**roots)
    used = dict.fromkeys(roots, 0.0)

    def metered(name: str) -> float:
        cpu.take()
        seconds = timed(calls[name])
        if name in roots:
            used[name] += cpu.take()[name]
        return seconds

    times = rotate({name: partial(metered, name) for name in calls}, rounds=ROUNDS, seconds=SECONDS)
    n = len(times["wiki"])
    rows = []
    for what in ("forwarder", "app"):
        base = f"{BASE} {what}"
        for kind in KINDS:
            name = f"{kind} {what}"
            against = "the wiki directly" if kind == BASE else BASE
            rows.append(compare(NAME, f"{kind}: {what}, /api page load, median per call (n={n}) vs {against}",
                                median(times[name]), median(times["wiki" if kind == BASE else base])))
        for kind in KINDS:
            name = f"{kind} {what}"
            rows.append(compare(NAME, f"{kind}: {what}, server CPU per call vs {BASE}",
                                used[name] / n, used[base] / n, fmt=lambda s: f"{s * 1000:.2f} ms"))
    return rows


def _login_rows(wiki: WikiServer, apps: dict[str, Served]) -> list[Row]:
    """200 logins, 20 at a time, through each app: halves in the order a, b, c, c, b, a."""
    phases = {kind: Phase(CpuMeter(app=served.pid, wiki=wiki_pid(wiki))) for kind, served in apps.items()}
    half = len(USERS) // 2
    for kind in KINDS:
        phases[kind].run(partial(app_login, apps[kind].url), USERS[:half])
    for kind in reversed(KINDS):
        phases[kind].run(partial(app_login, apps[kind].url), USERS[half:])
    base = phases[BASE]
    rows = []
    for kind, phase in phases.items():
        own = sum(logged_in_as(b.get(apps[kind].url + "/", timeout=APP_TIMEOUT).text, name)
                  for name, b in phase.sessions.items())
        rows += [
            compare(NAME, f"{kind}: {len(phase.times)} logins, {PARALLEL_LOGINS} at a time: throughput vs {BASE}",
                    phase.throughput, base.throughput, fmt=lambda v: f"{v:.1f} logins/s"),
            compare(NAME, f"{kind}: p95 per login, {PARALLEL_LOGINS} at a time vs {BASE}", p95(phase.times),
                    p95(base.times)),
            compare(NAME, f"{kind}: server CPU per login (app alone) vs {BASE}", phase.cpu_per_login("app"),
                    base.cpu_per_login("app"), fmt=lambda v: f"{v:.1f} ms"),
            check(NAME, f"{kind}: login errors; sessions that are their own user", len(phase.errors),
                  f"{own}/{len(phase.sessions)}", goal="0; all",
                  ok=not phase.errors and own == len(phase.sessions)),
        ]
        for error in phase.errors[:3]:
            print(f"  {NAME}: {kind}: {error}")
    return rows


def _slow_rows(apps: dict[str, Served], forwarders: dict[str, Served]) -> list[Row]:
    """Many 2-second calls at once through each server, and another user's request meanwhile."""
    rows = []
    for kind in KINDS:
        sid = app_login(apps[kind].url, USERS[10]).cookies[SESSION_COOKIE]
        app_slow = partial(_api, apps[kind].url, sid, {**FAST, SLOW_PARAM: "1"})
        app_other = partial(lambda url: new_browser().get(url, timeout=APP_TIMEOUT).raise_for_status(),
                            apps[kind].url + "/login")
        fwd = forwarders[kind].url + "/"
        fwd_slow = partial(requests.get, fwd, params={**FAST, SLOW_PARAM: "1"}, timeout=APP_TIMEOUT,
                           headers={"Connection": "close"})
        fwd_other = partial(lambda url: requests.get(url, params=FAST, timeout=APP_TIMEOUT).raise_for_status(), fwd)
        for what, slow, other in (("forwarder", fwd_slow, fwd_other), ("app", app_slow, app_other)):
            for n in SLOW_AT_ONCE:
                rows.append(_slow_row(kind, what, n, slow, other))
    return rows


def _slow_row(kind: str, what: str, n: int, slow: Callable[[], requests.Response],
              other: Callable[[], None]) -> Row:
    failures = []

    def one(_: int) -> None:
        try:
            slow().raise_for_status()
        except Exception as exc:  # counted, and shown
            failures.append(f"{type(exc).__name__}: {exc}")

    began = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        time.sleep(0.5)
        waited = timed(other)
        for future in futures:
            future.result()
    done = time.perf_counter() - began
    for failure in failures[:2]:
        print(f"  {NAME}: {kind} {what}: slow call failed: {failure}")
    return check(NAME, f"{kind}: {what}, {n} calls of {SLOW_SECONDS:g} s at once: all answered in; "
                       "another user's request meanwhile; failed",
                 f"{done:.1f} s; {waited * 1000:.0f} ms; {len(failures)}", f"{SLOW_SECONDS:g} s; -; 0",
                 goal="-", ok=None)


def _restart_row(kind: str, served: Served) -> Row:
    """SIGHUP while login pages and slow /api calls are in flight: failed requests, workers replaced."""
    sid = app_login(served.url, USERS[11]).cookies[SESSION_COOKIE]
    before = served.workers()
    stop = time.monotonic() + RESTART_SECONDS
    counts = {"ok": 0, "failed": 0}
    failures: list[str] = []
    lock = threading.Lock()

    def loop(call: Callable[[], object]) -> None:
        while time.monotonic() < stop:
            try:
                resp = call()
                resp.raise_for_status()
                outcome = "ok"
            except Exception as exc:  # counted, and shown
                outcome = "failed"
                failures.append(f"{type(exc).__name__}: {exc}")
            with lock:
                counts[outcome] += 1

    page = partial(lambda url: requests.get(url, timeout=APP_TIMEOUT, headers={"Connection": "close"}),
                   served.url + "/login")
    slow = partial(_api, served.url, sid, {**FAST, SLOW_PARAM: "1"})
    threads = [threading.Thread(target=loop, args=(call,)) for call in [page] * 3 + [slow] * 3]
    for thread in threads:
        thread.start()
    time.sleep(RESTART_AFTER)
    served.reload()
    for thread in threads:
        thread.join()
    served.wait_ready("/livez")
    replaced = not (before & served.workers())
    for failure in failures[:3]:
        print(f"  {NAME}: {kind}: during the restart: {failure}")
    return check(NAME, f"{kind}: graceful restart (SIGHUP) with requests in flight: failed/all; workers replaced",
                 f"{counts['failed']}/{sum(counts.values())}; {'yes' if replaced else 'no'}", "-",
                 goal="0; yes", ok=counts["failed"] == 0 and replaced)
