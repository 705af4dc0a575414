"""Runs left "running" by a killed worker or a database outage are closed as interrupted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rdvpasseport.celery import app as celery_app
from scrapers.models import ScrapeRun
from scrapers.services import runs_interrupted_close, sources_dispatch
from scrapers.tasks import runs_interrupted_close as on_worker_ready
from scrapers.tasks import sources_dispatch_at_start
from scrapers.tests.factories import make_run, make_source

pytestmark = pytest.mark.django_db


def test_runs_running_past_their_claim_are_closed_as_interrupted(settings):
    settings.SCRAPE_TIME_LIMIT = 150
    now = timezone.now()
    source = make_source()
    killed = make_run(source, started_at=now - dt.timedelta(minutes=10))
    live = make_run(source, started_at=now - dt.timedelta(seconds=30))
    done = make_run(source, started_at=now - dt.timedelta(hours=1), status=ScrapeRun.Status.SUCCESS)

    closed = runs_interrupted_close(now=now)

    assert closed == 1
    killed.refresh_from_db()
    assert killed.status == ScrapeRun.Status.INTERRUPTED
    assert killed.finished_at == now
    assert "Interrupted" in killed.error
    live.refresh_from_db()
    done.refresh_from_db()
    assert (live.status, done.status) == (ScrapeRun.Status.RUNNING, ScrapeRun.Status.SUCCESS)


def test_the_dispatcher_closes_interrupted_runs_every_tick(django_capture_on_commit_callbacks):
    source = make_source(next_run_at=timezone.now() + dt.timedelta(minutes=3))
    killed = make_run(source, started_at=timezone.now() - dt.timedelta(hours=2))

    with django_capture_on_commit_callbacks():
        sources_dispatch(enqueue=lambda ids: None)

    killed.refresh_from_db()
    assert killed.status == ScrapeRun.Status.INTERRUPTED


def test_a_starting_worker_closes_the_runs_a_killed_worker_left():
    killed = make_run(make_source(), started_at=timezone.now() - dt.timedelta(hours=2))

    on_worker_ready()

    killed.refresh_from_db()
    assert killed.status == ScrapeRun.Status.INTERRUPTED


def test_a_starting_worker_dispatches_the_due_sources_at_once(django_capture_on_commit_callbacks):
    celery_app.control.purge()
    due = make_source(name="Démo, jamais collectée", next_run_at=None)
    later = make_source(next_run_at=timezone.now() + dt.timedelta(minutes=3))

    try:
        with django_capture_on_commit_callbacks(execute=True):
            sources_dispatch_at_start()
        with celery_app.connection_for_write() as connection:
            queued = connection.default_channel.queue_declare(
                queue=celery_app.conf.task_default_queue, passive=True
            ).message_count
    finally:
        celery_app.control.purge()

    assert queued == 1  # one scrape task, for the due source only
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.next_run_at is not None  # claimed by the dispatch: beat's next tick will not send it again
    assert later.next_run_at > timezone.now() + dt.timedelta(minutes=2)
