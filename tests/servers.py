"""Servers the tests start for real on 127.0.0.1: Redis, and the app under gunicorn.

Each runs in its own process group, so stopping it (or "killing" it) reaches
every process it started, and nothing outlives a test.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import requests

from tests.conftest import SECRET
from devwiki.wikiserver import WikiServer, free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


class RedisServer:
    """``redis-server`` on 127.0.0.1 with nothing written to disk."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log = directory / "redis.log"
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                 "--save", "", "--appendonly", "no", "--dir", str(directory)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start:\n{self._log.read_text()}")
                time.sleep(0.05)

    def stop(self) -> None:
        self.client.close()
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py app:app`` on 127.0.0.1, started from ``cwd``."""

    def __init__(self, server: WikiServer, log_dir: Path, name: str, cwd: Path = ROOT, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cwd = cwd
        self.access_log = log_dir / f"{name}.access.log"
        self.error_log = log_dir / f"{name}.error.log"
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(log_dir),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_THREADS": "4",
            "WIKI_API_URL": server.api_url,
            "SECRET_KEY": SECRET,
            "PUBLIC_URL": self.url,
            "SESSION_DIR": str(log_dir / f"{name}-sessions"),
            **env,
        }
        self._proc: subprocess.Popen | None = None

    def start(self) -> "Gunicorn":
        with open(self.access_log, "ab") as out, open(self.error_log, "ab") as err:
            self._proc = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py", "app:app"], cwd=self.cwd, env=self.env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(self.url + "/livez", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or no worker booted yet
                pass
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"gunicorn did not start:\n{self.logs()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the master and every worker: no clean-up of any kind."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """A graceful shutdown, then SIGKILL for anything left in the process group."""
        self._signal(signal.SIGTERM)
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)  # start_new_session: the group id is the master's pid
        except ProcessLookupError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            return
        if sig == signal.SIGKILL:
            self._proc = None

    def logs(self) -> str:
        """Everything gunicorn and the app wrote: access log, then error log."""
        return "".join(p.read_text(errors="replace") for p in (self.access_log, self.error_log)
                       if p.exists())

    def access_lines(self, path: str) -> list[str]:
        """Access log lines for ``path``, waiting briefly: the line follows the response."""
        deadline = time.monotonic() + 3
        while True:
            lines = [line for line in self.access_log.read_text().splitlines() if f" {path} " in line]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)
