"""Typed failures of the wiki's API, so callers can tell a person what to do."""
from __future__ import annotations


class WikiError(Exception):
    """Anything that went wrong talking to the wiki."""


class WikiUnavailable(WikiError):
    """The wiki could not be reached, was too slow, or answered with a server error."""


class WikiTimeout(WikiUnavailable):
    """The wiki did not answer within the configured time."""


class WikiUnreachable(WikiUnavailable):
    """No connection to the wiki could be made (or it broke off)."""


class WikiResponseError(WikiError):
    """The wiki answered, but not with the JSON we expected."""


class WikiAPIError(WikiError):
    """The API answered with an error object (``{"error": {"code": ..., "info": ...}}``)."""

    def __init__(self, code: str, info: str = "", details: dict | None = None):
        super().__init__(f"{code}: {info}" if info else code)
        self.code = code
        self.info = info
        self.details = details or {}  # the rest of the error object, e.g. readonlyreason


class BadToken(WikiAPIError):
    """The token we sent is not (or no longer) valid for this wiki session."""


class NotLoggedIn(WikiAPIError):
    """``assert=user`` failed: the wiki no longer knows this user's session."""


class ReauthRequired(WikiAPIError):
    """``reauthenticate``: the wiki wants this user to log in again before a security-sensitive change."""


class ReauthImpossible(WikiAPIError):
    """``cannotreauthenticate``: this session cannot log in again (it came from elsewhere, e.g. OAuth)."""


def api_error(code: str, info: str = "", details: dict | None = None) -> WikiAPIError:
    """The most specific error class for an API error code."""
    if code == "badtoken":
        return BadToken(code, info, details)
    if code in ("assertuserfailed", "assertnameduserfailed", "notloggedin"):
        return NotLoggedIn(code, info, details)
    if code == "reauthenticate":
        return ReauthRequired(code, info, details)
    if code == "cannotreauthenticate":
        return ReauthImpossible(code, info, details)
    return WikiAPIError(code, info, details)
