"""The demo editor page (see issue: after login)."""
from flask import Blueprint

bp = Blueprint("editor", __name__)
