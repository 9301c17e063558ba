"""Rate limits on login POSTs (see issue: deploy)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Set up the limiter for ``app``."""
