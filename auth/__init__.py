"""The login machinery and the web plumbing that is not a route.

- ``flow``: one AuthManager flow (log in, create an account, log in again), a typed state machine;
- ``credentials``: forgot your password, change it (one request each, no flow);
- ``linking``: linked accounts and removable credentials, unlinking and removing them;
- ``fields``: the wiki's field types as form fields, one record a type;
- ``wiki_answers``: what a FAIL's messagecode leads to, and what only the wiki's own page can answer;
- ``callback``: the one-time value that ties a provider's callback to its flow;
- ``wiki_session``: what the server-side session holds; ``session_store``: its rules;
- ``rate_limits``, ``csrf``: what guards the login POSTs;
- ``wiki_html``: the wiki's HTML, made safe to show; ``pages``: the app's own message pages.

Routes live in ``blueprints/``; the wiki's API in ``wiki/``.
"""
