"""Linked accounts and removable credentials: the lists, unlinking and removing, and a link's PASS.

Linking another account is a flow like a login (``ACTIONS["link"]``: the
provider's button, its REDIRECT, the same one-time callback, ``linkcontinue=1``);
its PASS comes here (``account_linked``).  Unlinking and removing are one POST
each with a request of the wiki's list, like a credential change
(``auth.credentials``): one entry each in ``REMOVALS``.  Each page asks the wiki
afresh, with the security-sensitive operation in the same request; nothing
lives in the session between requests but the notice the next list page shows once.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from wiki import AUTH_ACTIONS, AuthAction, AuthInfo, ReauthImpossible, ReauthRequired, WikiClient, WikiError
from wiki.credentials import security_status

from . import credentials, wiki_session
from .pages import describe_wiki_error, error_status, message_page, wiki_error_page
from .state import Flow, Stage, Step
from .words import msg

log = logging.getLogger("wiki_login.auth")

# In the server-side session: the WIKI_WORDS message the next list page says once ("The account was linked.").
NOTICE = "notice"


@dataclass(frozen=True)
class Removal:
    """One list of credentials, each with a button that takes it away: its API, page and words."""

    api: AuthAction
    endpoint: str  # the list (GET) and its buttons (POST)
    title: str
    lead: str
    empty: str
    button: str
    done: str  # the wiki's message for it (auth.words.WIKI_WORDS), said once on the list afterwards
    sensitive: str  # why the wiki asks to log in again first
    wiki_page: str  # the wiki's own page for it


REMOVALS: dict[str, Removal] = {
    # amirequestsfor=unlink: the accounts of TYPE_LINK providers (TestIdP's identities, say).
    "unlink": Removal(
        AUTH_ACTIONS["unlink"], "linking.linked", _l("Linked accounts"),
        _l("You can also log in to this wiki account with these accounts elsewhere:"),
        _l("No account elsewhere is linked to this one."), _l("Unlink"), "unlinkaccounts-success",
        _l("Linking and unlinking accounts are security-sensitive actions, and you logged in a while ago."),
        "Special:UnlinkAccounts"),
    # amirequestsfor=remove: every provider's removable credentials (never the password:
    # $wgRemoveCredentialsBlacklist), linked accounts among them.
    "remove": Removal(
        AUTH_ACTIONS["remove"], "linking.remove", _l("Remove credentials"),
        _l("The wiki lets you remove these credentials from your account:"),
        _l("The wiki offers no credential of this account to remove."), _l("Remove"), "removecredentials-success",
        _l("Removing credentials is a security-sensitive action, and you logged in a while ago."),
        "Special:RemoveCredentials"),
}


# --- linking: what its PASS leads to (auth.flow.AFTER_PASS["linked"]) ----------------

def account_linked(flow: Flow, client: WikiClient, result, step: Step):
    """Linked: back to the list of linked accounts, which says so once."""
    # A first step's PASS is the session's own flow; after a callback, only if it is this one.
    Flow.clear(flow.callback if flow.stage != Stage.BEGIN else "")
    session[NOTICE] = "linkaccounts-success-text"
    return redirect(url_for("linking.linked"), code=303)


def cannot_link_page():
    """The wiki has no provider that links accounts (canlinkaccounts is false)."""
    Flow.clear()
    return message_page(_("No accounts can be linked here"),
                        _("This wiki offers no accounts elsewhere to link to yours."),
                        status=404, retry_url=url_for("linking.linked"), retry_label=_("Linked accounts"))


# --- the lists, and taking one away -------------------------------------------------

def list_page(kind: str):
    """The credentials of one kind, each with its button (viewing is not security-sensitive; removing is)."""
    removal = REMOVALS[kind]
    try:
        _token, info = wiki_session.wiki_client().auth_info(removal.api)
    except WikiError as exc:
        return wiki_error_page(exc, url_for(removal.endpoint))
    return render_list(kind, info)


def render_list(kind: str, info: AuthInfo, *, error: str = "", status: int = 200):
    removal = REMOVALS[kind]
    notice = session.pop(NOTICE, None)
    site = wiki_session.wiki().siteinfo()
    return render_template("credential_list.html", removal=removal, kind=kind, requests=info.requests,
                           can_link=kind == "unlink" and info.can_link_accounts, error=error,
                           notice=msg(notice) if notice else "", wiki_page_url=site.page_url(removal.wiki_page),
                           user=wiki_session.current_user()), status


def send_removal(kind: str, request_id: str):
    """Unlink or remove the request ``request_id`` of the wiki's current list; back to the list."""
    removal = REMOVALS[kind]
    client = wiki_session.wiki_client()
    here = url_for(removal.endpoint)
    try:
        token, info = client.auth_info(removal.api)
    except WikiError as exc:
        return wiki_error_page(exc, here)
    blocked = credentials.security_page(security_status(info.security_status), here, what=str(removal.sensitive))
    if blocked is not None:
        return blocked
    if not any(r.id == request_id for r in info.requests):
        return render_list(kind, info, error=_("The wiki does not offer this any more."), status=404)
    began, user = time.monotonic(), wiki_session.current_user() or ""
    try:
        result, _token = client.remove_credential(removal.api, token, request_id)
    except ReauthRequired:
        return credentials.reauth_page(here, what=str(removal.sensitive))
    except ReauthImpossible:
        return credentials.fail_page()
    except WikiError as exc:
        _log(removal.api, getattr(exc, "code", "error"), user, began)
        return render_list(kind, info, error=describe_wiki_error(exc), status=error_status(exc))
    _log(removal.api, result.status, user, began)
    session[NOTICE] = removal.done
    return redirect(here, code=303)


def _log(api: AuthAction, status: str, user: str, began: float) -> None:
    """One line per removal: what, the wiki's answer, for whom. Never which credential."""
    log.info("credentials action=%s status=%s user=%s client=%s duration_ms=%d", api.module, status, user or "-",
             request.remote_addr or "-", (time.monotonic() - began) * 1000)


__all__ = ["NOTICE", "REMOVALS", "Removal", "account_linked", "cannot_link_page", "list_page", "send_removal"]
