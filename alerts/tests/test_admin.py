"""The admin lists alerts with masked addresses, their state and sends."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from alerts.models import AlertEmail, mask_email
from alerts.tests.factories import make_alert


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


def test_the_list_masks_addresses_in_a_fixed_number_of_queries(admin_client, django_assert_num_queries):
    for n in range(5):
        make_alert(email=f"person{n}@example.org")

    # Once, for the process-wide caches (content types) an earlier test may or may not have filled.
    admin_client.get("/admin/alerts/alert/")
    # Session, user, counts, the page of alerts, the date hierarchy and filters: none per alert.
    with django_assert_num_queries(8):
        response = admin_client.get("/admin/alerts/alert/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "p***@e***.org" in html
    assert "person0@" not in html


def test_the_detail_shows_the_sends_and_never_the_address(admin_client):
    alert = make_alert(email="camille@example.org")
    AlertEmail.objects.create(
        alert=alert, kind=AlertEmail.Kind.MATCH, status=AlertEmail.Status.SENT, town_halls=3
    )

    html = admin_client.get(f"/admin/alerts/alert/{alert.pk}/change/").content.decode()

    assert "c***@e***.org" in html and "camille@" not in html
    assert "nouveaux créneaux" in html and "envoyé" in html


def test_mask_email():
    assert mask_email("camille.dupont@exemple.fr") == "c***@e***.fr"
    assert mask_email("x@localhost") == "x***@l***"
