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

from http.cookiejar import CookieJar
from types import SimpleNamespace
from typing import Any

import requests
import urllib3
from requests.cookies import MockRequest, MockResponse
from requests.utils import select_proxy

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
