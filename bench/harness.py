"""What every benchmark shares: the wiki and its users, the app under gunicorn, the two
kinds of client (the app's pages, and a bare ``requests`` script on the wiki's API),
statistics, and the rows of the result table.

Everything runs on 127.0.0.1 and every loop is bounded in count and in time.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import requests

from devwiki import wikiserver
from devwiki.wikiserver import TOTP_USERS, WikiServer, free_port

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.gettempdir()) / "wiki-login-bench"
SECRET_KEY = "bench-secret-key-0123456789abcdef"
# The app's login rate limits would refuse a benchmark's hundreds of logins from
# one address within minutes; they are measured, not exercised, here.
NO_RATE_LIMIT = "1000000 per minute"

N_USERS = 200  # plain password users: Bench001 .. Bench200
N_TOTP_USERS = 8  # two-factor users: Carol, Totp01 .. Totp07
PHP_WORKERS = 24  # php -S workers: enough for 20 logins at a time
# How long the script and the app (WIKI_TIMEOUT) wait for the wiki: the same, and
# longer than the app's default 10 s, so that 20 logins at once on a busy 2-core
# machine measure cost rather than timeouts.  A call to the app may wait for the
# wiki more than once.
WIKI_TIMEOUT = 30.0
APP_TIMEOUT = 90.0


# --- users ------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    name: str
    password: str
    totp_secret: str = ""


def _plain_user(i: int) -> User:
    return User(f"Bench{i:03d}", f"Bench-{i:03d}-Pass-7q!")


def _totp_user(i: int) -> User:
    if i == 0:
        password, secret = TOTP_USERS["Carol"]
        return User("Carol", password, secret)
    name = f"Totp{i:02d}"
    secret = base64.b32encode(hashlib.sha256(name.encode()).digest()[:20]).decode()
    return User(name, f"Totp-{i:02d}-Pass-4z#", secret)


USERS = [_plain_user(i) for i in range(1, N_USERS + 1)]
TOTP_BENCH_USERS = [_totp_user(i) for i in range(N_TOTP_USERS)]


# --- the wiki ---------------------------------------------------------------------

def _wiki_stamp() -> str:
    """What the cached wiki was built from: the harness, MediaWiki and the user lists."""
    h = hashlib.sha256(Path(wikiserver.__file__).read_bytes())
    h.update((wikiserver.MW_DIR / "includes" / "Defines.php").read_bytes())
    h.update(repr((USERS, TOTP_BENCH_USERS)).encode())
    return h.hexdigest()


@contextlib.contextmanager
def bench_wiki() -> Iterator[WikiServer]:
    """The benchmark wiki, running: OATHAuth on, ``USERS`` and ``TOTP_BENCH_USERS`` created.

    Installing it and creating its users takes about half a minute, so the
    result is kept in WORK/template (rebuilt when ``_wiki_stamp`` changes) and
    each run starts from a fresh copy at WORK/wiki.  Always the same path:
    LocalSettings.php holds absolute paths.  A fresh copy means no state of an
    earlier run (sessions, used TOTP windows, throttle counters) carries over.
    One benchmark run at a time holds WORK/lock.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another benchmark run is using {WORK}") from None
        template, live = WORK / "template", WORK / "wiki"
        stamp = _wiki_stamp()
        if not (template / "stamp").exists() or (template / "stamp").read_text() != stamp:
            _build_template(template, live, stamp)
        shutil.rmtree(live, ignore_errors=True)
        shutil.copytree(template, live, symlinks=True)
        server = WikiServer.load(live, port=free_port(), workers=PHP_WORKERS)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _build_template(template: Path, live: Path, stamp: str) -> None:
    print(f"building the benchmark wiki ({N_USERS} + {N_TOTP_USERS} users) in {template} ...",
          file=sys.stderr, flush=True)
    began = time.monotonic()
    shutil.rmtree(template, ignore_errors=True)
    shutil.rmtree(live, ignore_errors=True)
    server = wikiserver.start_wiki("bench", oath=True, base_dir=live, workers=PHP_WORKERS)
    try:
        # Each is a PHP maintenance process; a few at once use both cores.
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda u: server.create_user(u.name, u.password), USERS + TOTP_BENCH_USERS[1:]))
        for user in TOTP_BENCH_USERS[1:]:
            server.enable_totp(user.name, user.totp_secret)
    finally:
        server.stop()
    (live / "stamp").write_text(stamp)
    shutil.copytree(live, template, symlinks=True)
    print(f"  done in {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)


# --- the app under gunicorn ---------------------------------------------------------

def app_env(wiki: WikiServer, workdir: Path, public_url: str, **extra: str) -> dict[str, str]:
    """The app's environment for ``wiki``, its store in ``workdir``."""
    return {
        "WIKI_API_URL": wiki.api_url,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_URL": public_url,
        "SESSION_DIR": str(workdir / "sessions"),
        "WIKI_TIMEOUT": str(WIKI_TIMEOUT),
        "LOGIN_RATE_LIMIT_PER_IP": NO_RATE_LIMIT,
        "LOGIN_RATE_LIMIT_PER_USER": NO_RATE_LIMIT,
        "NEW_SESSION_RATE_LIMIT_PER_IP": NO_RATE_LIMIT,
        **extra,
    }


class AppServer:
    """The app served by gunicorn over real HTTP on 127.0.0.1, as deployed.

    ``gunicorn -c gunicorn.conf.py app:app`` when the repository has that file
    (its defaults: one process with 8 threads without Redis), else
    ``gunicorn app:app --workers 2 --threads 8``.  Its output goes to
    ``workdir/gunicorn.log``.
    """

    def __init__(self, wiki: WikiServer, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = app_env(wiki, workdir, self.url)
        bind = f"127.0.0.1:{self.port}"
        if (ROOT / "gunicorn.conf.py").exists():
            args = ["-c", "gunicorn.conf.py", "app:app"]
            self.env["GUNICORN_BIND"] = bind
        else:
            args = ["app:app", "-b", bind, "--workers", "2", "--threads", "8"]
        self.log_path = workdir / "gunicorn.log"
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *args], cwd=ROOT, env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self._wait_until_up()
        workers = sum(ppid == self.pid for ppid, _ in _process_table().values())
        self.setup = f"gunicorn {' '.join(args)} ({workers} worker process{'es' if workers != 1 else ''})"

    @property
    def pid(self) -> int:
        """The gunicorn master's process id (its workers are its children)."""
        return self._proc.pid

    def _wait_until_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self._proc.returncode}; see {self.log_path}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/livez", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout:g} s; see {self.log_path}")

    def stop(self) -> None:
        """Stop gunicorn (its master and the workers it started)."""
        stop_group(self._proc, 15)

    def __enter__(self) -> "AppServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass(frozen=True)
class Side:
    """A server started beside the app: its base URL, and its master's pid (for ``CpuMeter``)."""

    url: str
    pid: int


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """Stop a server started in its own process group: SIGTERM to all of it, SIGKILL after ``grace`` seconds."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def side_server(app: AppServer, module: str, ready_path: str, **env: str) -> Iterator[Side]:
    """Another WSGI app (``module:app``) under the same gunicorn, settings and environment as ``app``.

    For comparisons: what a bare server, or another client, costs beside the
    app in the same run.  Its output goes to ``app.workdir/<module>.log``;
    yields it once ``ready_path`` answers.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = app.workdir / f"{module}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", f"{module}:app"], cwd=ROOT,
            env={**os.environ, **app.env, "GUNICORN_BIND": f"127.0.0.1:{port}", **env},
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + ready_path, timeout=2).ok:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{module} did not start; see {log_path}")
            time.sleep(0.1)
        yield Side(url, proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def in_process_app(wiki: WikiServer, workdir: Path, **extra: str):
    """The app in this process (``create_app``), configured like an AppServer."""
    from app import create_app

    return create_app(app_env(wiki, workdir, "http://127.0.0.1", **{"LOG_LEVEL": "WARNING", **extra}))


# --- clients ------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*\svalue="([^"]+)"')
SESSION_COOKIE = "wikilogin_session"
# What every browser sends and the app reads (it picks the wiki's language from it).
BROWSER_HEADERS = {"Accept-Language": "en-US,en;q=0.9"}


def new_browser() -> requests.Session:
    """A fresh browser: no cookies, sending a browser's Accept-Language."""
    browser = requests.Session()
    browser.headers.update(BROWSER_HEADERS)
    return browser


class LoginFailed(AssertionError):
    """A login did not end as the user it was for."""


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form in an app page."""
    match = CSRF_RE.search(html)
    if not match:
        raise LoginFailed("no CSRF token in the page")
    return match.group(1)


def logged_in_as(html: str, name: str) -> bool:
    """Whether an app page says this browser is logged in as ``name``."""
    return f'Logged in as <strong class="wl-username">{name}</strong>' in html


def app_login(base: str, user: User, code: Callable[[], str] | None = None, *,
              land: bool = True) -> requests.Session:
    """Log in through the app's pages as a browser does; the browser (its cookie jar).

    GET /login, POST the password (and, with ``code``, POST the two-factor code
    it then asks for).  The last POST answers 303 to the home page; with ``land``
    it is followed (``landing_page``), else only checked.
    """
    browser = new_browser()
    page = browser.get(base + "/login", timeout=APP_TIMEOUT)
    fields = {"csrf_token": csrf_token(page.text), "username": user.name, "password": user.password,
              "wl_submit": "Log in"}
    if code is not None:
        page = browser.post(base + "/login", data=fields, timeout=APP_TIMEOUT)
        if 'name="OATHToken"' not in page.text:
            raise LoginFailed(f"{user.name}: no two-factor step (HTTP {page.status_code})")
        fields = {"csrf_token": csrf_token(page.text), "OATHToken": code(), "wl_submit": "Continue"}
    done = browser.post(base + "/login", data=fields, timeout=APP_TIMEOUT, allow_redirects=False)
    if done.status_code != 303 or done.headers.get("Location", "").rstrip("/") not in ("", base):
        raise LoginFailed(f"{user.name}: the login's last step answered HTTP {done.status_code}, "
                          "not a redirect to the home page")
    if land:
        landing_page(base, browser, user)
    return browser


def landing_page(base: str, browser: requests.Session, user: User) -> None:
    """GET the home page, which must say this browser is logged in as ``user``."""
    page = browser.get(base + "/", timeout=APP_TIMEOUT)
    if not logged_in_as(page.text, user.name):
        raise LoginFailed(f"{user.name}: the home page (HTTP {page.status_code}) is not logged in as them")


def raw_landing(api_url: str, http: requests.Session, user: User) -> None:
    """What the app's home page asks the wiki, asked by a bare script: ``meta=userinfo``."""
    info = http.get(api_url, timeout=WIKI_TIMEOUT, params={
        "action": "query", "meta": "userinfo", "uiprop": "groups|rights|editcount",
        "format": "json", "formatversion": "2",
    }).json()["query"]["userinfo"]
    if info.get("name") != user.name:
        raise LoginFailed(f"{user.name}: the wiki says these cookies are {info.get('name')!r}")


def raw_login(api_url: str, user: User, code: Callable[[], str] | None = None) -> requests.Session:
    """Log in with the wiki's API alone, as a bare script does; its cookie jar.

    The same calls the app makes: GET meta=tokens|authmanagerinfo, POST
    clientlogin (and, with ``code``, POST clientlogin logincontinue=1 with it).
    """
    http = requests.Session()
    common = {"format": "json", "formatversion": "2"}
    query = http.get(api_url, timeout=WIKI_TIMEOUT, params={
        "action": "query", "meta": "tokens|authmanagerinfo", "type": "login",
        "amirequestsfor": "login", "amimessageformat": "html", **common,
    }).json()["query"]
    token = query["tokens"]["logintoken"]
    answer = http.post(api_url, timeout=WIKI_TIMEOUT, data={
        "action": "clientlogin", "username": user.name, "password": user.password,
        "logintoken": token, "loginreturnurl": "http://127.0.0.1/", "loginmessageformat": "html",
        **common,
    }).json()["clientlogin"]
    if code is not None and answer["status"] == "UI":
        answer = http.post(api_url, timeout=WIKI_TIMEOUT, data={
            "action": "clientlogin", "logincontinue": "1", "OATHToken": code(),
            "logintoken": token, "loginmessageformat": "html", **common,
        }).json()["clientlogin"]
    if answer["status"] != "PASS" or answer.get("username") != user.name:
        raise LoginFailed(f"{user.name}: clientlogin said {answer.get('status')} "
                          f"{answer.get('messagecode', '')}")
    return http


def wiki_user(api_url: str, cookies: requests.cookies.RequestsCookieJar) -> str:
    """Who the wiki says these cookies are (``meta=userinfo``); "" for anonymous."""
    info = requests.get(api_url, cookies=cookies, timeout=WIKI_TIMEOUT, params={
        "action": "query", "meta": "userinfo", "format": "json", "formatversion": "2",
    }).json()["query"]["userinfo"]
    return "" if info.get("anon") else info["name"]


# --- measuring ------------------------------------------------------------------------

def _process_table() -> dict[int, tuple[int, float]]:
    """Every process now: pid -> (parent pid, CPU seconds used by it and its reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        # After the command: state, ppid, ...; utime, stime, cutime, cstime are the 12th-15th.
        table[int(entry)] = (int(fields[1]), sum(int(v) for v in fields[11:15]) / ticks)
    return table


def wiki_pid(wiki: WikiServer) -> int:
    """The php -S master process serving ``wiki``."""
    needle = f"127.0.0.1:{wiki.port}".encode()
    serving = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as f:
            if needle in f.read().split(b"\0"):
                serving.add(int(entry))
    table = _process_table()
    return next(pid for pid in serving if table.get(pid, (0, 0))[0] not in serving)


class CpuMeter:
    """CPU time used by process trees (a server and every process it started).

    Unlike wall time, it does not depend on what else the shared machine is
    doing.  ``cpu.take()`` -> seconds per tree since the last take.
    """

    def __init__(self, **roots: int):
        self.roots = roots
        self._last = self._now()

    def _now(self) -> dict[str, float]:
        table = _process_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        totals = {}
        for name, root in self.roots.items():
            total, todo = 0.0, [root]
            while todo:
                pid = todo.pop()
                total += table.get(pid, (0, 0.0))[1]
                todo += children.get(pid, [])
            totals[name] = total
        return totals

    def take(self) -> dict[str, float]:
        now = self._now()
        used = {name: now[name] - self._last[name] for name in now}
        self._last = now
        return used


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn()`` took (wall clock)."""
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def interleave(a: Callable[[int], float], b: Callable[[int], float], *, rounds: int,
               seconds: float, min_rounds: int = 5) -> tuple[list[float], list[float]]:
    """Run ``a(i)`` and ``b(i)`` in alternating order (AB, BA, AB ...), so noise hits both.

    Each returns the seconds it measured.  Stops after ``rounds`` rounds, or
    once ``seconds`` have passed and at least ``min_rounds`` are done.
    """
    times_a: list[float] = []
    times_b: list[float] = []
    deadline = time.monotonic() + seconds
    for i in range(rounds):
        if i >= min_rounds and time.monotonic() > deadline:
            break
        if i % 2 == 0:
            times_a.append(a(i))
            times_b.append(b(i))
        else:
            times_b.append(b(i))
            times_a.append(a(i))
    return times_a, times_b


def rotate(fns: dict[str, Callable[[], float]], *, rounds: int, seconds: float,
           min_rounds: int = 5) -> dict[str, list[float]]:
    """Run each of ``fns`` once a round, the order rotating every round, so noise hits them all.

    Each returns the seconds it measured.  Stops after ``rounds`` rounds, or
    once ``seconds`` have passed and at least ``min_rounds`` are done.
    """
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    deadline = time.monotonic() + seconds
    for i in range(rounds):
        if i >= min_rounds and time.monotonic() > deadline:
            break
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(fns[name]())
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def new_session_id() -> str:
    """A session id like Flask-Session's own (token_urlsafe of 32 bytes)."""
    return secrets.token_urlsafe(32)


# --- the result table -------------------------------------------------------------------

@dataclass
class Row:
    """One line of the result table.

    ``app`` and ``baseline`` are display strings; ``ratio`` is app/baseline (or
    None); ``ok`` is whether the goal is met (None: no goal, shown for context).
    """

    benchmark: str
    metric: str
    app: str
    baseline: str
    ratio: float | None
    goal: str
    ok: bool | None


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def compare(benchmark: str, metric: str, app: float, baseline: float, *, fmt: Callable[[float], str] = ms,
            at_most: float | None = None, at_least: float | None = None) -> Row:
    """A row comparing two measurements; the goal bounds their ratio app/baseline."""
    ratio = app / baseline if baseline else math.inf
    if at_most is not None:
        goal, ok = f"<= {at_most:g}", ratio <= at_most
    elif at_least is not None:
        goal, ok = f">= {at_least:g}", ratio >= at_least
    else:
        goal, ok = "", None
    return Row(benchmark, metric, fmt(app), fmt(baseline), ratio, goal, ok)


def check(benchmark: str, metric: str, app: Any, baseline: Any, *, goal: str, ok: bool) -> Row:
    """A row whose goal is a plain condition on the values (no ratio)."""
    return Row(benchmark, metric, str(app), str(baseline), None, goal, ok)


def cpu_row(benchmark: str, metric: str, app_ms: float, app_wiki_ms: float, raw_wiki_ms: float) -> Row:
    """Servers' CPU per operation: the app's (gunicorn) and the wiki's for it, against the wiki's alone."""
    ratio = (app_ms + app_wiki_ms) / raw_wiki_ms if raw_wiki_ms else None
    digits = 0 if raw_wiki_ms >= 50 else 1
    return Row(benchmark, f"{metric} (app: gunicorn + wiki)",
               f"{app_ms:.{digits}f} + {app_wiki_ms:.{digits}f} ms", f"{raw_wiki_ms:.{digits}f} ms",
               ratio, "", None)


def print_table(rows: list[Row]) -> None:
    """The rows as one Markdown table on stdout."""
    headers = ("benchmark", "metric", "app", "raw/baseline", "ratio", "goal", "ok?")
    cells = [
        (r.benchmark, r.metric, r.app, r.baseline, "" if r.ratio is None else f"{r.ratio:.2f}",
         r.goal or "-", {True: "yes", False: "NO", None: "-"}[r.ok])
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths)) + " |")
