"""Operations: health checks (see issue: deploy)."""
from flask import Blueprint

bp = Blueprint("ops", __name__)
