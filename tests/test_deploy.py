"""Production configuration: deployment checks, security headers, logs, error reports, container files."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent

# The production values of docs/OPERATIONS.md ("Configuration"): with them, check --deploy is clean.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k7Rw2xQp9Lm4Vt8Zb3Nc6Hs1Jd5Fg0Ya2Ue7Io4Pq9Wr3Ty6Mx8Ln1Bv5Cz0Kj",
    "ALLOWED_HOSTS": "rdvpasseport.example",
    "CSRF_TRUSTED_ORIGINS": "https://rdvpasseport.example",
    "SITE_URL": "https://rdvpasseport.example",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
    "TRUSTED_PROXY_COUNT": "1",
    "ADMIN_URL": "gestion-3c9e/",
    "METRICS_TOKEN": "a-long-random-metrics-token",
}


def clean_env(**values: str) -> dict[str, str]:
    """A bare environment: nothing inherited from the developer's shell or from the test settings."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "rdvpasseport.settings.base",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rdvpasseport"),
        "REDIS_URL": settings.REDIS_URL,
        **values,
    }


def run_python(args: list[str], env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_check_deploy_is_clean_with_the_production_values() -> None:
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], clean_env(**PRODUCTION_ENV)
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output


def test_check_deploy_is_clean_with_only_the_three_required_values() -> None:
    # Every other security setting defaults to its production value when DEBUG=0.
    required = {key: PRODUCTION_ENV[key] for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}

    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], clean_env(**required))

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_copy_of_env_example_with_a_secret_key_passes_check_deploy() -> None:
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    values.update(DEBUG="0", SECRET_KEY=PRODUCTION_ENV["SECRET_KEY"])

    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], clean_env(**values))

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_flags_development_values() -> None:
    result = run_python(["manage.py", "check", "--deploy"], clean_env(DEBUG="1"))

    output = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016", "security.W018"):
        assert warning in output


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_security_headers(client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    policy = dict(
        (directive.split(" ", 1) + [""])[:2] for directive in response["Content-Security-Policy"].split("; ")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert policy["connect-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.django_db
def test_https_responses_ask_browsers_to_stay_on_https_for_a_year(client) -> None:
    response = client.get("/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_unknown_pages_get_the_french_404_page(client) -> None:
    response = client.get("/cette-page-n-existe-pas")

    assert response.status_code == 404
    page = response.content.decode()
    assert "Page introuvable" in page
    assert "<html" in page


def test_the_500_page_renders_without_a_request() -> None:
    from django.template.loader import render_to_string

    page = render_to_string("500.html")

    assert "Une erreur est survenue" in page
    assert "<script" not in page


def test_logs_are_json_lines_on_stdout_in_production() -> None:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('rdvpasseport.test').warning('bonjour %s', 'là')"
    )

    production = run_python(["-c", code], clean_env(**PRODUCTION_ENV))
    development = run_python(["-c", code], clean_env(DEBUG="1"))

    assert production.returncode == 0, production.stderr
    line = [line for line in production.stdout.splitlines() if "rdvpasseport.test" in line][0]
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "rdvpasseport.test"
    assert record["message"] == "bonjour là"
    assert "time" in record
    dev_line = [line for line in development.stdout.splitlines() if "rdvpasseport.test" in line][0]
    assert dev_line.endswith("WARNING rdvpasseport.test bonjour là")


def test_sentry_starts_only_with_a_dsn_and_never_sends_personal_data() -> None:
    code = (
        "import django, sentry_sdk; django.setup(); client = sentry_sdk.get_client(); "
        "print(client.is_active(), client.options['send_default_pii'] if client.is_active() else '-')"
    )

    without = run_python(["-c", code], clean_env(**PRODUCTION_ENV))
    with_dsn = run_python(["-c", code], clean_env(**PRODUCTION_ENV, SENTRY_DSN="https://key@127.0.0.1:9/1"))

    assert without.stdout.strip().splitlines()[-1] == "False -"
    assert with_dsn.stdout.strip().splitlines()[-1] == "True False"


def test_static_files_build_for_production_with_hashed_compressed_names(tmp_path) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"settings.STATIC_ROOT = {str(tmp_path)!r}; "
        "from django.core.management import call_command; "
        "call_command('collectstatic', '--noinput', verbosity=0)"
    )

    result = run_python(["-c", code], clean_env(**PRODUCTION_ENV), timeout=300)

    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["css/site.css"]
    assert hashed_css != "css/site.css"
    assert (tmp_path / f"{hashed_css}.gz").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.django_db
def test_the_web_role_serves_healthz_and_metrics_under_gunicorn_with_json_access_logs(tmp_path) -> None:
    port = free_port()
    db = connection.settings_dict
    env = clean_env(
        **PRODUCTION_ENV,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            "docker/gunicorn.conf.py",
            "rdvpasseport.wsgi",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        health = _get_when_up(f"http://127.0.0.1:{port}/healthz", host="rdvpasseport.example")
        # Through the TLS proxy (X-Forwarded-Proto), as a citizen's search would come.
        searches = [
            _get(
                f"http://127.0.0.1:{port}/api/v1/search?q=Clichy",
                host="rdvpasseport.example",
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"},
            )[0]
            for _ in range(4)
        ]
        metrics = _get(
            f"http://127.0.0.1:{port}/metrics",
            host="rdvpasseport.example",
            headers={"Authorization": "Bearer a-long-random-metrics-token"},
        )
        probe = run_python(
            ["docker/healthcheck.py", "web"], {**env, "HEALTHCHECK_URL": f"http://127.0.0.1:{port}/healthz"}
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert health[0] == 200
    assert json.loads(health[1])["checks"]["database"] == {"ok": True}
    assert metrics[0] == 200
    assert set(searches) <= {200, 400}, searches
    # Whichever of the two gunicorn workers answered, /metrics counts every search.
    assert b'rdvpasseport_search_latency_seconds_count{endpoint="slots:api_search"} 4.0' in metrics[1]
    assert probe.returncode == 0, probe.stderr
    log.seek(0)
    access = [json.loads(line) for line in log if '"gunicorn.access"' in line]
    assert any("GET /healthz" in record["message"] for record in access)


def test_the_web_health_probe_fails_when_nothing_answers() -> None:
    env = clean_env(HEALTHCHECK_URL=f"http://127.0.0.1:{free_port()}/healthz")

    result = run_python(["docker/healthcheck.py", "web"], env)

    assert result.returncode == 1
    assert "/healthz unreachable" in result.stderr


def _get(url: str, *, host: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _get_when_up(url: str, *, host: str, timeout: float = 60) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _get(url, host=host)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_the_compose_file_is_valid(tmp_path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` (the compose plugin) nor `docker-compose` is installed")
    shutil.copy(BASE_DIR / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=0123abcd\nSECRET_KEY=x\n")

    result = subprocess.run([*command, "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    for service in ("postgres:", "redis:", "migrate:", "web:", "worker:", "beat:"):
        assert service in result.stdout
    assert "service_completed_successfully" in result.stdout


def test_compose_refuses_to_start_without_a_database_password(tmp_path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` (the compose plugin) nor `docker-compose` is installed")
    shutil.copy(BASE_DIR / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("SECRET_KEY=x\n")

    result = subprocess.run([*command, "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_log_level_is_read_in_any_case_and_a_wrong_one_is_refused_at_start() -> None:
    lower = run_python(["manage.py", "check"], clean_env(DEBUG="1", LOG_LEVEL="warning"))
    assert lower.returncode == 0, lower.stderr

    wrong = run_python(["manage.py", "check"], clean_env(DEBUG="1", LOG_LEVEL="loud"))
    assert wrong.returncode != 0
    assert "LOG_LEVEL must be one of" in wrong.stderr


def test_a_sentry_sample_rate_outside_zero_to_one_is_refused_at_start() -> None:
    result = run_python(
        ["manage.py", "check"],
        clean_env(DEBUG="1", SENTRY_DSN="https://key@sentry.example/1", SENTRY_TRACES_SAMPLE_RATE="nan"),
    )
    assert result.returncode != 0
    assert "SENTRY_TRACES_SAMPLE_RATE must be between 0.0 and 1.0" in result.stderr
