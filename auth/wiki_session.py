"""What a browser user's server-side session holds, and nothing else.

The browser has only an opaque session id.  Behind it, in the store:
- ``wiki_cookies``: this user's wiki cookies (``WikiClient.export_cookies()``);
- ``user``: the wiki user name once logged in;
- ``bot_password``: True when that login was with a bot password (its session has
  only the bot's grants, and changes no credentials here);
- ``flow``: a half-finished login (see ``auth.state.Flow``): field descriptions,
  the wiki's token, non-secret values to show again;
- ``callbacks``: flows away at an identity provider, each under the one-time
  value that ties its callback to this browser (see ``auth.callback``).
Never a password, a two-factor code or any field the wiki marks sensitive.
"""
from __future__ import annotations

import time

from flask import current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from wiki import Wiki, WikiClient, WikiError

from .language import reader_language

WIKI_COOKIES = "wiki_cookies"
USER = "user"
BOT_PASSWORD = "bot_password"
FLOW = "flow"
# In ``g``: the wiki clients this request used, and whether it ended its session.
CLIENTS = "wiki_clients"
ENDED = "wiki_session_ended"


def wiki() -> Wiki:
    """The app-wide wiki handle."""
    return current_app.extensions["wiki"]


def user_language() -> str:
    """The MediaWiki code of the reader's language (``auth.language``), for the wiki's ``uselang``."""
    return reader_language().code


def client_address() -> str | None:
    """The browser's address, to pass on to the wiki when the app is configured to."""
    if not current_app.config["WIKI_FORWARD_CLIENT_IP"]:
        return None
    return request.remote_addr


def wiki_client(*, lang: bool = True) -> WikiClient:
    """The client that acts with this browser user's wiki cookies, and no one else's.

    One per request (and per ``lang``): what the wiki sets in one call is there
    for the next.  Whatever the wiki set is kept for the browser's next request
    after this one ends (``save_used_cookies``): no view has to remember it.
    """
    used = g.setdefault(CLIENTS, {})
    if lang not in used:
        used[lang] = wiki().client(session.get(WIKI_COOKIES), lang=user_language() if lang else None,
                                   forwarded_for=client_address())
    return used[lang]


def save_cookies(client: WikiClient) -> None:
    """Keep what the wiki set, for this browser's next request (the store is written only on a change)."""
    cookies = client.export_cookies()
    if session.get(WIKI_COOKIES) != cookies:
        session[WIKI_COOKIES] = cookies


def save_used_cookies(response):
    """After every request: the wiki cookies of the clients it used, unless its session was ended."""
    if not g.get(ENDED):
        for client in g.get(CLIENTS, {}).values():
            save_cookies(client)
    return response


def init_app(app) -> None:
    """Keep each request's wiki cookies in one place, after the view."""
    app.after_request(save_used_cookies)


def current_user() -> str | None:
    """The wiki user name this browser is logged in as, or None."""
    return session.get(USER)


def via_bot_password() -> bool:
    """Whether this browser logged in with a bot password."""
    return bool(session.get(BOT_PASSWORD))


def start_user_session(username: str, client: WikiClient, *, bot_password: bool = False) -> None:
    """Make the logged-in wiki session this browser's, under a new session id.

    Everything else is dropped: a session id planted before login (fixation)
    must not carry anything into the logged-in session.
    """
    session.clear()
    session[USER] = username
    if bot_password:
        session[BOT_PASSWORD] = True
    session["logged_in_at"] = int(time.time())
    save_cookies(client)
    current_app.session_interface.regenerate(session)
    new_csrf_secret()


def new_csrf_secret() -> None:
    """A CSRF secret of the new session's own, made now.

    Written with the login, not on the first page after it: the page a login
    lands on (with its "Log out" form) then needs no second write.  Flask-WTF
    keeps the request's token in ``g``: that one was the old session's.
    """
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    g.pop(field, None)
    generate_csrf()


def end_user_session() -> None:
    """Destroy this browser's session: the store entry is deleted now, its id retired, the cookie cleared.

    Emptying alone is not enough: anything the same request writes afterwards
    (a CSRF token for the page it shows) would be saved under the old id and
    bring it back for whoever still holds that cookie.
    """
    setattr(g, ENDED, True)  # nothing of the ended session's wiki cookies is saved again
    session[USER] = None  # regenerate() acts on non-empty sessions only
    current_app.session_interface.regenerate(session)
    session.clear()
    session.modified = True
