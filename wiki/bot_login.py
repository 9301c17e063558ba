"""Log in with a bot password (``action=login``), from Python or from the app's web page.

A bot password, made on the wiki's Special:BotPasswords, lets a tool act as a
user with only the rights granted to that bot: no account password, and none of
the interactive steps (captcha, two-factor code) of ``action=clientlogin``.
Its user name is the account's name, "@", and the bot's name: ``Alice@mybot``.

Example::

    from wiki import Wiki
    from wiki.bot_login import bot_login

    wiki = Wiki("https://wiki.example.org/w/api.php",
                user_agent="my-tool/1.0 (https://example.org/my-tool; me@example.org)")
    client = wiki.client()
    result = bot_login(client, "Alice@mybot", "abcdefghijklmnopqrstuvwxyz012345")
    if not result.ok:
        raise SystemExit(f"not logged in ({result.code.value}): {result.reason}")
    client.post(action="edit", title="Sandbox", appendtext="\\nHello", summary="test",
                token=client.token("csrf"))

``client`` now carries the bot session; ``client.export_cookies()`` keeps it.
Credentials travel only in POST bodies (the wiki refuses them in a URL with
``mustpostparams``), and are never logged or kept.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .client import WikiClient
from .errors import WikiError, WikiResponseError, api_error

log = logging.getLogger(__name__)


class BotLoginCode(str, Enum):
    """How a bot-password login ended: the wiki's ``login.result``, plus ``MAIN_ACCOUNT``."""

    SUCCESS = "Success"
    FAILED = "Failed"  # wrong name or password, unknown bot, a lost session...: see reason_code
    THROTTLED = "Throttled"  # too many failures; MediaWiki >= 1.27 says Failed + login-throttled
    ABORTED = "Aborted"  # the account's own password, for an account that needs more (2FA)
    WRONG_TOKEN = "WrongToken"  # the login token was refused, even after one fresh try
    NEED_TOKEN = "NeedToken"  # the wiki saw no token, even after one fresh try
    # Ours: the wiki accepted the account's own password ("main-account login",
    # deprecated); refused here, and that session logged out again.
    MAIN_ACCOUNT = "MainAccount"


@dataclass(frozen=True)
class BotLoginResult:
    """The outcome of ``bot_login``; ``ok`` only for SUCCESS."""

    code: BotLoginCode
    username: str = ""  # the account (without "@bot"), when the wiki names it
    user_id: int = 0
    reason: str = ""  # the wiki's own explanation, plain text
    reason_code: str = ""  # its message key: "wrongpassword", "login-throttled", "sessionlost"...
    wait_seconds: int | None = None  # older wikis' THROTTLED: how long to wait

    @property
    def ok(self) -> bool:
        return self.code is BotLoginCode.SUCCESS


# The wiki refused the token before looking at the password: one more try
# with a fresh token is safe and counts no failed login.
_TOKEN_PROBLEMS = frozenset({BotLoginCode.WRONG_TOKEN, BotLoginCode.NEED_TOKEN})
_THROTTLE_REASONS = frozenset({"login-throttled"})


def bot_login(
    client: WikiClient, username: str, password: str, *, allow_main_account: bool = False
) -> BotLoginResult:
    """Log ``client`` in with a bot password; the result says how it went.

    Every ``login.result`` of the wiki comes back as a ``BotLoginResult``
    (nothing to catch for a wrong password); ``WrongToken``/``NeedToken`` are
    retried once with a fresh token first.  If the wiki accepted the account's
    own password instead, the session is logged out again and the result is
    ``MAIN_ACCOUNT``, unless ``allow_main_account``.  Raises ``WikiError``
    (``WikiUnavailable``, ``WikiAPIError``...) when the wiki cannot answer, and
    ``ValueError`` for an empty name or password.
    """
    if not username.strip() or not password:
        raise ValueError("bot_login needs a user name (like Alice@mybot) and a bot password")
    token = client.token("login")
    for attempt in (0, 1):
        data = client.post(
            action="login", lgname=username, lgpassword=password, lgtoken=token,
            # Machine-readable reasons and warnings ({"code": ..., "text": ...}).
            errorformat="plaintext",
        )
        _raise_api_error(data)
        result = _result(data)
        if result.code not in _TOKEN_PROBLEMS or attempt:
            break
        token = client.token("login")
    if result.ok and _was_main_account(data) and not allow_main_account:
        _log_out(client)
        return BotLoginResult(BotLoginCode.MAIN_ACCOUNT, username=result.username, user_id=result.user_id)
    return result


def _result(data: dict[str, Any]) -> BotLoginResult:
    login = data.get("login")
    codes = {c.value for c in BotLoginCode} - {BotLoginCode.MAIN_ACCOUNT.value}
    if not isinstance(login, dict) or login.get("result") not in codes:
        raise WikiResponseError("The wiki's answer to action=login has no known result.")
    code = BotLoginCode(login["result"])
    reason, reason_code = _reason(login.get("reason"))
    if code is BotLoginCode.FAILED and reason_code in _THROTTLE_REASONS:
        code = BotLoginCode.THROTTLED
    wait = login.get("wait")
    return BotLoginResult(
        code=code,
        username=str(login.get("lgusername") or ""),
        user_id=int(login.get("lguserid") or 0),
        reason=reason,
        reason_code=reason_code,
        wait_seconds=int(wait) if isinstance(wait, (int, float)) else None,
    )


def _reason(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):  # errorformat=plaintext
        return str(value.get("text") or ""), str(value.get("code") or "")
    return ("" if value is None else str(value)), ""


def _raise_api_error(data: dict[str, Any]) -> None:
    # With errorformat=plaintext, API errors come as a list under "errors"
    # (WikiClient only knows the default {"error": {...}}).
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        raise api_error(str(errors[0].get("code", "unknown")), str(errors[0].get("text", "")))


def _was_main_account(data: dict[str, Any]) -> bool:
    warnings = data.get("warnings")
    return isinstance(warnings, list) and any(
        isinstance(w, dict) and w.get("code") == "deprecation"
        and isinstance(w.get("data"), dict) and w["data"].get("feature") == "main-account-login"
        for w in warnings
    )


def _log_out(client: WikiClient) -> None:
    try:
        client.post(action="logout", token=client.token("csrf"))
    except WikiError as exc:  # the session then simply expires on the wiki
        log.warning("could not log out a refused main-account login: %s", exc)
