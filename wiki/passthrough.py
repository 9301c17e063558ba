"""One Action API call passed through for a user, answered byte for byte.

The app's same-origin ``/api`` forwards a browser's call with that user's wiki
cookies and hands back exactly what the wiki said.  Unlike
``WikiClient.get/post`` nothing is parsed, retried or raised for API errors
here: the answer is the caller's to read, in the wiki's own words and format.

Two ways in: ``forward`` through a ``WikiClient`` (its jar then keeps what the
wiki set), and ``send_stored`` straight from the stored cookies, for the
ordinary call that must cost as little as a bare proxy (``auth/api_fast_path.py``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import urllib3

from .client import Wiki, WikiClient
from .transport import encode, exchange, keep_cookies

# Sent with every API error since MediaWiki 1.29: lets us read the codes
# without parsing (and whatever errorformat the caller chose).
ERROR_HEADER = "MediaWiki-API-Error"


@dataclass(frozen=True)
class RawAnswer:
    """The wiki's HTTP answer, untouched."""

    status: int
    content_type: str
    body: bytes
    error_codes: frozenset[str]  # the API error codes, if the answer is an error
    retry_after: str | None = None  # maxlag and rate limits say when to come back
    sets_cookies: bool = False  # the wiki set cookies with it (they are the user's, to keep)

    @classmethod
    def of(cls, resp: urllib3.BaseHTTPResponse) -> "RawAnswer":
        """The answer ``resp`` carries (its body already read)."""
        return cls(
            status=resp.status,
            content_type=resp.headers.get("Content-Type", ""),
            body=resp.data,
            error_codes=_error_codes(resp.headers.get(ERROR_HEADER), resp.data),
            retry_after=resp.headers.get("Retry-After"),
            sets_cookies="Set-Cookie" in resp.headers or "Set-Cookie2" in resp.headers,
        )

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";", 1)[0].strip().lower() == "application/json"


def forward(client: WikiClient, method: str, params: list[tuple[str, str]],
            sent: urllib3.BaseHTTPResponse | None = None) -> RawAnswer:
    """Send ``params`` as given (repeated names kept, in order) with ``client``'s cookies only.

    ``method`` is "GET" (parameters in the query string) or "POST" (in the
    body); anything else raises ``ValueError`` and sends nothing, so that no
    other method (a HEAD, say) is ever quietly turned into a POST.  Never
    retried: the caller sees what happened and decides.  Raises
    ``WikiUnavailable`` if the wiki cannot be reached in time.

    ``sent``: the wiki's answer to this very call, already sent by
    ``send_stored``; nothing is sent again, and the cookies it set go into
    ``client``'s jar as if ``client`` had sent it.
    """
    if sent is None:
        sent = client.send(method, params)
    else:
        keep_cookies(client.cookies, client.wiki.api_url, sent)
    return RawAnswer.of(sent)


def send_stored(wiki: Wiki, method: str, params: list[tuple[str, str]], cookies: Iterable[Sequence[Any]], *,
                forwarded_for: str | None = None) -> urllib3.BaseHTTPResponse:
    """``forward``'s request, sent with stored cookies (``WikiClient.export_cookies``) and no jar.

    The same headers a ``WikiClient`` without a language sends, the same Cookie
    header its jar would give; what the wiki sets is left in the answer, for
    ``forward(sent=...)`` to keep.  ``WikiError`` as ``forward``.
    """
    headers = wiki.request_headers(forwarded_for)
    cookie = wiki.cookie_headers.header(cookies, wiki.api_url)
    if cookie:
        headers["Cookie"] = cookie
    url, body = encode(method, wiki.api_url, params, headers)
    return exchange(wiki.pool, method, url, body=body, headers=headers, timeout=wiki.timeout)


def _error_codes(header: str | None, body: bytes) -> frozenset[str]:
    if header is not None:
        return frozenset(code.strip() for code in header.split(",") if code.strip())
    # No header (an old wiki, or a proxy that dropped it): read the body.
    try:
        data = json.loads(body)
    except ValueError:
        return frozenset()
    if not isinstance(data, dict):
        return frozenset()
    error = data.get("error")
    if isinstance(error, dict) and "code" in error:
        return frozenset({str(error["code"])})
    errors = data.get("errors")  # errorformat=plaintext/wikitext/html/raw
    if isinstance(errors, list):
        return frozenset(str(e["code"]) for e in errors if isinstance(e, dict) and "code" in e)
    return frozenset()
