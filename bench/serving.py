"""The WSGI servers ``bench.servers`` compares, and a wiki that can be made slow on request.

``Served(kind, module, env, workdir)`` runs ``module:app`` (the app, or
``bench.floor_proxy``) on 127.0.0.1 under one of ``KINDS``:

- ``gthread-32``: ``gunicorn -c gunicorn.conf.py`` as deployed (1 process, 32 threads);
- ``gthread-8``: the same with ``GUNICORN_THREADS=8`` (gunicorn.conf.py's default until #18);
- ``gevent``: the same, with ``-k gevent`` (gunicorn's gevent worker, 1000 connections);
- ``granian``: ``granian --interface wsgi`` (1 process, its default blocking threads),
  with its access log on, as a deployment would have it.

``SlowWiki`` is a transparent forwarder in front of the real wiki (cookies
both ways) that answers any call carrying the parameter ``benchslow`` itself,
after ``SLOW_SECONDS``: a wiki that is slow for some calls, so that what a
server does with many slow requests at once can be seen without loading the
real wiki.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import urllib3

from devwiki.wikiserver import free_port

from .harness import ROOT, _process_table, stop_group

# The first is what gunicorn.conf.py deploys; the others are measured against it.
KINDS = ("gthread-32", "gthread-8", "gevent", "granian")
SLOW_SECONDS = 2.0
SLOW_PARAM = "benchslow"


def command(kind: str, module: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment serving ``module:app`` on ``port`` under ``kind``."""
    target = f"{module}:app"
    if kind == "granian":
        return [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--access-log", "--no-ws", target], {}
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    env = {"GUNICORN_BIND": f"127.0.0.1:{port}"}
    if kind == "gevent":
        gunicorn += ["-k", "gevent"]
    elif kind.startswith("gthread-") and kind[8:].isdigit():
        env["GUNICORN_THREADS"] = kind[8:]
    else:
        raise ValueError(f"no server kind {kind!r}; there are {', '.join(KINDS)}")
    return [*gunicorn, target], env


class Served:
    """``module:app`` running under server ``kind``; its output in ``workdir/<kind>-<module>.log``."""

    def __init__(self, kind: str, module: str, env: dict[str, str], workdir: Path, ready_path: str,
                 port: int | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.kind, self.module = kind, module
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args, extra = command(kind, module, self.port)
        self.log_path = workdir / f"{kind}-{module}.log"
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                args, cwd=ROOT, env={**os.environ, **env, **extra}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.wait_ready(ready_path)

    @property
    def pid(self) -> int:
        """The server's main process (its workers are its children)."""
        return self._proc.pid

    def workers(self) -> set[int]:
        """The main process's children now (granian also has a resource tracker among them)."""
        return {pid for pid, (ppid, _) in _process_table().items() if ppid == self.pid}

    def wait_ready(self, path: str, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self._proc.returncode}; see {self.log_path}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + path, timeout=2).ok:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not serve {self.module} within {timeout:g} s; see {self.log_path}")

    def reload(self) -> None:
        """The graceful restart both gunicorn and granian offer: SIGHUP to the main process."""
        os.kill(self.pid, signal.SIGHUP)

    def stop(self) -> None:
        stop_group(self._proc, 20)

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the listen backlog: hundreds of calls may arrive at once


class SlowWiki:
    """A forwarder to ``api_url`` on 127.0.0.1 that is slow (and answers itself) for ``benchslow`` calls."""

    def __init__(self, api_url: str):
        pool = urllib3.PoolManager(maxsize=64, retries=False)
        self.slow_calls = 0
        counter_lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = self.path.partition("?")[2]
                if SLOW_PARAM in query or SLOW_PARAM.encode() in body:
                    with counter_lock:
                        outer.slow_calls += 1
                    time.sleep(SLOW_SECONDS)
                    self._send(200, "application/json", json.dumps({"batchcomplete": True}).encode(), [])
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("cookie", "content-type", "user-agent", "x-forwarded-for")}
                url = api_url + (f"?{query}" if query else "")
                answer = pool.urlopen(self.command, url, body=body or None, headers=headers, redirect=False)
                self._send(answer.status, answer.headers.get("Content-Type", "application/json"), answer.data,
                           answer.headers.getlist("Set-Cookie"))

            def _send(self, status: int, content_type: str, data: bytes, cookies: list[str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for cookie in cookies:
                    self.send_header("Set-Cookie", cookie)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self._server = _Listener(("127.0.0.1", free_port()), Handler)
        self.api_url = f"http://127.0.0.1:{self._server.server_port}/api.php"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "SlowWiki":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
