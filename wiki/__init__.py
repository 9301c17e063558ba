"""A small client for MediaWiki's Action API and AuthManager. Knows nothing of Flask."""
from .authn import AuthField, AuthInfo, AuthRequest, AuthResult, merge_fields  # noqa: F401
from .authmanager import AUTH_ACTIONS, AuthAction, UserInfo  # noqa: F401
from .client import SiteInfo, TempAccounts, Wiki, WikiClient, make_pool, origin_of  # noqa: F401
from .credentials import CHANGE_CREDENTIALS, CredentialResult, ResetRoutes, SecurityStatus  # noqa: F401
from .errors import (  # noqa: F401
    BadToken,
    NotLoggedIn,
    ReauthImpossible,
    ReauthRequired,
    WikiAPIError,
    WikiError,
    WikiResponseError,
    WikiUnavailable,
)
