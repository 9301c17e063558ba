"""AuthManager's API, as one user's client speaks it: the wire protocol stays here.

Each action (log in, create an account, link one, change, unlink or remove a
credential) is one ``AuthAction`` in ``AUTH_ACTIONS``: its API module, the
prefix of its parameters (``loginrequests``, ``createreturnurl``...) and the
security-sensitive operation the wiki checks first.  A
flow *begins* with the requests the user chose and a return URL, and
*continues* with the fields of the next step; both answer a typed
``AuthResult``.  ``whoami()`` and ``logout()`` answer typed values too: no raw
JSON leaves ``wiki/``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .authn import AuthInfo, AuthResult
from .errors import BadToken, NotLoggedIn, WikiResponseError


@dataclass(frozen=True)
class AuthAction:
    """The names AuthManager's API modules use for one action (login, create, link...)."""

    module: str  # clientlogin, createaccount, linkaccount...
    prefix: str  # login, create, link; "" for unlinkaccount's plain request and token
    token_type: str  # login, createaccount, csrf
    requests_for: str  # amirequestsfor=...
    # The operation the module checks (AuthManager::securitySensitiveOperationStatus),
    # asked with the requests (amisecuritysensitiveoperation); None: not sensitive.
    security_operation: str | None = None


AUTH_ACTIONS = {
    "login": AuthAction("clientlogin", "login", "login", "login"),
    "create": AuthAction("createaccount", "create", "createaccount", "create"),
    "link": AuthAction("linkaccount", "link", "csrf", "link", "LinkAccounts"),
    # Not multi-step flows: one POST that answers success or an error (wiki.credentials).
    "change": AuthAction("changeauthenticationdata", "changeauth", "csrf", "change", "ChangeCredentials"),
    # The same module twice (ApiRemoveAuthenticationData): unlink offers only linked accounts.
    "unlink": AuthAction("unlinkaccount", "", "csrf", "unlink", "UnlinkAccount"),
    "remove": AuthAction("removeauthenticationdata", "", "csrf", "remove", "RemoveCredentials"),
}


@dataclass(frozen=True)
class UserInfo:
    """Who a client is on the wiki (``meta=userinfo``), typed for pages to show."""

    name: str
    id: int = 0
    anonymous: bool = False
    # A temporary account (MediaWiki 1.39+ with $wgAutoCreateTempUser): registered,
    # so assert=user lets it through, but nobody logged in to it.
    temporary: bool = False
    groups: tuple[str, ...] = ()  # without the implicit "*" (everyone)
    rights: tuple[str, ...] = ()
    edit_count: int | None = None

    @property
    def logged_in(self) -> bool:
        """Someone logged in to a real account: not anonymous, not a temporary account."""
        return not self.anonymous and not self.temporary

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "UserInfo":
        """Parse ``query.userinfo``."""
        if not isinstance(data, dict) or "name" not in data:
            raise WikiResponseError("userinfo has no name")
        edit_count = data.get("editcount")
        return cls(
            name=str(data["name"]),
            id=int(data.get("id") or 0),
            # formatversion=2 says "anon": true; an id of 0 means the same.
            anonymous=bool(data.get("anon")) or not data.get("id"),
            temporary=bool(data.get("temp")),
            groups=tuple(str(g) for g in data.get("groups") or () if g != "*"),
            rights=tuple(str(r) for r in data.get("rights") or ()),
            edit_count=int(edit_count) if isinstance(edit_count, int) else None,
        )


class AuthManagerCalls:
    """The AuthManager calls of ``WikiClient``, which supplies ``get`` and ``post``."""

    get: Any
    post: Any
    wiki: Any  # the Wiki, for its kept words (auth_messages)
    lang: str | None

    def auth_info(self, action: AuthAction, *, keep_words: bool = True,
                  security_operation: str | None = None) -> tuple[str, AuthInfo]:
        """The token and the fields for ``action``, in one request (two on a miss of the kept words).

        ``keep_words``: the fields' words may come from the wiki's
        ``auth_messages`` (see ``wiki.auth_messages``); False where they may be
        this visitor's own (a provider's identity kept after RESTART).
        ``security_operation`` (``ChangeCredentials``; by default the action's
        own): also ask whether this session may do it now
        (``AuthInfo.security_status``, always fresh).
        """
        words, lang = self.wiki.auth_messages, self.lang or ""
        if keep_words and words.known(action.requests_for, lang):
            token, raw = self._auth_info(action, "none", security_operation)
            filled = words.fill(action.requests_for, lang, raw)
            if filled is not None:
                return token, AuthInfo.from_api(filled)
        token, raw = self._auth_info(action, "html", security_operation)
        if keep_words:
            words.keep(action.requests_for, lang, raw)
        return token, AuthInfo.from_api(raw)

    def _auth_info(self, action: AuthAction, message_format: str,
                   security_operation: str | None) -> tuple[str, dict[str, Any]]:
        data = self.get(
            action="query",
            meta="tokens|authmanagerinfo",
            type=action.token_type,
            amirequestsfor=action.requests_for,
            amisecuritysensitiveoperation=security_operation or action.security_operation,
            amimessageformat=message_format,
        )
        try:
            query = data["query"]
            return query["tokens"][f"{action.token_type}token"], query["authmanagerinfo"]
        except (KeyError, TypeError) as exc:
            raise WikiResponseError(f"authmanagerinfo answer lacks {exc}") from exc

    def token(self, token_type: str) -> str:
        """A fresh token of one type."""
        data = self.get(action="query", meta="tokens", type=token_type)
        try:
            return data["query"]["tokens"][f"{token_type}token"]
        except (KeyError, TypeError) as exc:
            raise WikiResponseError(f"tokens answer lacks {exc}") from exc

    def begin(self, action: AuthAction, token: str, fields: dict[str, Any], *, return_url: str,
              requests: Iterable[str] | None = None, preserve_state: bool = False) -> tuple[AuthResult, str]:
        """The first step of ``action``: the fields, and where a provider returns to.

        ``requests``: the ids of the requests the user chose (the wiki uses only
        those); None names none, and the wiki takes every request the fields
        fill.  ``preserve_state``: go on from what an earlier attempt left (a
        provider's identity after RESTART).  Returns the result and the token that worked.
        """
        control = {f"{action.prefix}returnurl": return_url, **_chosen(action, requests)}
        if preserve_state:
            control[f"{action.prefix}preservestate"] = "1"
        return self.authenticate(action, token, {**fields, **control})

    def continue_(self, action: AuthAction, token: str, fields: dict[str, Any], *,
                  requests: Iterable[str] | None = None) -> tuple[AuthResult, str]:
        """A later step of ``action``: a UI step's fields (``requests`` as for ``begin``), or a provider's answer."""
        return self.authenticate(action, token, {**fields, f"{action.prefix}continue": "1", **_chosen(action, requests)})

    def authenticate(
        self, action: AuthAction, token: str, params: dict[str, Any]
    ) -> tuple[AuthResult, str]:
        """Post one step of clientlogin/createaccount/linkaccount (``begin``/``continue_`` add the prefixes).

        ``params`` are the unprefixed field values plus prefixed control
        parameters (``loginreturnurl``, ``logincontinue``...).  On ``badtoken``
        (an expired wiki session) a fresh token is fetched and the step sent
        once more: the wiki refused it before doing anything.  Returns the result
        and the token that worked.
        """
        data, token = self.post_with_token(action, token, {**params, f"{action.prefix}messageformat": "html"})
        return AuthResult.from_api(data.get(action.module)), token

    def post_with_token(self, action: AuthAction, token: str, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """POST ``action``'s module with its token; on ``badtoken`` once more with a fresh one.

        The wiki refused a bad token before doing anything, so sending again is
        safe.  Returns the answer and the token that worked.
        """
        for attempt in (0, 1):
            try:
                return self.post(action=action.module, **params, **{f"{action.prefix}token": token}), token
            except BadToken:
                if attempt:
                    raise
                token = self.token(action.token_type)
        raise AssertionError("unreachable")  # pragma: no cover

    def whoami(self, *, props: str = "groups|rights") -> UserInfo:
        """Who this client is on the wiki (``meta=userinfo``)."""
        data = self.get(action="query", meta="userinfo", uiprop=props)
        try:
            return UserInfo.from_api(data["query"]["userinfo"])
        except (KeyError, TypeError) as exc:
            raise WikiResponseError(f"userinfo answer lacks {exc}") from exc

    def logout(self) -> bool:
        """End this client's wiki session (``action=logout``); False if it had already ended.

        ``assert=user`` on the token: an expired session would otherwise be
        handed an anonymous token and "log out" an anonymous visitor.
        """
        try:
            data = self.get(action="query", meta="tokens", type="csrf", **{"assert": "user"})
            token = data["query"]["tokens"]["csrftoken"]
        except NotLoggedIn:
            return False
        except (KeyError, TypeError) as exc:
            raise WikiResponseError(f"tokens answer lacks {exc}") from exc
        self.post(action="logout", token=token)
        return True


def _chosen(action: AuthAction, requests: Iterable[str] | None) -> dict[str, str]:
    # An empty list is sent too: it means "none of them", which is what was chosen.
    return {} if requests is None else {f"{action.prefix}requests": "|".join(requests)}
