"""Real MediaWiki test servers for wiki-login: the two LTS versions Debian ships.

Each wiki is a fresh SQLite install of a Debian ``mediawiki`` package, served
by ``php -S`` from /usr/share/mediawiki with its own LocalSettings.php in a
temporary directory (selected through the ``MW_CONFIG_FILE`` environment
variable, so /usr/share/mediawiki itself is never modified).

Two MediaWikis can be served (:func:`mediawiki_versions`):

- the host's own package (Debian 12 bookworm: 1.39; Debian 13 trixie: 1.43);
- the other LTS, from a Debian root of the other suite (devwiki/mwroot.py, cached
  in /var/cache/wiki-login/, built on first use).  Its php -S and maintenance
  scripts run chrooted into that root, in a private mount namespace where the
  wiki's directory is bind-mounted at ``/srv/wiki-login/wiki`` and
  tests/mediawiki (router, TestIdP, enableTOTP.php) read-only at
  ``/srv/wiki-login/mediawiki``.  The mounts exist only in that namespace:
  they end with the wiki's processes and never show in the host's mount table.

Library use::

    from devwiki.wikiserver import start_wiki, USERS, TOTP_USERS

    with start_wiki("plain") as wiki:                      # the host's MediaWiki
        requests.get(wiki.api_url, params={"action": "query", "meta": "siteinfo"})
    with start_wiki("plain", mw_version="1.43") as wiki:   # wiki.mw_version == "1.43"
        ...

Command line (used by ``make run``)::

    python -m devwiki.wikiserver --port 8080 --dir .devwiki --oath --captcha badlogin [--mw 1.43]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from devwiki import mwroot

# The same path on the host and inside a root.
MW_DIR = Path(mwroot.MW_DIR)
HERE = Path(__file__).resolve().parent
# Our test-only MediaWiki pieces (router, TestIdP, TOTP enrolment) live with the tests.
MW_TEST_DIR = HERE.parent / "tests" / "mediawiki"
ROUTER = MW_TEST_DIR / "router.php"
ENABLE_TOTP_SCRIPT = MW_TEST_DIR / "enableTOTP.php"
TESTIDP_SETTINGS = MW_TEST_DIR / "TestIdP" / "settings.php"
MAIL_TO_FILE = MW_TEST_DIR / "mail_to_file.php"
MAIL_DIR = "mail"  # in the wiki's directory: one JSON file per mail (mail=True)

APT_PACKAGES = ("mediawiki", "php-cli", "php-sqlite3", "php-intl", "php-mbstring", "php-xml")
# Module names as listed by `php -m` that MediaWiki needs beyond php-cli's defaults.
PHP_MODULES = ("pdo_sqlite", "intl", "mbstring", "dom", "xml", "xmlreader")

ADMIN_USER = "Admin"
ADMIN_PASSWORD = "Admin-Harness-Pass-9051!"
USERS = {
    "Alice": "Alice-Wonder-7342!",
    "Bob": "Bob-Builder-5819?",
}
EMAILS = {name: f"{name.lower()}@example.org" for name in USERS}
TOTP_USERS = {
    # name: (password, base32 TOTP secret usable with pyotp.TOTP(secret))
    "Carol": ("Carol-Second-Factor-2468#", "O5UWW2LMN5TWS3RNINQXE33MFUZGMYJB"),
}
# OATHAuth of 1.39 (Debian) never accepts these: TOTPKey::verify() iterates an
# undefined property instead of the stored codes. They are stored anyway (1.43
# accepts them).
TOTP_RECOVERY_CODES = ("RECOVERYCODEONE2", "RECOVERYCODETWO3")

CAPTCHA_QUESTION = "What is 6 times 7?"
CAPTCHA_ANSWER = "42"
CAPTCHA_MODES = ("always", "badlogin")

TOTP_PERIOD = 30
# $wgOATHAuthWindowRadius default: codes up to 4 windows ahead are accepted.
_TOTP_MAX_AHEAD = 3

_META_FILE = "wikiserver.json"
_READONLY_FILE = "readonly.txt"
_SLOW_FILE = "slow.txt"
_PORT_FILE = "port.php"
_LOG_STATUS_RE = re.compile(r"\] (\S+:\d+) \[(\d{3})\]: (\S+) (\S+)")
_LOG_CONN_RE = re.compile(r"\] (\S+:\d+) (Accepted|Closing)$")

# Inside a root, where a wiki's directory and tests/mediawiki are bind-mounted
# (mount points made with the root: devwiki.mwroot.MOUNT_POINTS).
ROOT_WIKI_DIR = "/" + mwroot.MOUNT_POINTS[0]
ROOT_TEST_DIR = "/" + mwroot.MOUNT_POINTS[1]
_ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# $0 root, $1 wiki dir, $2 tests/mediawiki, then the command. The namespace is
# private, so the mounts are gone as soon as the last process in it exits.
_ROOT_WRAPPER = (
    'set -e; r=$0; '
    'mount --bind "$1" "$r' + ROOT_WIKI_DIR + '"; '
    'mount --bind -o ro "$2" "$r' + ROOT_TEST_DIR + '"; '
    'mount -t proc proc "$r/proc"; '
    'shift 2; exec chroot "$r" "$@"'
)

# Servers to close() at interpreter exit so no php -S processes are orphaned.
_open_servers: set["WikiServer"] = set()


class WikiError(RuntimeError):
    """A wiki could not be installed, configured or started."""


class PortInUseError(WikiError):
    """The wiki's port is taken by another process."""


@dataclass(frozen=True)
class MediaWiki:
    """One MediaWiki the harness can serve: the host's package, or a Debian root's."""

    version: str             # MW_VERSION, e.g. "1.39.17"
    suite: str               # the Debian suite it comes from
    root: Path | None = None  # None: the host's own /usr/share/mediawiki

    @property
    def branch(self) -> str:
        """``"1.39"``: what tests and fixtures call the version."""
        return ".".join(self.version.split(".")[:2])

    def __str__(self) -> str:
        where = f"Debian {self.suite} root {self.root}" if self.root else f"Debian {self.suite}, host"
        return f"MediaWiki {self.version} ({where})"


def _defines_version(mw_dir: Path) -> str:
    return mwroot._defines_version(mw_dir / "includes" / "Defines.php")


@lru_cache(maxsize=None)
def host_mediawiki() -> MediaWiki:
    """The host's MediaWiki (installed from Debian packages first if missing)."""
    ensure_packages()
    return MediaWiki(_defines_version(MW_DIR), mwroot.host_suite())


def mediawiki_versions() -> list[str]:
    """The MediaWiki branches this host can serve, host's first: e.g. ``["1.39", "1.43"]``.

    Known from the host's Debian suite alone; nothing is installed or built.
    """
    host = mwroot.host_suite()
    return [mwroot.SUITE_MW_VERSION[host], mwroot.SUITE_MW_VERSION[mwroot.other_suite(host)]] \
        if host in mwroot.SUITE_MW_VERSION else []


def get_mediawiki(version: str | None = None) -> MediaWiki:
    """The MediaWiki of branch ``version`` (``"1.39"``, ``"1.43"``; None: the host's).

    The other suite's root is built when missing (about 4 minutes, once).
    """
    if version is None:
        return host_mediawiki()
    host_suite = mwroot.host_suite()
    if version == mwroot.SUITE_MW_VERSION.get(host_suite):
        return host_mediawiki()
    other = mwroot.other_suite(host_suite) if host_suite in mwroot.OTHER_SUITE else None
    if other is None or version != mwroot.SUITE_MW_VERSION[other]:
        raise WikiError(f"MediaWiki {version} is not available on Debian {host_suite}; "
                        f"available: {', '.join(mediawiki_versions()) or 'none'}")
    return _root_mediawiki(other)


@lru_cache(maxsize=None)
def _root_mediawiki(suite: str) -> MediaWiki:
    if os.geteuid() != 0:
        # unshare --mount and chroot, for every wiki of the root.
        raise WikiError(f"MediaWiki {mwroot.SUITE_MW_VERSION[suite]} runs in a Debian {suite} "
                        f"root, which needs root (chroot)")
    try:
        root = mwroot.ensure_root(suite)
    except mwroot.RootError as exc:
        raise WikiError(str(exc)) from exc
    return MediaWiki(root.mw_version, suite, root.path)


def ensure_packages() -> None:
    """Install MediaWiki and PHP from Debian packages unless already present.

    Cheap when everything is installed (one ``php -m`` call). Needs root.
    """
    if _missing_requirements():
        if os.geteuid() != 0:
            raise WikiError(
                "MediaWiki/PHP missing and not running as root; run: apt-get install -y "
                + " ".join(APT_PACKAGES)
            )
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update"], check=True, env=env)
        # Without --no-install-recommends apt would also pull a MySQL server.
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES],
            check=True,
            env=env,
        )
        missing = _missing_requirements()
        if missing:
            raise WikiError(f"still missing after apt-get install: {', '.join(missing)}")


def _missing_requirements() -> list[str]:
    """Return what is missing for running a wiki (empty when all is there)."""
    if not shutil.which("php"):
        return ["php"]
    missing = []
    for path in (MW_DIR / "maintenance" / "install.php", MW_DIR / "extensions" / "OATHAuth"):
        if not path.exists():
            missing.append(str(path))
    modules = subprocess.run(["php", "-m"], capture_output=True, text=True).stdout.lower().split()
    missing += [m for m in PHP_MODULES if m not in modules]
    return missing


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # Like php -S: connections of a stopped server in TIME_WAIT do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _php_string(value: str) -> str:
    """Quote value as a PHP single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class WikiServer:
    """A MediaWiki install in ``dir`` served by ``php -S`` on 127.0.0.1:``port``.

    Normally obtained from :func:`start_wiki` or :meth:`load`; usable as a
    context manager (calls :meth:`close` on exit). ``remove_on_close`` makes
    :meth:`close` delete ``dir`` unless the environment sets WIKISERVER_KEEP=1.
    """

    def __init__(self, name: str, dir: Path | str, port: int, *, workers: int = 8,
                 options: dict | None = None, remove_on_close: bool = False,
                 mw: MediaWiki | None = None):
        self.name = name
        self.mw = mw or host_mediawiki()
        self.remove_on_close = remove_on_close
        self.dir = Path(dir).resolve()
        self.port = port
        self.workers = workers
        self.options = dict(options or {})
        self.log_path = self.dir / "server.log"
        self._proc: subprocess.Popen | None = None
        self._totp_secrets: dict[str, str] = {}
        self._last_totp_window: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<WikiServer {self.name!r} mw{self.mw_version} {self.base_url} dir={self.dir}>"

    @property
    def mw_version(self) -> str:
        """The MediaWiki branch it serves: ``"1.39"`` or ``"1.43"`` (``self.mw.version``: all of it)."""
        return self.mw.branch

    # -- URLs -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """URL of api.php."""
        return f"{self.base_url}/api.php"

    @property
    def index_url(self) -> str:
        """URL of index.php."""
        return f"{self.base_url}/index.php"

    # -- lifecycle --------------------------------------------------------

    @classmethod
    def load(cls, dir: Path | str, *, port: int | None = None, workers: int = 8) -> "WikiServer":
        """Return a (not started) server for a wiki previously made by :func:`start_wiki`.

        ``port`` overrides the stored port.
        """
        meta = json.loads((Path(dir) / _META_FILE).read_text())
        # Wikis made before there were two versions are the host's.
        mw = get_mediawiki(meta.get("mw_version"))
        if meta.get("mw_version") and mw.branch != meta["mw_version"]:
            raise WikiError(f"{dir} is a MediaWiki {meta['mw_version']} wiki; this host serves {mw}")
        server = cls(meta["name"], dir, port or meta["port"], workers=workers,
                     options=meta["options"], mw=mw)
        server._totp_secrets = dict(meta.get("totp_secrets", {}))
        return server

    def start(self, timeout: float = 30.0) -> "WikiServer":
        """Start serving (again) on ``self.port``; data in ``dir`` is kept."""
        if self.is_running():
            return self
        # Otherwise another server on this port could pass the readiness check.
        if not _port_is_free(self.port):
            raise PortInUseError(f"127.0.0.1:{self.port} is already in use")
        self._write_port_settings()
        cmd, env, cwd = self._php_command([
            # Warnings belong in server.log, never in the responses under test.
            "-d", "display_errors=0",
            "-d", "log_errors=1",
            "-S", f"127.0.0.1:{self.port}",
            "-t", str(MW_DIR),
            self.php_path(ROUTER),
        ], PHP_CLI_SERVER_WORKERS=str(self.workers))
        with open(self.log_path, "ab") as log:
            # Own session/process group so stop() can kill all forked workers at
            # once (in a root: unshare, sh and chroot exec into php, same pid).
            self._proc = subprocess.Popen(
                cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        _open_servers.add(self)
        self._save_meta()
        try:
            self._wait_until_up(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and all its worker processes (idempotent); data is kept."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            # Workers can outlive the master; the group id stays reserved while they do.
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def is_running(self) -> bool:
        """True while the php -S master process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> "WikiServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and, if ``remove_on_close``, delete its directory."""
        self.stop()
        _open_servers.discard(self)
        if self.remove_on_close and os.environ.get("WIKISERVER_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def _write_port_settings(self) -> None:
        # Port-dependent settings live in their own file so a wiki can be served
        # on another port later (CLI reuse) without editing LocalSettings.php.
        (self.dir / _PORT_FILE).write_text(
            "<?php\n"
            f"$wgServer = {_php_string(self.base_url)};\n"
            f"$wgCanonicalServer = $wgServer;\n"
            # Cookies are not port-scoped: keep wikis on different ports apart.
            f"$wgCookiePrefix = 'wikitest{self.port}';\n"
        )

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.api_url}?action=query&meta=siteinfo&format=json"
        while time.monotonic() < deadline:
            if not self.is_running():
                in_use = "Address already in use" in self._log_tail(2)
                raise (PortInUseError if in_use else WikiError)(
                    f"php -S exited with {self._proc.returncode}\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if b'"general"' in resp.read() and self.is_running():
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise WikiError(f"{url} did not answer within {timeout}s\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no server.log)"
        return "--- tail of server.log ---\n" + "\n".join(text.splitlines()[-lines:])

    def _save_meta(self) -> None:
        meta = {"name": self.name, "port": self.port, "options": self.options,
                "mw_version": self.mw_version, "totp_secrets": self._totp_secrets}
        (self.dir / _META_FILE).write_text(json.dumps(meta, indent=2) + "\n")

    # -- maintenance ------------------------------------------------------

    def php_path(self, path: Path | str) -> str:
        """``path`` (a host path in this wiki's directory or tests/mediawiki) as PHP sees it.

        The same path for the host's MediaWiki; inside a root, where those two
        directories are mounted.
        """
        path = Path(path)
        if self.mw.root is None:
            return str(path)
        for host_dir, inside in ((self.dir, ROOT_WIKI_DIR), (MW_TEST_DIR, ROOT_TEST_DIR)):
            if path == host_dir or host_dir in path.parents:
                return str(Path(inside) / path.relative_to(host_dir))
        if path == MW_DIR or MW_DIR in path.parents:
            return str(path)  # the root's own MediaWiki
        raise WikiError(f"{path} is not visible to the MediaWiki in {self.mw.root}")

    def _php_command(self, args: list[str], **extra_env: str) -> tuple[list[str], dict, Path]:
        """(argv, environment, cwd) that run ``php ARGS`` for this wiki."""
        php_env = {"MW_CONFIG_FILE": self.php_path(self.dir / "LocalSettings.php"),
                   "MW_INSTALL_PATH": str(MW_DIR), **extra_env}
        if self.mw.root is None:
            return ["php", *args], dict(os.environ, **php_env), MW_DIR
        # The root's own environment: nothing of the host's (PHPRC, LD_*, PATH) leaks in.
        env = {"PATH": _ROOT_PATH, "LANG": "C.UTF-8", "HOME": "/root", **php_env}
        cmd = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
               _ROOT_WRAPPER, str(self.mw.root), str(self.dir), str(MW_TEST_DIR),
               "env", "-C", str(MW_DIR), "php", *args]
        return cmd, env, Path("/")

    def maintenance(self, script: str, *args: str) -> str:
        """Run a maintenance script against this wiki and return its output.

        ``script`` is a file in /usr/share/mediawiki/maintenance (``"update.php"``,
        ``".php"`` optional) or an absolute path (in tests/mediawiki for a wiki
        of a root). Raises WikiError with the output on a non-zero exit status.
        """
        path = Path(script)
        if not path.is_absolute():
            path = MW_DIR / "maintenance" / (script if script.endswith(".php") else script + ".php")
        cmd, env, cwd = self._php_command([self.php_path(path), *args])
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise WikiError(f"{path.name} {' '.join(args)} failed ({proc.returncode}):\n{output}")
        return output

    def create_user(self, name: str, password: str, groups: Iterable[str] = ()) -> None:
        """Create a user with ``password``, optionally in ``groups`` (e.g. ``("sysop",)``)."""
        args = [name, password]
        groups = list(groups)
        if groups:
            args.insert(0, "--custom-groups=" + ",".join(groups))
        output = self.maintenance("createAndPromote.php", *args)
        if "is not a valid group" in output:
            raise WikiError(output)

    def set_email(self, user: str, email: str) -> None:
        """Give ``user`` an e-mail address (its password is kept)."""
        self.maintenance("resetUserEmail.php", "--no-reset-password", user, email)

    def mails(self) -> list[dict]:
        """Every mail the wiki "sent" (wikis started with ``mail=True``), oldest first:
        ``{"to": [...], "from": ..., "subject": ..., "body": ...}``."""
        return [json.loads(p.read_text()) for p in sorted((self.dir / MAIL_DIR).glob("*.json"))]

    def enable_totp(self, user: str, secret: str,
                    recovery_codes: Iterable[str] = TOTP_RECOVERY_CODES) -> None:
        """Enable OATHAuth TOTP for ``user`` with a known base32 ``secret``.

        Only on wikis started with ``oath=True``.
        """
        self.maintenance(str(ENABLE_TOTP_SCRIPT), user, secret, ",".join(recovery_codes))
        self._totp_secrets[user] = secret
        self._save_meta()

    def totp_code(self, user: str) -> str:
        """Return a TOTP code for ``user`` that this wiki will accept right now.

        OATHAuth remembers the last 30-second window used per user and only
        accepts codes of later windows, but accepts windows up to 2 minutes
        ahead. So consecutive calls hand out codes of consecutive windows
        (sleeping only when too far ahead). Codes computed elsewhere for the
        same user can collide with this bookkeeping.
        """
        import pyotp  # test dependency; the harness itself does not need it

        now_window = int(time.time()) // TOTP_PERIOD
        window = max(now_window, self._last_totp_window.get(user, -1) + 1)
        if window > now_window + _TOTP_MAX_AHEAD:
            time.sleep((window - _TOTP_MAX_AHEAD) * TOTP_PERIOD - time.time() + 0.1)
        self._last_totp_window[user] = window
        return pyotp.TOTP(self._totp_secrets[user]).at(window * TOTP_PERIOD)

    def create_bot_password(self, user: str, appid: str,
                            grants: Iterable[str] = ("basic", "editpage", "highvolume"),
                            password: str | None = None) -> str:
        """Create a bot password; returns its password (log in as ``user@appid``).

        ``password`` must have at least 32 characters; one is generated if omitted.
        """
        args = [f"--appid={appid}", "--grants=" + ",".join(grants), user]
        if password is not None:
            args.append(password)
        output = self.maintenance("createBotPassword.php", *args)
        match = re.search(r"and password:'([^']*)'", output)
        if not match:
            raise WikiError(f"unexpected createBotPassword.php output:\n{output}")
        return match.group(1)

    # -- inspection and fault injection ------------------------------------

    def log_mark(self) -> int:
        """Return a position in server.log; pass it to :meth:`requests_since`."""
        return self._settled_log(0)[0]

    def requests_since(self, mark: int) -> list[str]:
        """Requests served since ``mark``, e.g. ``["POST /api.php", "GET /index.php?title=X"]``.

        Waits (up to 2 s) until every connection accepted since ``mark`` is
        closed, because php -S writes the log line after sending the response.
        Requests answered by tests/mediawiki/www pages are included (logged by
        router.php).
        """
        _, text = self._settled_log(mark)
        return [f"{m.group(3)} {m.group(4)}" for m in _LOG_STATUS_RE.finditer(text)]

    def api_requests_since(self, mark: int) -> list[str]:
        """Like :meth:`requests_since`, but only requests to api.php and index.php."""
        return [r for r in self.requests_since(mark)
                if r.split(" ", 1)[1].startswith(("/api.php", "/index.php"))]

    def _settled_log(self, mark: int, timeout: float = 2.0) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                data = f.read()
            # Only consider complete lines.
            data = data[: data.rfind(b"\n") + 1]
            text = data.decode(errors="replace")
            open_conns: set[str] = set()
            for line in text.splitlines():
                m = _LOG_CONN_RE.search(line)
                if m:
                    (open_conns.add if m.group(2) == "Accepted" else open_conns.discard)(m.group(1))
            if not open_conns or time.monotonic() > deadline:
                return mark + len(data), text
            time.sleep(0.02)

    def clear_sessions(self) -> int:
        """Delete every session stored by the wiki; returns how many were deleted.

        Simulates the wiki forgetting sessions: clients keep their cookies but
        are anonymous again. Bad-login counters and other cache entries are kept.
        """
        return self._delete_cache_keys("%:MWSession:%")

    def reset_login_throttles(self) -> int:
        """Forget failed logins: password throttle, captcha bad-login and rate-limit counters.

        All clients are 127.0.0.1, so these counters are shared by every test
        using this wiki. Returns the number of counters deleted.
        """
        return self._delete_cache_keys("%:throttler:password:%", "%:captcha:badlogin:%",
                                       "%:limiter:%")

    def _delete_cache_keys(self, *like_patterns: str) -> int:
        # CACHE_DB (sessions, counters) is in its own SQLite file with this installer.
        where = " OR ".join("keyname LIKE ?" for _ in like_patterns)
        with sqlite3.connect(self.dir / "data" / "wikicache.sqlite", timeout=30) as db:
            return db.execute(f"DELETE FROM objectcache WHERE {where}", like_patterns).rowcount

    def set_slow(self, seconds: float | None) -> None:
        """Make every request wait ``seconds`` before MediaWiki answers (None: normal again)."""
        path = self.dir / _SLOW_FILE
        if seconds is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(str(seconds))

    def set_read_only(self, reason: str | None) -> None:
        """Put the wiki into read-only mode with ``reason``, or back to normal with None.

        Takes effect on the next request. Uses MediaWiki's ``$wgReadOnlyFile``
        (same effect as ``$wgReadOnly``): a PHP include would be cached by opcache.
        """
        path = self.dir / _READONLY_FILE
        if reason is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(reason)


def start_wiki(name: str, *, captcha: str | None = None, oath: bool = False,
               testidp: bool = False, mail: bool = False, extra_settings: str = "", port: int | None = None,
               base_dir: Path | str | None = None, workers: int = 8,
               mw_version: str | None = None) -> WikiServer:
    """Install a fresh wiki, start serving it and create the demo users.

    :param name: label used for the temp dir and in messages.
    :param captcha: None, ``"always"`` (QuestyCaptcha on every login and on
        account creation) or ``"badlogin"`` (MediaWiki's default: captcha after
        3 failed logins from the IP within 5 minutes).
    :param oath: load OATHAuth and create ``TOTP_USERS`` with TOTP enabled.
    :param testidp: load tests/mediawiki/TestIdP/settings.php.
    :param mail: e-mail on, every mail written to a file instead of sent
        (:meth:`WikiServer.mails`), and each of ``USERS`` has the address ``EMAILS[name]``.
    :param extra_settings: PHP code appended last to LocalSettings.php.
    :param port: port on 127.0.0.1; a free one when None.
    :param base_dir: directory for the wiki (must not hold a wiki); a temp dir when None.
    :param workers: PHP_CLI_SERVER_WORKERS for php -S.
    :param mw_version: MediaWiki branch, ``"1.39"`` or ``"1.43"`` (see
        :func:`mediawiki_versions`); None: the host's.

    Users ``USERS`` (and, with oath, ``TOTP_USERS``) exist; ``Admin`` is sysop.
    """
    if captcha not in (None, *CAPTCHA_MODES):
        raise ValueError(f"captcha must be None or one of {CAPTCHA_MODES}, not {captcha!r}")
    if testidp and not TESTIDP_SETTINGS.is_file():
        raise WikiError(f"testidp=True but {TESTIDP_SETTINGS} does not exist")
    if port is not None and not _port_is_free(port):
        raise PortInUseError(f"127.0.0.1:{port} is already in use")
    mw = get_mediawiki(mw_version)

    if base_dir is None:
        wiki_dir = Path(tempfile.mkdtemp(prefix=f"wiki-{name}-mw{mw.branch}-"))
    else:
        wiki_dir = Path(base_dir).resolve()
        if (wiki_dir / "LocalSettings.php").exists():
            raise WikiError(f"{wiki_dir} already holds a wiki; use WikiServer.load()")
        wiki_dir.mkdir(parents=True, exist_ok=True)

    options = {"captcha": captcha, "oath": oath, "testidp": testidp, "mail": mail}
    server = WikiServer(name, wiki_dir, port or free_port(), workers=workers, options=options,
                        remove_on_close=base_dir is None, mw=mw)
    try:
        _install(server, captcha=captcha, oath=oath, testidp=testidp, mail=mail,
                 extra_settings=extra_settings)
        _start_on_free_port(server, port_fixed=port is not None)
    except BaseException:
        server.close()
        raise
    return server


def _install(server: WikiServer, *, captcha: str | None, oath: bool, testidp: bool, mail: bool,
             extra_settings: str) -> None:
    """Install MediaWiki into server.dir, configure it and create the demo users."""
    wiki_dir = server.dir
    server.maintenance(
        "install.php", "--dbtype", "sqlite", "--dbpath", server.php_path(wiki_dir / "data"),
        "--dbname", "wiki", "--confpath", server.php_path(wiki_dir), "--server", server.base_url,
        "--scriptpath", "", "--pass", ADMIN_PASSWORD, "--lang", "en", "Test Wiki", ADMIN_USER,
    )
    server._write_port_settings()
    with open(wiki_dir / "LocalSettings.php", "a") as f:
        f.write(_harness_settings(server, captcha=captcha, oath=oath, testidp=testidp, mail=mail,
                                  extra_settings=extra_settings))
    if oath or testidp:
        # Extensions with their own tables.
        server.maintenance("update.php", "--quick")
    # Maintenance scripts work without the web server, so users exist before it starts.
    for user, password in USERS.items():
        server.create_user(user, password)
        if mail:
            server.set_email(user, EMAILS[user])
    if oath:
        for user, (password, secret) in TOTP_USERS.items():
            server.create_user(user, password)
            server.enable_totp(user, secret)
    server._save_meta()


def _start_on_free_port(server: WikiServer, *, port_fixed: bool) -> None:
    """Start server, moving to another free port if the chosen one was taken meanwhile."""
    for attempt in range(3):
        try:
            server.start()
            return
        except PortInUseError:
            if port_fixed or attempt == 2:
                raise
            server.port = free_port()


def _harness_settings(server: WikiServer, *, captcha: str | None, oath: bool, testidp: bool,
                      mail: bool = False, extra_settings: str = "") -> str:
    """PHP appended to the installer's LocalSettings.php."""
    wiki_dir = server.dir

    def php_path(path: Path) -> str:
        return _php_string(server.php_path(path))

    lines = [
        "",
        "# ---- added by devwiki/wikiserver.py ----",
        f"require {php_path(wiki_dir / _PORT_FILE)};",
        # php -S workers are separate processes: sessions must be in a shared store.
        "$wgMainCacheType = CACHE_DB;",
        "$wgSessionCacheType = CACHE_DB;",
        f"$wgCacheDirectory = {php_path(wiki_dir / 'cache')};",
        "$wgEnableUploads = false;",
        "$wgDebugLogFile = '';",
        "$wgShowExceptionDetails = true;",
        f"$wgReadOnlyFile = {php_path(wiki_dir / _READONLY_FILE)};",
        # set_slow(): every request waits this many seconds first.
        f"if ( is_readable( {php_path(wiki_dir / _SLOW_FILE)} ) ) {{",
        f"\tusleep( (int)( 1e6 * (float)file_get_contents( {php_path(wiki_dir / _SLOW_FILE)} ) ) );",
        "}",
    ]
    if captcha:
        lines += [
            "wfLoadExtensions( [ 'ConfirmEdit', 'ConfirmEdit/QuestyCaptcha' ] );",
            # ConfirmEdit of 1.39 sets it when QuestyCaptcha loads; 1.43's no longer
            # does (its default is SimpleCaptcha's arithmetic).
            "$wgCaptchaClass = 'QuestyCaptcha';",
            f"$wgCaptchaQuestions = [ {_php_string(CAPTCHA_QUESTION)} => "
            f"{_php_string(CAPTCHA_ANSWER)} ];",
            "$wgCaptchaTriggers['edit'] = false;",
            "$wgCaptchaTriggers['create'] = false;",
            "$wgCaptchaTriggers['addurl'] = false;",
            "$wgCaptchaTriggers['sendemail'] = false;",
            "$wgCaptchaTriggers['createaccount'] = true;",
        ]
        if captcha == "always":
            # isBadLoginTriggered() is "bad logins from this IP >= attempts": 0 >= 0.
            lines += [
                "$wgCaptchaTriggers['badlogin'] = true;",
                "$wgCaptchaBadLoginAttempts = 0;",
            ]
    if oath:
        lines += [
            "wfLoadExtension( 'OATHAuth' );",
            "$wgGroupPermissions['user']['oathauth-enable'] = true;",
        ]
    if testidp:
        lines.append(f"require {php_path(TESTIDP_SETTINGS)};")
    if mail:
        lines += [
            f"$wgMailToFileDir = {php_path(wiki_dir / MAIL_DIR)};",
            f"require {php_path(MAIL_TO_FILE)};",
            # Tests reset passwords again and again, all from 127.0.0.1.
            "$wgPasswordReminderResendTime = 0;",
            "$wgRateLimits['mailpassword'] = [ 'ip' => [ 1000, 60 ], 'newbie' => [ 1000, 60 ] ];",
        ]
    if extra_settings:
        lines += ["# ---- extra_settings ----", extra_settings]
    return "\n".join(lines) + "\n"


@atexit.register
def _close_all() -> None:
    for server in list(_open_servers):
        server.close()


def print_banner(server: WikiServer, reused: bool) -> None:
    opts = server.options
    on_off = {True: "on", False: "off"}
    users = dict(USERS)
    if opts.get("oath"):
        users.update({u: pw for u, (pw, _) in TOTP_USERS.items()})
    print(f"\nMediaWiki test wiki '{server.name}' {'(reused)' if reused else '(new)'}")
    print(f"  MediaWiki : {server.mw}")
    print(f"  directory : {server.dir}")
    print(f"  API       : {server.api_url}")
    print(f"  wiki      : {server.index_url}")
    print(f"  server log: {server.log_path}")
    if opts.get("captcha"):
        print(f"  captcha   : {opts['captcha']}  "
              f"(question {CAPTCHA_QUESTION!r}, answer {CAPTCHA_ANSWER!r})")
    else:
        print("  captcha   : off")
    print(f"  OATHAuth  : {on_off[bool(opts.get('oath'))]}")
    print(f"  TestIdP   : {on_off[bool(opts.get('testidp'))]}")
    print("\nUsers (name / password):")
    print(f"  {ADMIN_USER:<6} {ADMIN_PASSWORD}   (sysop)")
    for user, password in users.items():
        print(f"  {user:<6} {password}")
    if opts.get("oath"):
        for user, (_, secret) in TOTP_USERS.items():
            print(f"\n{user} has TOTP two-factor auth; secret {secret}")
            print("  current code: python -c "
                  f"\"import pyotp; print(pyotp.TOTP('{secret}').now())\"")
            print("  (each 30-second code works only once per user)")
    print("\nServing until Ctrl-C.", flush=True)


def open_dev_wiki(wiki_dir: Path, *, port: int, captcha: str | None = None, oath: bool = False,
                  testidp: bool = False, workers: int = 8,
                  mw_version: str | None = None) -> tuple[WikiServer, bool]:
    """Start the wiki kept in ``wiki_dir``, installing it there first if there is none.

    Returns the running server and whether an existing wiki was reused. A
    reused wiki keeps its MediaWiki version; asking for another one is an error.
    """
    reused = (wiki_dir / _META_FILE).exists()
    if not reused and (wiki_dir / "LocalSettings.php").exists():
        raise WikiError(f"{wiki_dir} holds an incomplete wiki; delete it and retry")
    if not reused:
        server = start_wiki("dev", captcha=captcha, oath=oath, testidp=testidp,
                            port=port, base_dir=wiki_dir, workers=workers, mw_version=mw_version)
        return server, False
    server = WikiServer.load(wiki_dir, port=port, workers=workers)
    if mw_version and mw_version != server.mw_version:
        raise WikiError(f"{wiki_dir} holds a MediaWiki {server.mw_version} wiki, not {mw_version}; "
                        f"delete it or use another directory")
    wanted = {"captcha": captcha, "oath": oath, "testidp": testidp}
    if wanted != {k: server.options.get(k) for k in wanted}:
        print(f"note: reusing {wiki_dir} with its original options {server.options}; "
              f"delete the directory to change them", file=sys.stderr)
    server.start()
    return server, True


def main(argv: list[str] | None = None) -> int:
    """CLI: start (or reuse) a wiki with demo users and serve it until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devwiki.wikiserver", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080)")
    parser.add_argument("--dir", default=".devwiki",
                        help="wiki directory; an existing wiki there is reused (default .devwiki)")
    parser.add_argument("--captcha", choices=CAPTCHA_MODES)
    parser.add_argument("--oath", action="store_true", help="OATHAuth with TOTP user Carol")
    parser.add_argument("--testidp", action="store_true", help="load tests/mediawiki/TestIdP")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--mw", metavar="VERSION", choices=mediawiki_versions(),
                        help="MediaWiki branch (default: the host's, "
                             f"{(mediawiki_versions() or ['?'])[0]})")
    args = parser.parse_args(argv)

    try:
        server, reused = open_dev_wiki(Path(args.dir), port=args.port, captcha=args.captcha,
                                       oath=args.oath, testidp=args.testidp, workers=args.workers,
                                       mw_version=args.mw)
    except WikiError as exc:
        parser.error(str(exc))

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    print_banner(server, reused)
    try:
        while server.is_running():
            time.sleep(0.5)
        print(f"php -S exited unexpectedly\n{server._log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping wiki", flush=True)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
