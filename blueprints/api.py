"""The same-origin Action API for the custom editor (see issue: after login)."""
from flask import Blueprint

bp = Blueprint("api", __name__)
