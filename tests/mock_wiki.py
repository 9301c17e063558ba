"""A wiki answered by `responses` from real captured JSON, for faults a real wiki can't easily make.

Only for error paths and fast fuzzing; the integration tests use real wikis.
"""
from __future__ import annotations

import json
from pathlib import Path

import responses
from responses import matchers

API = "http://wiki.invalid/w/api.php"
DATA = Path(__file__).parent / "data"

SITEINFO = {"batchcomplete": True, "query": {
    "general": {"sitename": "Mock Wiki", "server": "http://wiki.invalid", "articlepath": "/wiki/$1",
                "lang": "en", "rtl": False, "generator": "MediaWiki 1.39.17"},
    "languages": [{"code": "en", "bcp47": "en", "name": "English"}, {"code": "de", "bcp47": "de", "name": "Deutsch"}],
}}


def captured(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


def mock_read_side(rsps: responses.RequestsMock, fields: str | dict = "authmanagerinfo_login_plain") -> None:
    """siteinfo, tokens+authmanagerinfo and a bare token, answered as the real wiki did.

    ``fields``: the login's tokens+authmanagerinfo answer, by captured file name or as JSON.
    """
    rsps.get(API, json=SITEINFO, match=[matchers.query_param_matcher({"meta": "siteinfo"}, strict_match=False)])
    rsps.get(API, json=captured(fields) if isinstance(fields, str) else fields, match=[matchers.query_param_matcher(
        {"meta": "tokens|authmanagerinfo", "type": "login"}, strict_match=False)])
    rsps.get(API, json=captured("authmanagerinfo_create_plain"), match=[matchers.query_param_matcher(
        {"meta": "tokens|authmanagerinfo", "type": "createaccount"}, strict_match=False)])
    rsps.get(API, json={"query": {"tokens": {"logintoken": "fresh+\\"}}},
             match=[matchers.query_param_matcher({"meta": "tokens"}, strict_match=False)])
