"""The app's words that the wiki has a message for: the wiki's own, in the reader's language.

MediaWiki's translators have put "Log in", "Create account", "Save changes" ...
into hundreds of languages, in the terms each wiki uses.  ``WIKI_WORDS`` names
each such message with the app's own words for it (in the app's catalogs), which
are used when the wiki has no such message or cannot be asked.  Pages say
``msg("login")``; ``$1`` in a message is a parameter, filled in escaped.
"""
from __future__ import annotations

import html
import re
from contextlib import contextmanager
from typing import Iterator

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from wiki import WikiError

from .language import language_among, reader_language

APP_WORDS_ONLY = "wl_app_words_only"  # in g: this answer asks the wiki nothing, not even its messages
PARAM = re.compile(r"\$(\d+)")

# message name -> the app's words for it when the wiki has none
WIKI_WORDS = {
    "login": _l("Log in"),
    "pt-login-button": _l("Log in"),
    "logout": _l("Log out"),
    "createaccount": _l("Create account"),
    "userlogin-noaccount": _l("Don’t have an account?"),
    "userlogin-joinproject": _l("Join the wiki"),
    "userlogin-resetpassword-link": _l("Forgot your password?"),
    "passwordreset": _l("Reset password"),
    "mailmypassword": _l("Reset password"),  # Special:PasswordReset's button
    "userlogin-yourname": _l("Username"),
    "accountcreated": _l("Account created"),
    "changepassword": _l("Change password"),
    "changecredentials": _l("Change credentials"),
    "removecredentials": _l("Remove credentials"),
    "removecredentials-success": _l("Your credentials have been removed."),
    "linkaccounts": _l("Link accounts"),
    "linkaccounts-success-text": _l("The account was linked."),
    "unlinkaccounts": _l("Unlink accounts"),
    "unlinkaccounts-success": _l("The account was unlinked."),
    "botpasswords": _l("Bot passwords"),
    "mypreferences": _l("Preferences"),
    "loginsuccesstitle": _l("Logged in"),
    "notloggedin": _l("Not logged in"),
    "editing": _l("Editing $1"),
    "creating": _l("Creating $1"),
    "savechanges": _l("Save changes"),
    "showpreview": _l("Show preview"),
    "preview": _l("Preview"),
    "summary": _l("Summary:"),
    "yourtext": _l("Your text"),
    "pt-login-continue-button": _l("Continue login"),
    "createacct-submit": _l("Create your account"),
    "userlogin-reauth": _l("You must log in again to verify that you are $1."),
    "cancel": _l("Cancel"),
    "errorpagetitle": _l("Error"),
    "prefs-edits": _l("Number of edits:"),
    "listgrouprights-rights": _l("Rights"),
    "userlogin-remembermypassword": _l("Keep me logged in"),
}


def wiki_text(name: str) -> str | None:
    """The wiki's message ``name`` in the reader's language, as plain text; None without one."""
    return _kept_message("words", name)


def group_name(group: str) -> str:
    """A user group as the wiki names its members in the reader's language ("sysop": "Administrator")."""
    return _kept_message("group_words", f"group-{group}-member") or group


def _kept_message(source: str, name: str) -> str | None:
    # ``source``: the Wiki method with the kept words (wiki.messages), in the reader's language.
    if g.get(APP_WORDS_ONLY):
        return None
    try:
        words = getattr(current_app.extensions["wiki"], source)(reader_language().code)
    except WikiError:
        return None
    text = words.messages.get(name, "")
    # Messages are wikitext: character references (&nbsp;) are text here, markup is not expected.
    return html.unescape(text).strip() if text.strip() else None


def msg(name: str, *params: object) -> Markup:
    """The wiki's words for ``name`` (else the app's), with ``$1``, ``$2`` ... filled in, as safe HTML."""
    return Markup(_fill(str(escape(wiki_text(name) or str(WIKI_WORDS[name]))),
                        [str(escape(p)) for p in params]))


def msg_text(name: str, *params: object) -> str:
    """``msg`` as plain text, for places that escape on their own (JSON, headers, WTForms labels)."""
    return _fill(wiki_text(name) or str(WIKI_WORDS[name]), [str(p) for p in params])


def _fill(text: str, params: list[str]) -> str:
    # One pass, so a parameter that itself holds "$2" stays as it is.
    return PARAM.sub(lambda m: params[int(m[1]) - 1] if 0 < int(m[1]) <= len(params) else m[0], text)


class LazyWords:
    """Words worked out when shown, as plain text.

    Unlike Flask-Babel's LazyString it has no ``__html__``: Jinja, WTForms and
    Markup escape it like any string, since the wiki's message is text (and its
    character references were decoded by ``wiki_text``).
    """

    __slots__ = ("_name", "_params")

    def __init__(self, name: str, *params: object):
        self._name, self._params = name, params

    def __str__(self) -> str:
        return msg_text(self._name, *self._params)

    def __repr__(self) -> str:
        return f"LazyWords({self._name!r})"

    def __mod__(self, values: object) -> str:
        return str(self) % values

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __len__(self) -> int:
        return len(str(self))


def wiki_msg(name: str, *params: object) -> LazyWords:
    """The wiki's words for ``name``, worked out when used: for module-level tables of words."""
    if name not in WIKI_WORDS:
        raise KeyError(f"{name!r} is not in WIKI_WORDS")
    return LazyWords(name, *params)


@contextmanager
def app_words_only() -> Iterator[None]:
    """The app's own words in the language asked for (``?uselang=``, else Accept-Language), the wiki unasked.

    For answers that must reach no wiki, not even for its language list or its
    messages (``/api``'s refusals): only the app's catalogs count, else English.
    Only ``gettext``/``lazy_gettext`` words inside; ``msg`` would ask the wiki.
    """
    before = g.get(APP_WORDS_ONLY, False)
    g.wl_app_words_only = True
    try:
        with force_locale(language_among(None).locale):
            yield
    finally:
        g.wl_app_words_only = before
