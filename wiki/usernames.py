"""User names as MediaWiki reads them: which spellings name the same account.

MediaWiki turns a typed name into its account through its title codec
(``UserNameUtils::getCanonical`` -> ``MediaWikiTitleCodec::splitTitleString``),
so ``bob``, ``User:Bob``, ``:user:bob``, ``B\u200eob``, ``B&lrm;ob`` and ``Bob_``
all log in as Bob.  Anything that counts per account (the login rate limit) must count
them as one.
"""
from __future__ import annotations

import re
import unicodedata
from html.entities import html5
from typing import Iterable

# Named character references, as Sanitizer::decodeCharReferences reads them (the
# semicolon is required; numeric ones need "#", which no user name may hold).
CHAR_REFERENCE = re.compile(r"&([A-Za-z0-9]+);")
# Unicode bidi marks the codec strips anywhere in a title.
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e]+")
# The codec's whitespace class; a run of any of them is one space.
WHITESPACE = re.compile("[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# "prefix:rest", lazily, as the codec splits a namespace off ("User : Bob" too).
PREFIX = re.compile(r"^(.+?)_*:_*(.*)$", re.S)
MAX_USERNAME = 255  # bytes in MediaWiki; longer is no name, and no key worth storing
# Canonical names are always accepted, whatever the wiki's language.
DEFAULT_USER_NAMESPACES = frozenset({"user"})


def _decoded(match: re.Match) -> str:
    return html5.get(match.group(1) + ";", match.group(0))


def namespace_key(name: str) -> str:
    """A namespace name as the codec compares it: underscores, lower case."""
    return WHITESPACE.sub("_", name).strip("_").lower()


def user_namespace_names(names: Iterable[str]) -> frozenset[str]:
    """The User namespace's local name, canonical name, gender forms and aliases, as keys."""
    return DEFAULT_USER_NAMESPACES | {namespace_key(n) for n in names if n}


def canonical_username(raw: str, user_namespaces: frozenset[str] = DEFAULT_USER_NAMESPACES) -> str:
    """The account name ``raw`` logs in as, or "" if it names none.

    A bot password's ``Alice@mybot`` is Alice's account ("@" is not allowed in
    user names).  The User namespace's names come from the wiki's siteinfo
    (``namespaces`` and ``namespacealiases``); the first letter is always upper
    case, as MediaWiki always capitalises the User namespace.
    """
    # Every value the wiki reads is NFC-normalised first (WebRequest).
    name = unicodedata.normalize("NFC", raw.split("@", 1)[0])
    if "#" in name:
        return ""  # getCanonical refuses it before anything else: no account
    # The title parser decodes character references ("B&lrm;ob", "Bob&nbsp;") first.
    name = unicodedata.normalize("NFC", CHAR_REFERENCE.sub(_decoded, name))
    name = BIDI_MARKS.sub("", name)
    name = WHITESPACE.sub("_", name).strip("_")
    if name.startswith(":"):  # an initial colon, then the namespace as usual
        name = name[1:].strip("_")
    match = PREFIX.match(name)
    if match and namespace_key(match.group(1)) in user_namespaces:
        name = match.group(2)
    name = name.replace("_", " ")[:MAX_USERNAME]
    return name[:1].upper() + name[1:]


__all__ = ["canonical_username", "namespace_key", "user_namespace_names"]
