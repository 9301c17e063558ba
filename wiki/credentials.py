"""Credentials outside a login: reset a forgotten password, change, unlink or remove a credential.

Neither is a multi-step AuthManager flow:
- ``action=resetpassword`` (``user`` and/or ``email``, a csrf token) answers
  ``success`` or an API error.  The wiki answers ``success`` whether or not an
  account or address exists (so does this), and which of ``user``/``email`` it
  takes is its ``$wgPasswordResetRoutes``, seen in ``action=paraminfo``.
- ``action=changeauthenticationdata`` (``changeauthrequest``, the request's
  fields, ``changeauthtoken`` of type csrf) answers ``success`` or an API error
  (``badretype``, ``passwordtooshort``, ``reauthenticate``...).  Its requests
  come from ``meta=authmanagerinfo&amirequestsfor=change`` (``AUTH_ACTIONS["change"]``),
  with ``amisecuritysensitiveoperation=ChangeCredentials`` in the same request.
- ``action=unlinkaccount`` and ``action=removeauthenticationdata`` (one module,
  ``ApiRemoveAuthenticationData``: ``request``, a csrf ``token``, no fields) take
  a request of ``amirequestsfor=unlink`` (a linked third-party account) or
  ``remove`` (less ``$wgRemoveCredentialsBlacklist``: never the password), after
  the operations ``UnlinkAccount`` / ``RemoveCredentials``; ``success`` or an
  API error (``badrequest``: no such request any more).
Typed values only leave this module; raw JSON does not.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .authmanager import AuthAction
from .errors import WikiResponseError

SUCCESS = "success"
# The operation AuthManager checks before any credential change (SpecialChangeCredentials, the API).
CHANGE_CREDENTIALS = "ChangeCredentials"


class SecurityStatus(StrEnum):
    """AuthManager::securitySensitiveOperationStatus(): may this session do it now?"""

    NONE = "NONE"      # not a security-sensitive operation
    OK = "OK"          # logged in recently enough
    REAUTH = "REAUTH"  # log in again first
    FAIL = "FAIL"      # this session can never do it (it cannot log in again)


@dataclass(frozen=True)
class ResetRoutes:
    """What a password reset may name the account by ($wgPasswordResetRoutes)."""

    username: bool = False
    email: bool = False

    @property
    def any(self) -> bool:
        return self.username or self.email

    @classmethod
    def from_paraminfo(cls, data: dict[str, Any]) -> "ResetRoutes":
        """``action=paraminfo&modules=resetpassword``: the module lists only the routes it takes."""
        try:
            module = data["paraminfo"]["modules"][0]
            names = {p["name"] for p in module.get("parameters") or ()}
        except (KeyError, IndexError, TypeError) as exc:
            raise WikiResponseError(f"paraminfo answer lacks {exc}") from exc
        return cls(username="user" in names, email="email" in names)


@dataclass(frozen=True)
class CredentialResult:
    """The wiki's answer to resetpassword or changeauthenticationdata (errors are raised)."""

    status: str

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS


def security_status(value: Any) -> SecurityStatus:
    """authmanagerinfo's ``securitysensitiveoperationstatus`` (lower case in formatversion=2)."""
    try:
        return SecurityStatus(str(value or "NONE").upper())
    except ValueError as exc:
        raise WikiResponseError(f"unknown securitysensitiveoperationstatus {value!r}") from exc


class CredentialCalls:
    """The credential calls of ``WikiClient``, which supplies ``get``, ``post`` and ``token``."""

    get: Any
    post: Any
    token: Any
    post_with_token: Any  # AuthManagerCalls'

    def reset_routes(self) -> ResetRoutes:
        """Which of user name and e-mail address the wiki's password reset takes (none: no resets)."""
        return ResetRoutes.from_paraminfo(self.get(action="paraminfo", modules="resetpassword"))

    def reset_password(self, *, username: str = "", email: str = "") -> CredentialResult:
        """Ask the wiki to mail a temporary password; what it says, nothing more.

        Two requests: a csrf token of this (usually anonymous) session, then the reset.
        """
        token = self.token("csrf")
        data = self.post(action="resetpassword", user=username or None, email=email or None, token=token)
        return _result(data, "resetpassword")

    def change_credentials(self, action: AuthAction, token: str, request_id: str,
                           fields: dict[str, Any]) -> tuple[CredentialResult, str]:
        """Change one credential (``changeauthenticationdata``) with the chosen request's fields.

        On ``badtoken`` a fresh token is fetched and the change sent once more
        (the wiki refused it before doing anything).  ``ReauthRequired`` when the
        wiki wants a fresh login first.  Returns the result and the token that worked.
        """
        data, token = self.post_with_token(action, token, {**fields, f"{action.prefix}request": request_id})
        return _result(data, action.module), token

    def remove_credential(self, action: AuthAction, token: str, request_id: str) -> tuple[CredentialResult, str]:
        """Unlink an account or remove a credential (``AUTH_ACTIONS["unlink"]``/``["remove"]``): no fields.

        The wiki reads nothing but the request's id: whatever the request's
        fields would take, nothing is sent.  As ``change_credentials`` otherwise.
        """
        return self.change_credentials(action, token, request_id, {})


def _result(data: dict[str, Any], module: str) -> CredentialResult:
    answer = data.get(module)
    if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
        raise WikiResponseError(f"the wiki's answer to {module} has no status")
    return CredentialResult(answer["status"])


__all__ = ["CHANGE_CREDENTIALS", "CredentialCalls", "CredentialResult", "ResetRoutes", "SecurityStatus"]
