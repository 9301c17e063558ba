"""Typed views of AuthManager's API answers (authmanagerinfo, clientlogin, createaccount).

MediaWiki describes what it wants from the user as a list of *authentication
requests*, each with fields.  We ask for them unmerged (per request) because a
merged list forgets which fields belong to which request: a password field is
"optional" in the merged list as soon as a button provider sits beside it, and
a pressed button must name its own request in ``loginrequests``.  ``merge_fields``
rebuilds the merged view exactly as ``AuthenticationRequest::mergeFieldInfo`` does.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Callable

from .errors import WikiResponseError

class AuthStatus(StrEnum):
    """The statuses of AuthenticationResponse (includes/auth/AuthenticationResponse.php)."""

    PASS = "PASS"
    FAIL = "FAIL"
    UI = "UI"
    REDIRECT = "REDIRECT"
    RESTART = "RESTART"


PASS, FAIL, UI, REDIRECT, RESTART = AuthStatus
# What AuthResult accepts from the wire; anything else is a WikiResponseError.
STATUSES = frozenset(AuthStatus)

OPTIONAL, REQUIRED, PRIMARY_REQUIRED = "optional", "required", "primary-required"


@dataclass(frozen=True)
class AuthField:
    """One field of an authentication request, as the wiki describes it."""

    name: str
    type: str  # string, password, hidden, select, multiselect, checkbox, button, null
    label: str = ""  # HTML (we ask for messageformat=html)
    help: str = ""  # HTML
    optional: bool = False
    sensitive: bool = False
    value: str | None = None  # hidden fields, null fields (e.g. a captcha question)
    options: tuple[tuple[str, str], ...] = ()  # select/multiselect: (value, label)
    # Not an answer but a choice of what to answer instead (see CHOICE_FIELDS):
    # each option but "" is another way on, sent alone.  Not on the wire: from_api
    # knows it from the request's class, so a stored request gets it back.
    choice: bool = False
    # The answer of a third party's captcha widget (WIDGET_CAPTCHAS): which widget,
    # and the wiki's site key for it.  Not on the wire either: from the request's metadata.
    widget: str = ""
    widget_key: str = ""

    @classmethod
    def from_api(cls, name: str, data: dict[str, Any], *, choice: bool = False,
                 widget: tuple[str, str] = ("", "")) -> "AuthField":
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise WikiResponseError(f"field {name!r} has no type")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            options = {}
        value = data.get("value")
        return cls(
            name=name,
            type=data["type"],
            label=_text(data.get("label")),
            help=_text(data.get("help")),
            optional=bool(data.get("optional", False)),
            sensitive=bool(data.get("sensitive", False)),
            value=None if value is None else str(value),
            options=tuple((str(k), _text(v)) for k, v in options.items()),
            choice=choice,
            widget=widget[0],
            widget_key=widget[1],
        )

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "label": self.label,
            "help": self.help,
            "optional": self.optional,
            "sensitive": self.sensitive,
        }
        if self.value is not None:
            data["value"] = self.value
        if self.options:
            data["options"] = dict(self.options)
        return data


# Requests whose field is a choice between ways to answer the step rather than an
# answer (OATHAuth 1.46+ for a user with several second factors: "use a recovery
# code instead"): the request's class -> that field.  Sending the field alone
# (newModule=recoverycodes) makes the wiki answer a new UI step for that way.
CHOICE_FIELDS: dict[str, str] = {"TwoFactorModuleSelectAuthenticationRequest": "newModule"}


# Third-party captcha widgets (ConfirmEdit's hCaptcha, Turnstile, reCAPTCHA): a
# script of theirs, loaded with the wiki's site key (metadata.key), answers
# captchaWord.  metadata.type names the widget; metadata.mime says it is a script.
WIDGET_CAPTCHAS = frozenset({"hcaptcha", "turnstile", "recaptchanocaptcha"})
WIDGET_ANSWER = "captchaWord"  # the field the widget's answer goes back in

# What only a page on the wiki's own site can answer, by request: a WebAuthn
# ceremony (the browser binds it to the wiki's origin), as a second factor or as
# a passkey login of its own (OATHAuth master, a primary provider), or a third
# party's captcha widget (its site key serves the wiki's domain).  The first
# that matches names it.
ONLY_ON_WIKI: tuple[tuple[str, Callable[["AuthRequest"], bool]], ...] = (
    ("passkey", lambda r: "webauthn" in r.id.lower() and r.required == PRIMARY_REQUIRED),
    ("security-key", lambda r: "webauthn" in r.id.lower()),
    ("captcha-widget", lambda r: r.metadata.get("type") in WIDGET_CAPTCHAS
     or r.metadata.get("mime") == "application/javascript"),
)


def class_name(request_id: str) -> str:
    """``MediaWiki\\Extension\\X\\FooRequest`` -> ``FooRequest`` (without a button's ``:name``)."""
    return request_id.rsplit("\\", 1)[-1].split(":", 1)[0]


@dataclass(frozen=True)
class AuthRequest:
    """One AuthenticationRequest: an id, how required it is, and its fields."""

    id: str
    required: str = OPTIONAL
    provider: str = ""
    account: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    fields: tuple[AuthField, ...] = ()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "AuthRequest":
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise WikiResponseError("an authentication request has no id")
        raw_fields = data.get("fields") or {}
        if not isinstance(raw_fields, dict):
            raise WikiResponseError(f"request {data['id']!r} has malformed fields")
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        choice = CHOICE_FIELDS.get(class_name(data["id"]))
        widget = (str(metadata.get("type")), str(metadata.get("key") or "")) \
            if metadata.get("type") in WIDGET_CAPTCHAS else ("", "")
        return cls(
            id=data["id"],
            required=data.get("required", OPTIONAL),
            provider=_text(data.get("provider")),
            account=_text(data.get("account")),
            metadata=metadata,
            fields=tuple(AuthField.from_api(n, f, choice=n == choice, widget=widget if n == WIDGET_ANSWER else ("", ""))
                         for n, f in raw_fields.items()),
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "required": self.required,
            "provider": self.provider,
            "account": self.account,
            "metadata": self.metadata,
            "fields": {f.name: f.to_api() for f in self.fields},
        }

    @property
    def button(self) -> AuthField | None:
        """The request's (first) button field, if it is a provider's own button."""
        return next((f for f in self.fields if f.type == "button"), None)

    def has_button(self, name: str | None) -> bool:
        """Whether ``name`` is one of this request's buttons."""
        return any(f.type == "button" and f.name == name for f in self.fields)

    def has_field(self, name: str | None) -> bool:
        return any(f.name == name for f in self.fields)

    @property
    def only_on_wiki(self) -> str:
        """What of ONLY_ON_WIKI this request is ("passkey", "security-key", "captcha-widget"), or ""."""
        return next((name for name, matches in ONLY_ON_WIKI if matches(self)), "")


def merge_fields(requests: list[AuthRequest]) -> list[AuthField]:
    """Merge the requests' fields into one form, as MediaWiki's mergeFieldInfo does.

    A field is optional when every request that has it says so; a primary
    request's own required field counts as optional unless every primary
    request requires it (the user picks one primary provider).
    """
    primaries = [r for r in requests if r.required == PRIMARY_REQUIRED]
    shared_required: set[str] | None = None
    for req in primaries:
        names = {f.name for f in req.fields if not f.optional}
        shared_required = names if shared_required is None else shared_required & names
    shared_required = shared_required or set()

    merged: dict[str, AuthField] = {}
    for req in requests:
        for f in req.fields:
            optional = f.optional or req.required == OPTIONAL or (
                req.required == PRIMARY_REQUIRED and f.name not in shared_required
            )
            if f.name not in merged:
                merged[f.name] = replace(f, optional=optional)
                continue
            prev = merged[f.name]
            if prev.type != f.type:
                raise WikiResponseError(f"field {f.name!r} has two types: {prev.type}, {f.type}")
            options = dict(prev.options)
            for k, v in f.options:
                options.setdefault(k, v)
            merged[f.name] = replace(
                prev,
                optional=prev.optional and optional,
                sensitive=prev.sensitive or f.sensitive,
                options=tuple(options.items()),
            )
    return list(merged.values())


@dataclass(frozen=True)
class AuthInfo:
    """authmanagerinfo: what the wiki will ask, plus a few flags."""

    requests: tuple[AuthRequest, ...]
    can_authenticate_now: bool = True
    can_create_accounts: bool = False
    can_link_accounts: bool = False
    has_preserved_state: bool = False
    has_primary_preserved_state: bool = False
    preserved_username: str = ""
    security_status: str = ""  # with amisecuritysensitiveoperation: NONE, OK, REAUTH or FAIL

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "AuthInfo":
        if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
            raise WikiResponseError("authmanagerinfo has no requests")
        return cls(
            requests=tuple(AuthRequest.from_api(r) for r in data["requests"]),
            can_authenticate_now=bool(data.get("canauthenticatenow", True)),
            can_create_accounts=bool(data.get("cancreateaccounts", False)),
            can_link_accounts=bool(data.get("canlinkaccounts", False)),
            has_preserved_state=bool(data.get("haspreservedstate", False)),
            has_primary_preserved_state=bool(data.get("hasprimarypreservedstate", False)),
            preserved_username=str(data.get("preservedusername") or ""),
            security_status=str(data.get("securitysensitiveoperationstatus") or "").upper(),
        )


@dataclass(frozen=True)
class AuthResult:
    """The answer to clientlogin / createaccount / linkaccount."""

    status: str
    message: str = ""  # HTML
    messagecode: str = ""
    requests: tuple[AuthRequest, ...] = ()
    redirecttarget: str = ""
    username: str = ""
    canpreservestate: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "AuthResult":
        if not isinstance(data, dict):
            raise WikiResponseError("the wiki's answer has no result")
        status = data.get("status")
        if not isinstance(status, str) or status not in STATUSES:
            raise WikiResponseError(f"the wiki answered with an unknown status {status!r}")
        raw_requests = data.get("requests") or []
        if not isinstance(raw_requests, list):
            raise WikiResponseError("the wiki's answer has malformed requests")
        return cls(
            status=status,
            message=_text(data.get("message")),
            messagecode=str(data.get("messagecode") or ""),
            requests=tuple(AuthRequest.from_api(r) for r in raw_requests),
            redirecttarget=str(data.get("redirecttarget") or ""),
            username=str(data.get("username") or ""),
            canpreservestate=bool(data.get("canpreservestate", False)),
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value)
