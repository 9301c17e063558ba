"""The official Flask demo of ``clientlogin`` (MediaWiki's API:Login page), for comparison.

Its code as published (MIT license; see shared/reference/mediawiki-API-Login.txt),
with three changes that do not touch a login: the wiki's address comes from
``DEMO_WIKI_API_URL`` instead of Wikipedia's, its template is inline, and
``POST /reset`` empties its one shared wiki session (the benchmark calls it
between timed logins, so each login starts logged out, as a new visitor's
would; the demo shares one wiki session among all visitors).  Served by the
same gunicorn with the same settings as the app.  Benchmark only.
"""
from __future__ import annotations

import os

import requests
from flask import Flask, flash, render_template_string, request

S = requests.Session()  # as published: one wiki session for every visitor (/reset empties it)
URL = os.environ.get("DEMO_WIKI_API_URL", "")

APP = Flask(__name__)
APP.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "enter_your_secret_key")
app = APP  # for gunicorn bench.flask_demo:app

TEMPLATE = """<!DOCTYPE html>
  <title>MediaWiki Log in</title>
  <link rel="stylesheet" href="static/bootstrap/css/bootstrap.min.css">

<div class="container">
  <h2>MediaWiki Log in</h2>
  <form action="" method="post" role="form">
    <div class="form-group">
      <div class="form-field">
        <div class="label-field">Username</div>
        <input name="username">
      </div>
      <div class="form-field">
        <div class="label-field">Password</div>
        <input type="password" name="password">
      </div>
    </div>
    <button type="submit" class="btn btn-success">Log in</button>
  </form>
  <br>
  {% with messages = get_flashed_messages(with_categories=true) %}
  {% if messages %}
  {% for message in messages %}
  <div class="alert alert-info">
    {{ message[1] }}
  </div>
  {% endfor %}
  {% endif %}
  {% endwith %}
</div>
<br>
</div>
</div>
"""


@APP.route("/", methods=["GET", "POST"])
def show_form():
    """ Render form template and handle form submission request """

    if request.method == 'POST':
        username = request.form['username']
        password = request.form['password']
        start_client_login(username, password)

    return render_template_string(TEMPLATE)


def start_client_login(username, password):
    """ Send a post request along with login token, user information
    and return URL to the API to log in on a wiki """

    login_token = fetch_login_token()

    response = S.post(url=URL, data={
        'action': "clientlogin",
        'username': username,
        'password': password,
        'loginreturnurl': 'http://127.0.0.1:5000/',
        'logintoken': login_token,
        'format': "json"
    })

    data = response.json()

    if data['clientlogin']['status'] == 'PASS':
        flash('Login success! Welcome, ' + data['clientlogin']['username'] + '!')
    else:
        flash('Oops! Something went wrong -- ' + data['clientlogin']['messagecode'])


def fetch_login_token():
    """ Fetch login token via `tokens` module """

    response = S.get(
        url=URL,
        params={
            'action': "query",
            'meta': "tokens",
            'type': "login",
            'format': "json"})
    data = response.json()
    return data['query']['tokens']['logintoken']


@APP.post("/reset")
def reset():
    """Not in the demo: log its shared wiki session out of the way between timed logins."""
    S.cookies.clear()
    return ""
