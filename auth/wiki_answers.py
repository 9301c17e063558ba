"""What the app makes of the wiki's answers that say more than their status: two small tables.

- ``FAIL_ANSWERS``: a FAIL's ``messagecode`` -> what the user gets.  Most FAILs
  are "try again" (the form again, with fresh fields and the wiki's message);
  some are a captcha prompt, and some no retry here can fix (the wiki requires a
  second factor the account lacks): a page of their own that says what to do,
  with a link to the wiki's own login page.  A new messagecode is one entry.
- ``ONLY_ON_WIKI_NOTICES``: a request only the wiki's own page can answer
  (``wiki.authn.ONLY_ON_WIKI``: a security key, a third party's captcha widget)
  -> the notice that says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask_babel import LazyString
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup, escape

from wiki import AuthRequest, AuthResult


@dataclass(frozen=True)
class FailAnswer:
    """What a FAIL with one messagecode leads to."""

    form_again: bool = True  # the form again (fresh fields); False: a page of its own, the flow ended
    message_kind: str = "error"  # the message box's kind
    own_words: str | LazyString = ""  # said after the wiki's message (or alone, when it sent none)
    replaces_wikis: bool = False  # own_words instead of the wiki's message
    title: str | LazyString = ""  # a page of its own: its title

    def message(self, result: AuthResult) -> str:
        """The message to show (HTML: the wiki's, sanitised where it is drawn, with ours escaped into it)."""
        wiki = "" if self.replaces_wikis else result.message
        own = str(self.own_words)  # the reader's words now (a plain str is escaped into Markup)
        if wiki and own:
            return Markup("{}<p>{}</p>").format(Markup(wiki), own)
        if wiki or own:
            return wiki or escape(own)  # the wiki's HTML, or our words as text
        return Markup(_("The wiki refused this (%(code)s).")) % {"code": result.messagecode or _("no reason given")}


TRY_AGAIN = FailAnswer()
EXPIRED = FailAnswer(own_words=_l("The wiki no longer remembers this attempt (it took too long, or the wiki was "
                                   "restarted). Please start again."), replaces_wikis=True)

FAIL_ANSWERS: dict[str, FailAnswer] = {
    # The wiki forgot the flow (its session expired).
    "authmanager-authn-not-in-progress": EXPIRED,
    "authmanager-create-not-in-progress": EXPIRED,
    "authmanager-link-not-in-progress": EXPIRED,
    # ConfirmEdit (newer than 1.43): a captcha is needed and was not answered. Not a
    # wrong password: the form again, now with the captcha, as a prompt.
    "captcha-login-required": FailAnswer(message_kind="notice",
                                         own_words=_l("Please answer the captcha below to log in.")),
    # OATHAuth master, $wgOATHAuthEnforce2FAForAll: no second factor, no login.
    "oathauth-2fa-required-nologin": FailAnswer(
        form_again=False, title=_l("This wiki requires two-factor authentication"),
        own_words=_l("Two-factor authentication cannot be set up through this app. Log in on the wiki itself "
                     "to see how to set it up for your account, or ask the wiki's administrators.")),
    # OATHAuth master: the temporary recovery codes e-mailed to the user have expired.
    "oathauth-recovery-codes-expired-error": FailAnswer(
        form_again=False, title=_l("Your recovery codes have expired"),
        own_words=_l("No login through this app can fix this. The wiki's own login page may offer more; "
                     "otherwise please ask the wiki's administrators.")),
    # EmailAuth: three wrong codes; the login starts again (and the wiki sends a new code).
    "emailauth-login-retry-limit": FailAnswer(
        own_words=_l("Log in again: the wiki will send you a new verification code.")),
}


def fail_answer(messagecode: str) -> FailAnswer:
    return FAIL_ANSWERS.get(messagecode, TRY_AGAIN)


# The names of ConfirmEdit's widget captchas (metadata.type), for the notice.
CAPTCHA_NAMES = {"hcaptcha": "hCaptcha", "turnstile": "Cloudflare Turnstile", "recaptchanocaptcha": "reCAPTCHA"}

# Each: (the request, the wiki's own page for this action, in words) -> the notice (the app's words,
# with the page's and the captcha's names escaped into them).
ONLY_ON_WIKI_NOTICES: dict[str, Callable[[AuthRequest, str], Markup]] = {
    # A primary provider beside the others (the password): only its way is gone.
    "passkey": lambda r, page: Markup(_(
        "This wiki also offers a passkey (security key) instead of a password; passkeys work only on "
        "the wiki's own %(page)s.")) % {"page": str(page)},
    "security-key": lambda r, page: Markup(_(
        "Your account uses a security key (WebAuthn). Security keys work only on the wiki itself, so this "
        "app cannot complete this login.")),
    # The widget is a third party's script and frame, with the wiki's site key:
    # this app's CSP allows neither, and the key serves the wiki's domain.
    "captcha-widget": lambda r, page: Markup(_(
        "This wiki asks for a captcha (%(captcha)s) that works only on its own %(page)s, so this app cannot "
        "show it.")) % {"captcha": CAPTCHA_NAMES.get(str(r.metadata.get("type"))) or _("a third-party widget"),
                        "page": str(page)},
}


def only_on_wiki_notice(req: AuthRequest, page: str) -> Markup:
    """The notice for a request only the wiki can answer; ``page``: "login page", ..."""
    return ONLY_ON_WIKI_NOTICES[req.only_on_wiki](req, page)


__all__ = ["FAIL_ANSWERS", "FailAnswer", "ONLY_ON_WIKI_NOTICES", "fail_answer", "only_on_wiki_notice"]
