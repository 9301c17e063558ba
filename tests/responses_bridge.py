"""Lets `responses` answer the app's wiki calls in unit tests.

`responses` mocks requests' ``HTTPAdapter.send``; the app talks to the wiki
through urllib3 directly (``wiki.transport``).  ``BridgedPool`` is the app's
own pool with one addition: while a `responses` mock is active (``send`` is
patched), each call is handed to it as a requests ``PreparedRequest`` and its
answer (a urllib3 response, which `responses` builds anyway) comes back; the
mocked failures are raised as the urllib3 errors the real pool raises.  When
no mock is active, calls go to the network as in production, unchanged.
"""
from __future__ import annotations

from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

REAL_SEND = HTTPAdapter.send


def mocked() -> bool:
    """Whether a `responses` mock is active now."""
    return HTTPAdapter.send is not REAL_SEND


class BridgedMixin:
    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: Any) -> urllib3.BaseHTTPResponse:
        if not mocked():
            return super().urlopen(method, url, redirect=redirect, **kw)  # type: ignore[misc]
        body = kw.get("body")
        request = requests.PreparedRequest()
        # A urlencoded body is ASCII; as text, as requests itself records one.
        request.prepare(method=method, url=url, headers=kw.get("headers") or {},
                        data=body.decode("ascii") if isinstance(body, bytes) else body)
        try:
            answer = HTTPAdapter().send(request, stream=True, timeout=kw.get("timeout"))
        except requests.ConnectTimeout as exc:
            raise urllib3.exceptions.ConnectTimeoutError(None, str(exc)) from exc
        except requests.Timeout as exc:
            raise urllib3.exceptions.ReadTimeoutError(None, url, str(exc)) from exc  # type: ignore[arg-type]
        except requests.ConnectionError as exc:
            raise urllib3.exceptions.ProtocolError(str(exc)) from exc
        return answer.raw


def bridged(pool: urllib3.PoolManager) -> urllib3.PoolManager:
    """``pool``, made to answer from `responses` while a mock is active."""
    pool.__class__ = type(f"Bridged{type(pool).__name__}", (BridgedMixin, type(pool)), {})
    return pool
