"""Capture real API answers from the test wikis into tests/data/*.json (unmerged fields).

The unit tests of the field mapping read these files, so they test against what
MediaWiki 1.39 really says. Run again after changing the test wikis:

    .venv/bin/python -m tests.data.capture
"""
from __future__ import annotations

import json
from pathlib import Path

import requests

from devwiki.wikiserver import TOTP_USERS, USERS, start_wiki

HERE = Path(__file__).resolve().parent
RETURN_URL = "http://127.0.0.1:5999/login/return?wlstate=x"


def save(name: str, data: dict) -> None:
    (HERE / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")


def api(http: requests.Session, url: str, method: str = "GET", **params) -> dict:
    params.update(format="json", formatversion="2")
    if method == "GET":
        return http.get(url, params=params, timeout=30).json()
    return http.post(url, data=params, timeout=30).json()


def info(http, url, requests_for="login", token_type="login", merged=False) -> dict:
    extra = {"amimergerequestfields": "1"} if merged else {}
    return api(http, url, action="query", meta="tokens|authmanagerinfo", type=token_type,
               amirequestsfor=requests_for, amimessageformat="html", **extra)


def clientlogin(http, url, token, **fields) -> dict:
    return api(http, url, "POST", action="clientlogin", logintoken=token,
               loginmessageformat="html", **fields)


def capture_plain() -> None:
    with start_wiki("capture-plain") as wiki:
        http = requests.Session()
        data = info(http, wiki.api_url)
        save("authmanagerinfo_login_plain", data)
        save("authmanagerinfo_login_plain_merged", info(http, wiki.api_url, merged=True))
        token = data["query"]["tokens"]["logintoken"]
        save("clientlogin_fail_wrongpassword",
             clientlogin(http, wiki.api_url, token, username="Alice", password="wrong",
                         loginreturnurl=RETURN_URL))
        save("clientlogin_pass",
             clientlogin(http, wiki.api_url, token, username="Alice", password=USERS["Alice"],
                         loginreturnurl=RETURN_URL))
        anon = requests.Session()
        save("authmanagerinfo_create_plain", info(anon, wiki.api_url, "create", "createaccount"))
        save("authmanagerinfo_create_plain_merged",
             info(anon, wiki.api_url, "create", "createaccount", merged=True))


def capture_captcha() -> None:
    with start_wiki("capture-captcha", captcha="always") as wiki:
        http = requests.Session()
        data = info(http, wiki.api_url)
        save("authmanagerinfo_login_captcha", data)
        # The wiki's own merge of the same requests, to check ours against.
        save("authmanagerinfo_login_captcha_merged", info(http, wiki.api_url, merged=True))
        token = data["query"]["tokens"]["logintoken"]
        captcha_id = data["query"]["authmanagerinfo"]["requests"][0]["fields"]["captchaId"]["value"]
        save("clientlogin_fail_captcha",
             clientlogin(http, wiki.api_url, token, username="Alice", password=USERS["Alice"],
                         captchaId=captcha_id, captchaWord="wrong", loginreturnurl=RETURN_URL))


def capture_oath() -> None:
    with start_wiki("capture-oath", oath=True) as wiki:
        http = requests.Session()
        password, _ = TOTP_USERS["Carol"]
        token = info(http, wiki.api_url)["query"]["tokens"]["logintoken"]
        save("clientlogin_ui_oath",
             clientlogin(http, wiki.api_url, token, username="Carol", password=password,
                         loginreturnurl=RETURN_URL))
        save("clientlogin_ui_oath_wrong_code",
             clientlogin(http, wiki.api_url, token, logincontinue="1", OATHToken="000000"))


def capture_idp() -> None:
    """The TestIdP button beside passwords, a RESTART, and the link-after-login multiselect."""
    with start_wiki("capture-idp", testidp=True) as wiki:
        http = requests.Session()
        data = info(http, wiki.api_url)
        save("authmanagerinfo_login_idp", data)
        save("authmanagerinfo_login_idp_merged", info(http, wiki.api_url, merged=True))
        token = data["query"]["tokens"]["logintoken"]
        button = "MediaWiki\\Auth\\ButtonAuthenticationRequest:testidplogin"
        redirect = clientlogin(http, wiki.api_url, token, loginrequests=button, testidplogin="1",
                               loginreturnurl=RETURN_URL)
        save("clientlogin_redirect_idp", redirect)
        # The fake provider's shortcut approves at once and sends us back with code and state.
        back = http.get(redirect["clientlogin"]["redirecttarget"] + "&prompt=none&login_hint=nobody",
                        allow_redirects=False, timeout=30).headers["Location"]
        query = dict(p.split("=", 1) for p in back.split("?", 1)[1].split("&"))
        save("clientlogin_restart_idp",
             clientlogin(http, wiki.api_url, token, logincontinue="1", code=requests.utils.unquote(query["code"]),
                         state=query["state"]))
        save("clientlogin_ui_confirm_link",
             clientlogin(http, wiki.api_url, token, username="Bob", password=USERS["Bob"],
                         loginpreservestate="1", loginreturnurl=RETURN_URL))


def main() -> None:
    capture_idp()
    capture_plain()
    capture_captcha()
    capture_oath()


if __name__ == "__main__":
    main()
