"""The admin login resists password guessing (django-axes), and the admin can live at another path."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import override_settings

BASE_DIR = Path(__file__).resolve().parent.parent
LOGIN = "/admin/login/"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_user():
    return get_user_model().objects.create_superuser("ops", "ops@example.org", "correct horse battery")


def attempt(client, password: str, address: str = "198.51.100.10"):
    return client.post(
        LOGIN, {"username": "ops", "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5, AXES_COOLOFF_TIME=1)
def test_five_wrong_passwords_lock_the_account_out_from_that_address_for_an_hour(client, admin_user) -> None:
    with time_machine.travel(START, tick=False):
        failures = [attempt(client, f"guess-{n}").status_code for n in range(5)]
        locked = attempt(client, "correct horse battery")
        other_address = attempt(client, "correct horse battery", address="198.51.100.11")
    with time_machine.travel(START + dt.timedelta(minutes=61), tick=False):
        later = attempt(client, "correct horse battery")

    assert failures == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "trop de tentatives de connexion" in locked.content.decode()
    assert other_address.status_code == 302
    assert later.status_code == 302
    assert later["Location"] == "/admin/"


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_a_successful_login_resets_the_failure_count(client, admin_user) -> None:
    for n in range(4):
        attempt(client, f"guess-{n}")
    assert attempt(client, "correct horse battery").status_code == 302
    client.logout()

    failures = [attempt(client, f"again-{n}").status_code for n in range(4)]

    assert failures == [200, 200, 200, 200]
    assert attempt(client, "correct horse battery").status_code == 302


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_lockout_follows_the_forwarded_client_address(client, admin_user) -> None:
    def through_proxy(password: str, client_address: str):
        return client.post(
            LOGIN,
            {"username": "ops", "password": password, "next": "/admin/"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=client_address,
        )

    for n in range(5):
        through_proxy(f"guess-{n}", "203.0.113.66")

    assert through_proxy("correct horse battery", "203.0.113.66").status_code == 429
    # Everybody else comes through the same proxy, and is not locked out with the attacker.
    assert through_proxy("correct horse battery", "203.0.113.67").status_code == 302


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "rdvpasseport.settings.base", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_admin_path_comes_from_admin_url() -> None:
    code = "from django.urls import reverse; print(reverse('admin:index'))"

    moved = run_manage("shell", "-c", code, ADMIN_URL="gestion-7f3a/")
    default = run_manage("shell", "-c", code)

    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip().splitlines()[-1] == "/gestion-7f3a/"
    assert default.stdout.strip().splitlines()[-1] == "/admin/"


def test_a_malformed_admin_url_stops_the_start() -> None:
    result = run_manage("check", ADMIN_URL="/admin")

    assert result.returncode != 0
    assert "ADMIN_URL must be relative and end with a slash" in result.stderr
