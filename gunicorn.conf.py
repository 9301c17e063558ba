"""gunicorn settings for wiki-login:  gunicorn -c gunicorn.conf.py app:app

Everything comes from the environment, like the app's own settings:

PORT               port to listen on, all interfaces (default 8000)
GUNICORN_BIND      listen here instead, e.g. "127.0.0.1:8000" or "unix:/run/wiki-login.sock";
                   several separated by commas
GUNICORN_WORKERS   processes (default 2 with REDIS_URL, else 1: without Redis the login
                   rate-limit counters live in each process, so more processes would
                   multiply the limits)
GUNICORN_THREADS   threads per process (default 32): a thread waiting for the wiki blocks
                   only itself; a slow wiki holds up other users only once 32 requests
                   wait for it (README, "Performance": bench/servers.py)
LOG_LEVEL          also gunicorn's log level (default info)

Proxy headers (X-Forwarded-*) are honoured in one place only: the app's
ProxyFix, as TRUSTED_PROXIES says.  gunicorn's own trust list is emptied so a
client cannot set the scheme behind the app's back.
"""
import os


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"wiki-login cannot start: {name}={raw!r} must be a whole number above 0.")
    return int(raw)


def _bind() -> list[str]:
    explicit = os.environ.get("GUNICORN_BIND", "").strip()
    if explicit:
        return [address.strip() for address in explicit.split(",") if address.strip()]
    return [f"0.0.0.0:{_positive_int('PORT', 8000)}"]


bind = _bind()
workers = _positive_int("GUNICORN_WORKERS", 2 if os.environ.get("REDIS_URL", "").strip() else 1)
worker_class = "gthread"
threads = _positive_int("GUNICORN_THREADS", 32)
# A login step may wait WIKI_TIMEOUT for the wiki more than once; let it finish on shutdown.
graceful_timeout = 40
forwarded_allow_ips = ""
proc_name = "wiki-login"
# gunicornc's control socket would be one path shared by every gunicorn of
# this user (clashing) and needs a writable home; nothing here uses it.
control_socket_disable = True
# The worker heartbeat file: in RAM when possible (container /tmp may be slow disk).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower() or "info"
# The path only (%(U)s), never the query string (%(q)s, or %(r)s, the whole
# request line): /login/return?code=... carries the identity provider's one-time
# code.  No Referer (%(f)s) either: it may hold such a URL.  %(h)s is the client
# address after the app's ProxyFix, which rewrites it in place.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


def on_starting(server) -> None:
    """Check the app's settings once, before any worker starts.

    A mistake then stops gunicorn with one clear line, instead of every worker
    failing to boot in turn.
    """
    from auth.config import ConfigError, config_from_env

    try:
        config_from_env(os.environ)
    except ConfigError as exc:
        raise SystemExit(f"wiki-login cannot start: {exc}") from None
