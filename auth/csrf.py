"""The app's one CSRF guard (Flask-WTF): every POST form carries a token bound to the session."""
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
