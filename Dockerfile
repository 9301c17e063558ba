# wiki-login: gunicorn serving the app, configured by environment variables
# (README, "Configuration" and "Deploy").
#   docker build -t wiki-login .
#   docker run -p 8000:8000 -e WIKI_API_URL=... -e SECRET_KEY=... -e PUBLIC_URL=... wiki-login
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    SESSION_DIR=/var/lib/wiki-login/sessions

WORKDIR /app

# Runtime dependencies only (no test tools), in their own layer: code changes
# do not reinstall them.  All have binary wheels, so no compiler is needed.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The code belongs to root and is read-only for the app's own user.  The only
# place it may write is the filesystem session store, used without REDIS_URL.
RUN groupadd --system --gid 10001 wikilogin \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin wikilogin \
    && mkdir -p /var/lib/wiki-login/sessions \
    && chown wikilogin:wikilogin /var/lib/wiki-login/sessions \
    && chmod 700 /var/lib/wiki-login/sessions
COPY app.py gunicorn.conf.py ./
COPY auth/ auth/
COPY blueprints/ blueprints/
COPY wiki/ wiki/
COPY templates/ templates/
COPY static/ static/
# The app's own words in each language: the catalogs compiled here, as `make` does.
COPY translations/ translations/
RUN pybabel compile -d translations

USER 10001:10001
EXPOSE 8000

# Liveness only (/livez): restarting the app never fixes a wiki or Redis that
# is down; /healthz reports those, for load balancers and monitoring.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:app"]
