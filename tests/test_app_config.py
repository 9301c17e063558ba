"""Configuration is read once at start-up; bad values stop it with a message naming the variable."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app import ConfigError, config_from_env, create_app

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"WIKI_API_URL": "https://wiki.example.org/w/api.php", "SECRET_KEY": "x" * 32}


@pytest.mark.parametrize("change,words", [
    ({"WIKI_API_URL": ""}, "WIKI_API_URL is not set"),
    ({"WIKI_API_URL": "wiki.example.org/api.php"}, "WIKI_API_URL"),
    ({"WIKI_API_URL": "ftp://wiki/api.php"}, "WIKI_API_URL"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"PUBLIC_URL": "example.org"}, "PUBLIC_URL"),
    ({"WIKI_TIMEOUT": "soon"}, "WIKI_TIMEOUT"),
    ({"WIKI_TIMEOUT": "0"}, "WIKI_TIMEOUT"),
    ({"LOGIN_FLOW_TTL": "1.5"}, "LOGIN_FLOW_TTL"),
    ({"WIKI_FORWARD_CLIENT_IP": "maybe"}, "WIKI_FORWARD_CLIENT_IP"),
])
def test_bad_values_name_the_variable(change, words):
    with pytest.raises(ConfigError, match=words):
        config_from_env({**GOOD, **change})


def test_user_agent_names_app_and_contact():
    config = config_from_env({**GOOD, "WIKI_USER_AGENT_CONTACT": "ops@example.org"})
    assert config["USER_AGENT"].startswith("wiki-login/") and "ops@example.org" in config["USER_AGENT"]


def test_https_public_url_makes_cookies_secure(tmp_path):
    app = create_app({**GOOD, "PUBLIC_URL": "https://login.example.org", "SESSION_DIR": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with app.test_request_context("/", base_url="https://login.example.org"):
        from flask import session
        session["x"] = 1
        response = app.process_response(app.make_response("ok"))
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_missing_config_stops_gunicorn_style_import_with_a_message():
    env = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", "import app; app.app"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "wiki-login cannot start: SECRET_KEY is not set" in proc.stderr


@pytest.mark.parametrize("change,words", [
    ({"WIKI_TIMEOUT": "nan"}, "WIKI_TIMEOUT"),
    ({"WIKI_TIMEOUT": "inf"}, "WIKI_TIMEOUT"),
    ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
    ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
])
def test_more_bad_values_name_the_variable(change, words):
    with pytest.raises(ConfigError, match=words):
        config_from_env({**GOOD, **change})


def test_zero_trusted_proxies_is_fine():
    assert config_from_env({**GOOD, "TRUSTED_PROXIES": "0"})["TRUSTED_PROXIES"] == 0
