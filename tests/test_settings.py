"""Settings read the environment and nothing else; scripts/dev_env.py decides REDIS_URL for development."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest

from tests.test_deploy import BASE_DIR, clean_env, run_python

# Any connection attempt or folder creation while the settings are imported fails the import.
_IMPORT_WITHOUT_IO = """
import json, pathlib, socket

def refuse(*args, **kwargs):
    raise AssertionError("I/O while importing the settings")

socket.create_connection = refuse
socket.socket.connect = refuse
pathlib.Path.mkdir = refuse
from rdvpasseport.settings import base
print(json.dumps({"redis": base.REDIS_URL, "broker": base.CELERY_BROKER_URL, "timeout": base.REDIS_SOCKET_TIMEOUT}))
"""


def test_importing_the_settings_connects_to_nothing_and_creates_nothing() -> None:
    dotenv = BASE_DIR / ".env"
    if dotenv.exists() and "REDIS_URL" in dotenv.read_text(encoding="utf-8"):
        pytest.skip("this checkout's .env sets REDIS_URL")
    environment = clean_env(DEBUG="1")
    del environment["REDIS_URL"]

    result = run_python(["-c", _IMPORT_WITHOUT_IO], environment)

    assert result.returncode == 0, result.stderr
    # Without REDIS_URL no Redis is used, even though one answers on this machine.
    assert json.loads(result.stdout) == {"redis": "", "broker": "filesystem://", "timeout": 1.0}


def test_a_malformed_redis_timeout_stops_the_start() -> None:
    result = run_python(["manage.py", "check"], clean_env(DEBUG="1", REDIS_SOCKET_TIMEOUT="soon"))

    assert result.returncode != 0
    assert "REDIS_SOCKET_TIMEOUT must be a number" in result.stderr


@pytest.fixture
def dev_env() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_env", BASE_DIR / "scripts" / "dev_env.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_development_uses_the_local_redis_when_it_answers(dev_env: ModuleType, monkeypatch) -> None:
    monkeypatch.setattr(dev_env, "redis_answers", lambda: True)

    assert dev_env.redis_url_default({}) == "redis://127.0.0.1:6379/0"


def test_development_goes_without_redis_when_none_answers(dev_env: ModuleType, monkeypatch) -> None:
    monkeypatch.setattr(dev_env, "redis_answers", lambda: False)

    assert dev_env.redis_url_default({}) == ""


def test_a_redis_url_that_is_set_even_empty_is_left_alone(dev_env: ModuleType, monkeypatch) -> None:
    monkeypatch.setattr(dev_env, "redis_answers", lambda: True)

    assert dev_env.redis_url_default({"REDIS_URL": ""}) is None
    assert dev_env.redis_url_default({"REDIS_URL": "redis://cache:6379/2"}) is None


def test_the_development_wrapper_runs_the_command_with_redis_url_set() -> None:
    environment = clean_env()
    del environment["REDIS_URL"]
    command = ["scripts/dev_env.py", sys.executable, "-c", "import os; print('REDIS_URL' in os.environ)"]

    result = run_python(command, environment)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_the_demo_is_off_unless_asked_for() -> None:
    """DEMO used to default to on, leaving the demo port on the scraper allowlist in production."""
    shown = run_python(
        [
            "-c",
            "from rdvpasseport.settings import base; print(base.DEMO, base.SCRAPER_ALLOWED_HOSTS)",
        ],
        clean_env(DEBUG="1"),
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["False", "[]"]


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("0", "0")])
def test_development_turns_the_demo_on_unless_told_otherwise(given, seen) -> None:
    environment = clean_env() if given is None else clean_env(DEMO=given)
    command = ["scripts/dev_env.py", sys.executable, "-c", "import os; print(os.environ['DEMO'])"]

    result = run_python(command, environment)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == seen
