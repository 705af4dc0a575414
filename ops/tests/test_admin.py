"""The admin's operations: run now, pause and resume on the source list, and the read-only log of actions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from ops.services import Operation, sources_operate
from rdvpasseport.celery import app as celery_app
from scrapers.models import Source
from scrapers.tests.factories import make_source
from scrapers.tests.test_admin import post_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The test Redis broker, its default queue emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(celery_app.conf.task_default_queue)
    yield client
    client.delete(celery_app.conf.task_default_queue)
    client.close()


def test_run_now_enqueues_after_commit_says_so_and_is_logged(
    admin_client, admin_user, django_capture_on_commit_callbacks, broker
):
    sources = [make_source(), make_source()]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            reverse("admin:scrapers_source_changelist"),
            {"action": "run_now", "_selected_action": [s.pk for s in sources]},
            follow=True,
        )

    assert response.status_code == 200
    assert "Queued a scrape of 2 sources" in response.content.decode()
    assert len(callbacks) == 1
    messages = [
        json.loads(raw)["headers"] for raw in broker.lrange(celery_app.conf.task_default_queue, 0, -1)
    ]
    assert sorted(m["argsrepr"] for m in messages) == sorted(f"({s.pk},)" for s in sources)
    assert {m["task"] for m in messages} == {"scrapers.tasks.source_scrape"}
    entries = LogEntry.objects.order_by("object_id")
    assert [(e.object_id, e.user_id, e.action_flag) for e in entries] == sorted(
        (str(s.pk), admin_user.pk, CHANGE) for s in sources
    )
    assert {e.get_change_message() for e in entries} == {"Scrape queued (run now) from the source list"}


def test_pause_and_resume_actions_are_logged(admin_client):
    source = make_source(next_run_at=timezone.now() + dt.timedelta(hours=1))
    url = reverse("admin:scrapers_source_changelist")

    response = admin_client.post(url, {"action": "pause", "_selected_action": [source.pk]}, follow=True)
    assert "Paused 1 source." in response.content.decode()
    source.refresh_from_db()
    assert source.paused is True
    assert not Source.objects.due().filter(pk=source.pk).exists()

    response = admin_client.post(url, {"action": "resume", "_selected_action": [source.pk]}, follow=True)
    assert "Resumed 1 source." in response.content.decode()
    source.refresh_from_db()
    assert source.paused is False
    assert Source.objects.due().filter(pk=source.pk).exists()
    history = admin_client.get(reverse("admin:scrapers_source_history", args=[source.pk])).content.decode()
    assert "Paused from the source list" in history
    assert "Resumed from the source list" in history


def test_the_admin_log_lists_every_action_with_filters_and_cannot_be_edited(admin_client, admin_user):
    source = make_source(name="Éditeur audité")
    admin_client.post(
        reverse("admin:scrapers_source_changelist"), {"action": "pause", "_selected_action": [source.pk]}
    )
    post_source(admin_client, make_source(name="Éditeur modifié"), interval_minutes="9")
    colleague = get_user_model().objects.create_user("colleague", is_staff=True)
    sources_operate(
        operation=Operation.RESUME, source_ids=[source.pk], user_id=colleague.pk, origin="from a test"
    )
    url = reverse("admin:admin_logentry_changelist")

    response = admin_client.get(url)
    filtered = admin_client.get(url, {"action_flag__exact": CHANGE, "user__id__exact": admin_user.pk})
    by_message = admin_client.get(url, {"q": "source list"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Paused from the source list" in html
    assert "Éditeur modifié" in html
    assert "colleague" in html
    assert f'href="{reverse("admin:scrapers_source_change", args=[source.pk])}"' in html
    assert len(filtered.context["cl"].result_list) == 2
    assert [e.object_repr for e in by_message.context["cl"].result_list] == ["Éditeur audité"]
    assert [spec.field_path for spec in response.context["cl"].filter_specs] == [
        "user",
        "action_flag",
        "content_type",
    ]
    entry = LogEntry.objects.first()
    assert admin_client.get(reverse("admin:admin_logentry_add")).status_code == 403
    change_url = reverse("admin:admin_logentry_change", args=[entry.pk])
    assert admin_client.get(change_url).status_code == 200  # read-only view
    assert admin_client.post(change_url, {"change_message": "forged"}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:admin_logentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.change_message != "forged"
    assert LogEntry.objects.count() == 3
