"""One login at a time: the app's pages against a bare script on the wiki's API.

Plain password login: the app is GET /login and POST /login, which answers 303
(the login steps, two requests to the app); the script is GET
meta=tokens|authmanagerinfo and POST clientlogin (the wiki's own time: the
floor).  Two-factor login (TOTP users on the OATHAuth wiki): one more POST on
each side.  Runs alternate app and script (AB, BA, ...) after a warm-up, and
each side's wiki requests are counted from the wiki's log.

The 303 lands on the home page, which shows the user's name, groups and rights:
one ``meta=userinfo`` on the wiki, on every view.  A script that shows the same
makes the same call, so the login with its landing page is measured against
the script's login followed by that ``meta=userinfo``: the same API calls on
both sides.  Beside them (plain logins only), the official Flask demo of
``clientlogin`` from MediaWiki's API:Login page (``bench.flask_demo``, under the
same gunicorn): GET its form, POST it, read "Login success".  The CPU time the servers used (gunicorn and its workers; php -S
and its workers) is counted as well: unlike wall time it does not depend on
what else the shared machine is doing.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Callable, TypeVar

import requests

from devwiki.wikiserver import WikiServer

from .harness import (
    APP_TIMEOUT, TOTP_BENCH_USERS, USERS, AppServer, CpuMeter, LoginFailed, Row, User, app_login, check,
    compare, cpu_row, landing_page, median, p95, raw_landing, raw_login, rotate, side_server, wiki_pid,
)

NAME = "login"
WARMUP = 3
PLAIN_ROUNDS, PLAIN_SECONDS = 40, 40.0
# Each two-factor login uses up one 30-second TOTP window of its user; the wiki
# takes codes up to 3 windows ahead, so 8 users give 32 logins without waiting.
TOTP_ROUNDS, TOTP_SECONDS = 12, 25.0
GOAL_RATIO = 1.05
WIKI_CPU_GOAL = 1.05  # the wiki's CPU for a login through the app, against the script's calls
T = TypeVar("T")


def run(wiki: WikiServer, app: AppServer, workdir: Path) -> list[Row]:
    with side_server(app, "bench.flask_demo", "/", DEMO_WIKI_API_URL=wiki.api_url) as demo:
        plain = _measure(wiki, app, "plain", two_factor=False, demo=demo.url)
    return plain + _measure(wiki, app, "2FA", two_factor=True)


def demo_login(base: str, user: User) -> None:
    """A login through the official Flask demo: its form, then the POST, which says how it went."""
    browser = requests.Session()
    browser.get(base + "/", timeout=APP_TIMEOUT).raise_for_status()
    page = browser.post(base + "/", data={"username": user.name, "password": user.password}, timeout=APP_TIMEOUT)
    if f"Login success! Welcome, {user.name}!" not in page.text:
        raise LoginFailed(f"{user.name}: the Flask demo did not log in (HTTP {page.status_code})")


def _measure(wiki: WikiServer, app: AppServer, kind: str, *, two_factor: bool,
             demo: str | None = None) -> list[Row]:
    users = itertools.cycle(TOTP_BENCH_USERS if two_factor else USERS)
    calls: dict[str, list[int]] = {"app": [], "app home": [], "raw": [], "raw home": [], "demo": []}
    landing: dict[str, list[float]] = {"app": [], "raw": []}
    cpu = CpuMeter(app=app.pid, wiki=wiki_pid(wiki))
    cpu_used = {"app": 0.0, "app's wiki": 0.0, "raw's wiki": 0.0}

    def counted(what: str, fn: Callable[[], T]) -> tuple[T, float]:
        """``fn()`` and the seconds it took; the wiki requests it caused go to ``calls[what]``."""
        mark = wiki.log_mark()
        began = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - began
        calls[what].append(len(wiki.api_requests_since(mark)))
        return result, seconds

    def by_app() -> float:
        user = next(users)
        code = (lambda: wiki.totp_code(user.name)) if two_factor else None
        cpu.take()
        browser, steps = counted("app", lambda: app_login(app.url, user, code, land=False))
        _, home = counted("app home", lambda: landing_page(app.url, browser, user))
        used = cpu.take()
        cpu_used["app"] += used["app"]
        cpu_used["app's wiki"] += used["wiki"]
        landing["app"].append(home)
        return steps

    def by_script() -> float:
        user = next(users)
        code = (lambda: wiki.totp_code(user.name)) if two_factor else None
        cpu.take()
        http, steps = counted("raw", lambda: raw_login(wiki.api_url, user, code))
        _, home = counted("raw home", lambda: raw_landing(wiki.api_url, http, user))
        cpu_used["raw's wiki"] += cpu.take()["wiki"]
        landing["raw"].append(home)
        return steps

    def by_demo() -> float:
        user = next(users)
        requests.post(demo + "/reset", timeout=APP_TIMEOUT).raise_for_status()  # not timed
        return counted("demo", lambda: demo_login(demo, user))[1]

    sides: dict[str, Callable[[], float]] = {"app": by_app, "raw": by_script}
    if demo:
        sides["demo"] = by_demo
    for _ in range(WARMUP):
        for side in sides.values():
            side()
    for values in (*calls.values(), *landing.values()):
        values.clear()
    cpu_used.update(dict.fromkeys(cpu_used, 0.0))
    rounds, seconds = (TOTP_ROUNDS, TOTP_SECONDS) if two_factor else (PLAIN_ROUNDS, PLAIN_SECONDS)
    times = rotate(sides, rounds=rounds, seconds=seconds)
    app_times, raw_times = times["app"], times["raw"]
    app_whole = [s + h for s, h in zip(app_times, landing["app"])]
    raw_whole = [s + h for s, h in zip(raw_times, landing["raw"])]

    expected = 3 if two_factor else 2
    n = len(app_times)
    app_cpu, app_wiki_cpu, raw_cpu = (cpu_used[k] / n * 1000 for k in ("app", "app's wiki", "raw's wiki"))
    rows = [
        check(NAME, f"{kind}: wiki requests per login", _spread(calls["app"]), _spread(calls["raw"]),
              goal=str(expected), ok=set(calls["app"]) == set(calls["raw"]) == {expected}),
        compare(NAME, f"{kind}: median per login (n={n})", median(app_times), median(raw_times),
                at_most=GOAL_RATIO),
        compare(NAME, f"{kind}: p95 per login", p95(app_times), p95(raw_times)),
        check(NAME, f"{kind}: wiki requests of the page it lands on (name, groups, rights)",
              _spread(calls["app home"]), _spread(calls["raw home"]),
              goal="1", ok=set(calls["app home"]) == set(calls["raw home"]) == {1}),
        compare(NAME, f"{kind}: median per login and landing page", median(app_whole), median(raw_whole),
                at_most=GOAL_RATIO),
        cpu_row(NAME, f"{kind}: server CPU per login and landing page", app_cpu, app_wiki_cpu, raw_cpu),
        compare(NAME, f"{kind}: the wiki's own CPU per login and landing page (php), app vs script",
                app_wiki_cpu / 1000, raw_cpu / 1000, fmt=lambda s: f"{s * 1000:.0f} ms", at_most=WIKI_CPU_GOAL),
    ]
    if demo:
        rows.insert(3, compare(
            NAME, f"{kind}: official Flask demo (API:Login page; {_spread(calls['demo'])} wiki requests), "
                  "median per login", median(times["demo"]), median(raw_times)))
    return rows


def _spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"
