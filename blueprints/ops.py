"""Health checks for process managers, load balancers and monitoring.

- ``/livez``: the process serves requests; no dependency is asked.  For
  restart decisions (Docker's HEALTHCHECK): restarting the app never fixes a
  wiki or a Redis that is down.
- ``/healthz``: the app can do its job: the wiki answers (asked at most every
  few seconds) and the session store works.  200 with ``"status": "ok"``, else 503 with ``"status": "degraded"``;
  for taking an instance out of a load balancer and for alerts.

Neither sets a cookie or stores a session, and the JSON names no host, URL or
error detail (those go to the log).
"""
from __future__ import annotations

import logging
import os
import threading
import time

import redis
from flask import Blueprint, current_app, jsonify

from wiki import Wiki, WikiError

bp = Blueprint("ops", __name__)
log = logging.getLogger("wiki_login.health")

PROBE_TIMEOUT = 2.0  # seconds: a health check must answer before its caller gives up
WIKI_CHECK_EVERY = 5.0  # seconds an answer about the wiki is reused


@bp.record_once
def _make_probe(state) -> None:
    # Its own handle for the short timeout; the connection pool is the app's.
    app = state.app
    wiki = app.extensions["wiki"]
    app.extensions["wiki_probe"] = Wiki(
        wiki.api_url, user_agent=wiki.user_agent, pool=wiki.pool,
        timeout=min(PROBE_TIMEOUT, app.config["WIKI_TIMEOUT"]),
    )
    app.extensions["wiki_health"] = {"lock": threading.Lock(), "until": 0.0, "result": ""}


@bp.get("/livez")
def livez():
    """Always 200 while the process answers."""
    return _no_store(jsonify(status="ok"))


@bp.get("/healthz")
def healthz():
    """The wiki and the session store, checked now."""
    checks = {"wiki": _check_wiki(), "sessions": _check_sessions()}
    healthy = all(result == "ok" for result in checks.values())
    body = jsonify(status="ok" if healthy else "degraded", **checks)
    return _no_store(body), 200 if healthy else 503


def _check_wiki() -> str:
    """The wiki's health, asked at most once every ``WIKI_CHECK_EVERY`` seconds per process.

    Whoever can reach /healthz must not be able to make the wiki do work on
    every request; monitors poll every few seconds at most anyway.
    """
    cache = current_app.extensions["wiki_health"]
    with cache["lock"]:
        if time.monotonic() < cache["until"]:
            return cache["result"]
        result = _ask_wiki()
        cache.update(result=result, until=time.monotonic() + WIKI_CHECK_EVERY)
    return result


def _ask_wiki() -> str:
    began = time.monotonic()
    try:
        current_app.extensions["wiki_probe"].client().get(action="query", meta="siteinfo",
                                                          siprop="general")
    except WikiError as exc:
        log.warning("health check: the wiki does not answer: %s", exc)
        return "unavailable"
    log.debug("health check: the wiki answered in %d ms", (time.monotonic() - began) * 1000)
    return "ok"


def _check_sessions() -> str:
    config = current_app.config
    if config["REDIS_URL"]:
        try:
            config["SESSION_REDIS"].ping()
        except redis.RedisError as exc:
            log.warning("health check: Redis does not answer: %s", exc)
            return "unavailable"
        return "ok"
    if not os.access(config["SESSION_DIR"], os.W_OK | os.X_OK):
        log.warning("health check: the session directory %s is not writable", config["SESSION_DIR"])
        return "unavailable"
    return "ok"


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
