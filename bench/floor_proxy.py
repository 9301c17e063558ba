"""The least any same-origin proxy can cost: a bare WSGI app that forwards one user's calls.

Served by the same gunicorn with the same settings as the app, it passes GET
query strings and POST bodies to the wiki with fixed cookies over a urllib3
pool, and the answer back: no Flask, no session, no checks, no logging of its
own.  ``bench.proxy`` times it beside the app to show what the hop itself
costs on this machine.  Benchmark only; never deploy it (it is one user's
session for anyone who can reach it).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

import urllib3

WIKI_API_URL = os.environ.get("FLOOR_WIKI_API_URL", "")
COOKIE = os.environ.get("FLOOR_COOKIE", "")
POOL = urllib3.PoolManager(maxsize=32, retries=False)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    headers = {"Cookie": COOKIE, "Accept-Encoding": "gzip, deflate"}
    url, body = WIKI_API_URL, None
    if environ["REQUEST_METHOD"] == "POST":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
    elif environ.get("QUERY_STRING"):
        url += "?" + environ["QUERY_STRING"]
    answer = POOL.urlopen(environ["REQUEST_METHOD"], url, body=body, headers=headers, redirect=False)
    start_response(f"{answer.status} {answer.reason}", [
        ("Content-Type", answer.headers.get("Content-Type", "application/json")),
        ("Content-Length", str(len(answer.data))),
    ])
    return [answer.data]
