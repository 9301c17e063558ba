"""One Action API call passed through for a user, answered byte for byte.

The app's same-origin ``/api`` forwards a browser's call with that user's wiki
cookies and hands back exactly what the wiki said.  Unlike
``WikiClient.get/post`` nothing is parsed, retried or raised for API errors
here: the answer is the caller's to read, in the wiki's own words and format.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .client import WikiClient

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

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";", 1)[0].strip().lower() == "application/json"


def forward(client: WikiClient, method: str, params: list[tuple[str, str]]) -> RawAnswer:
    """Send ``params`` as given (repeated names kept, in order) with ``client``'s cookies only.

    ``method`` is "GET" (parameters in the query string) or "POST" (in the
    body); anything else raises ``ValueError`` and sends nothing, so that no
    other method (a HEAD, say) is ever quietly turned into a POST.  Never
    retried: the caller sees what happened and decides.  Raises
    ``WikiUnavailable`` if the wiki cannot be reached in time.
    """
    resp = client.send(method, params)
    return RawAnswer(
        status=resp.status,
        content_type=resp.headers.get("Content-Type", ""),
        body=resp.data,
        error_codes=_error_codes(resp.headers.get(ERROR_HEADER), resp.data),
        retry_after=resp.headers.get("Retry-After"),
    )


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
