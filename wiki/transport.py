"""HTTP to the wiki: one urllib3 connection pool for the whole app, cookies per user.

Every user's calls share the pool's keep-alive connections; each user's
cookies live in their own ``CookieJar`` (see ``WikiClient``) and go out as a
``Cookie`` header on their calls only.  urllib3 is used directly rather than
through ``requests.Session``: a session per user per request cost about 0.5 ms
of CPU a call (cookie-jar copies, environment lookups, hooks) that the app's
same-origin API adds to every editor call.  Cookie rules (domain, path, expiry,
Secure) stay the standard library's ``http.cookiejar``.
"""
from __future__ import annotations

import threading
import time
from http.cookiejar import CookieJar
from types import SimpleNamespace
from typing import Any, Iterable, Sequence
from urllib.parse import urlencode

import requests
import urllib3
from requests.cookies import MockRequest, MockResponse, RequestsCookieJar, create_cookie
from requests.utils import select_proxy

from .errors import WikiTimeout, WikiUnreachable

Pool = urllib3.PoolManager  # ProxyManager is one too


def make_pool(url: str, *, size: int = 32) -> Pool:
    """Keep-alive connections to the wiki at ``url``, shared by every user's client.

    Proxy and CA bundle come from the environment as requests reads them
    (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``...), once, like all
    configuration.  Never retried or redirected here: the callers decide.
    """
    settings = requests.Session().merge_environment_settings(url, {}, None, None, None)
    verify = settings["verify"]  # True, False, or the path of a CA bundle
    if verify is False:
        tls: dict[str, Any] = {"cert_reqs": "CERT_NONE"}
    else:
        tls = {"cert_reqs": "CERT_REQUIRED",
               "ca_certs": verify if isinstance(verify, str) else requests.certs.where()}
    common = {"num_pools": 4, "maxsize": size, "block": False, "retries": False, **tls}
    proxy = select_proxy(url, settings["proxies"])
    if not proxy:
        return urllib3.PoolManager(**common)
    if proxy.lower().startswith("socks"):
        from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks, as requests does

        return SOCKSProxyManager(proxy, **common)
    return urllib3.ProxyManager(proxy, **common)


def cookie_header(jar: CookieJar, url: str) -> str | None:
    """The ``Cookie`` header the jar's rules give a request to ``url`` (None: no cookie applies)."""
    request = MockRequest(SimpleNamespace(url=url, headers={}))
    jar.add_cookie_header(request)  # type: ignore[arg-type]
    return request.get_new_headers().get("Cookie")


def keep_cookies(jar: CookieJar, url: str, response: urllib3.BaseHTTPResponse) -> bool:
    """Put the cookies ``response`` sets into the jar (as the jar's rules allow); whether it set any."""
    if "Set-Cookie" not in response.headers and "Set-Cookie2" not in response.headers:
        return False
    request = MockRequest(SimpleNamespace(url=url, headers={}))
    jar.extract_cookies(MockResponse(response.headers), request)  # type: ignore[arg-type]
    return True


def encode(method: str, url: str, params: Any, headers: dict[str, str]) -> tuple[str, bytes | None]:
    """Where ``params`` go: GET in the query string, POST in a form body (``headers`` get its type).

    ``params`` is a dict or a list of pairs; a list value repeats its name.
    Anything but GET or POST raises ``ValueError``: no other method (a HEAD,
    say) is ever quietly turned into a POST.
    """
    if method not in ("GET", "POST"):
        raise ValueError(f"the wiki is sent GET or POST only, not {method!r}")
    query = urlencode(params or {}, doseq=True)
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return url, query.encode()
    return (url + ("&" if "?" in url else "?") + query if query else url), None


def exchange(pool: Pool, method: str, url: str, *, body: bytes | None, headers: dict[str, str], timeout: float,
             stream: bool = False) -> urllib3.BaseHTTPResponse:
    """One HTTP request to the wiki over ``pool``: never redirected or retried here.

    Transport failures become ``WikiTimeout`` or ``WikiUnreachable``.
    """
    try:
        return pool.urlopen(method, url, body=body, headers=headers, redirect=False, retries=False,
                            timeout=timeout, preload_content=not stream)
    except urllib3.exceptions.NewConnectionError as exc:  # refused, no such host: not a timeout,
        raise WikiUnreachable("The wiki could not be reached.") from exc  # though urllib3 says so
    except urllib3.exceptions.TimeoutError as exc:
        raise WikiTimeout(f"The wiki did not answer within {timeout:g} second{'' if timeout == 1 else 's'}.") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise WikiUnreachable("The wiki could not be reached.") from exc


def stored_jar(cookies: Iterable[Sequence[Any]]) -> RequestsCookieJar:
    """A jar holding stored cookies (name, value, domain, path, expires, secure)."""
    jar = RequestsCookieJar()
    for name, value, domain, path, expires, secure in cookies:
        jar.set_cookie(create_cookie(name, value, domain=domain, path=path, expires=expires, secure=secure))
    return jar


class CookieHeaders:
    """The ``Cookie`` header for a set of stored cookies, worked out once per set.

    The same user's editor calls carry the same stored cookies call after call;
    the jar's rules (domain, path, Secure, expiry) give the same header until one
    of them expires, so it is kept until then.  Keyed by the cookies themselves:
    one user's entry can never answer for another's.
    """

    def __init__(self, size: int = 4096):
        self._size = size
        self._kept: dict[tuple[Any, ...], tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def header(self, cookies: Iterable[Sequence[Any]], url: str) -> str | None:
        key = (url, *(tuple(c) for c in cookies))
        now = time.time()
        kept = self._kept.get(key)
        if kept is not None and now < kept[1]:
            return kept[0]
        header = cookie_header(stored_jar(key[1:]), url)
        # Valid until the next of these cookies expires (one that has expired stays out).
        until = min((c[4] for c in key[1:] if c[4] and c[4] > now), default=float("inf"))
        with self._lock:
            if len(self._kept) >= self._size:
                self._kept.clear()  # rare: more distinct sets than users at once
            self._kept[key] = (header, until)
        return header
