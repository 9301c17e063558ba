"""Addresses on this app: absolute ones for the wiki to send browsers to, and safe "return to" paths."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def public_url(path: str) -> str:
    """An absolute URL on this app, from PUBLIC_URL (or the request when unset)."""
    base = current_app.config["PUBLIC_URL"] or request.host_url
    return base.rstrip("/") + path


def safe_returnto(value: str | None) -> str:
    """``value`` if it is a path on this app, else "" (never an open redirect)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return ""
    if any(c in value for c in "\\\r\n\t\0") or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value
