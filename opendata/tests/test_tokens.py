"""API tokens: created in the admin and shown once, stored hashed, revoked, their last use recorded."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from opendata.models import ApiToken
from opendata.services import api_token_authenticate, api_token_create
from opendata.tests.factories import paris

pytestmark = pytest.mark.django_db
NOW = paris(2026, 11, 20, 10, 0)


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = User.objects.create_superuser("admin", "admin@example.fr", "pw")
    client.force_login(user)
    return client


def test_a_token_is_stored_only_as_its_hash() -> None:
    token, clear = api_token_create(name="Portail national")

    token.refresh_from_db()
    assert clear.startswith("rdvp_") and len(clear) > 40
    assert token.hash == hashlib.sha256(clear.encode()).hexdigest()
    assert token.prefix == clear[:11]
    assert clear not in {token.hash, token.prefix, token.name}


def test_authentication_records_the_last_use_at_most_once_a_minute() -> None:
    token, clear = api_token_create(name="Portail national")

    with time_machine.travel(NOW, tick=False):
        assert api_token_authenticate(clear=clear) == token
    token.refresh_from_db()
    assert token.last_used_at == NOW

    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        api_token_authenticate(clear=clear)
    token.refresh_from_db()
    assert token.last_used_at == NOW

    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        api_token_authenticate(clear=clear)
    token.refresh_from_db()
    assert token.last_used_at == NOW + dt.timedelta(minutes=2)


def test_a_revoked_or_wrong_token_does_not_authenticate() -> None:
    token, clear = api_token_create(name="Portail national")

    assert api_token_authenticate(clear=clear + "x") is None
    assert api_token_authenticate(clear="") is None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=NOW)
    assert api_token_authenticate(clear=clear) is None


def test_the_admin_creates_a_token_and_shows_it_once(admin_client: Client) -> None:
    response = admin_client.post("/admin/opendata/apitoken/add/", {"name": "Recette ANTS"}, follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    shown = re.findall(r"rdvp_[A-Za-z0-9_\-]{40,}", page)
    assert len(shown) == 1
    token = ApiToken.objects.get(name="Recette ANTS")
    assert token.hash == hashlib.sha256(shown[0].encode()).hexdigest()
    assert api_token_authenticate(clear=shown[0]) == token

    # Never again: neither on its page nor in the list.
    detail = admin_client.get(f"/admin/opendata/apitoken/{token.pk}/change/").content.decode()
    listing = admin_client.get("/admin/opendata/apitoken/").content.decode()
    assert shown[0] not in detail and shown[0] not in listing
    assert token.prefix in listing


def test_the_admin_refuses_a_token_without_a_name(admin_client: Client) -> None:
    response = admin_client.post("/admin/opendata/apitoken/add/", {"name": ""})

    assert response.status_code == 200
    assert "Ce champ est obligatoire" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_admin_revokes_tokens(admin_client: Client, client: Client) -> None:
    token, clear = api_token_create(name="Ancien portail")
    kept, _ = api_token_create(name="Portail")

    response = admin_client.post(
        "/admin/opendata/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 jeton révoqué." in response.content.decode()
    token.refresh_from_db()
    kept.refresh_from_db()
    assert token.revoked and not kept.revoked
    refused = client.get("/ants/getManagedMeetingPoints", headers={"X-HUB-RDV-AUTH-TOKEN": clear})
    assert refused.status_code == 401


def test_the_token_list_takes_a_constant_number_of_queries(
    admin_client: Client, django_assert_num_queries
) -> None:
    for n in range(5):
        api_token_create(name=f"Client {n}")

    # Session, user, count (twice: filtered and total), the rows.
    with django_assert_num_queries(5):
        response = admin_client.get("/admin/opendata/apitoken/")

    assert response.status_code == 200
