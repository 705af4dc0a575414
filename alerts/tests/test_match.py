"""Matching after an ingestion run: who gets an email, how often, and what it says."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from alerts.models import Alert, AlertEmail, EmailTally
from alerts.services import alert_email_send, alerts_match, alerts_notify
from alerts.tests.factories import make_alert, make_slot, make_town_hall, paris
from slots.models import Reason

NOW = paris(2026, 11, 20, 10, 0)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clichy(db, clock):
    return make_town_hall(name="Mairie de Clichy", lat=48.9028, lon=2.3048)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """What the tasks do after an ingestion run: match, claim the alerts due; the summary and emails queued."""

    def match(town_halls):
        batches: list[list[int]] = []
        summary = alerts_match(town_hall_ids=[th.pk for th in town_halls], enqueue=batches.append)
        with django_capture_on_commit_callbacks():  # the sends are made here, not by a worker
            queued = [email_id for batch in batches for email_id in alerts_notify(alert_ids=batch)]
        return summary, queued

    return match


def test_a_new_slot_sends_one_email_listing_it_with_its_booking_link(clichy, clock, mailoutbox, run):
    alert = make_alert(seen_until=NOW - dt.timedelta(hours=2))
    clock.shift(dt.timedelta(minutes=5))
    make_slot(clichy, paris(2026, 12, 1, 9, 0), booking_url="https://rdv.example.fr/clichy/1")

    summary, queued = run([clichy])

    assert (summary.candidates, summary.matched, summary.due) == (1, 1, 1)
    assert [alert_email_send(email_id=email_id) for email_id in queued] == ["sent"]
    [message] = mailoutbox
    assert message.subject == "Nouveaux créneaux près de Clichy"
    assert "Mairie de Clichy" in message.body and "https://rdv.example.fr/clichy/1" in message.body
    assert "mardi 1 décembre à 09:00" in message.body
    html = message.alternatives[0][0]
    assert 'href="https://rdv.example.fr/clichy/1"' in html and "Réserver" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    alert.refresh_from_db()
    assert alert.emails_sent == 1 and alert.last_sent_at == NOW + dt.timedelta(minutes=5)
    assert AlertEmail.objects.get().status == AlertEmail.Status.SENT
    assert EmailTally.objects.get(kind="match", status="sent").count == 1


def test_a_run_with_nothing_new_sends_nothing(clichy, clock, run):
    make_slot(clichy, paris(2026, 12, 1, 9, 0))  # seen before the alert started
    clock.shift(dt.timedelta(minutes=1))
    make_alert()
    clock.shift(dt.timedelta(minutes=5))

    summary, queued = run([clichy])

    assert (summary.matched, queued) == (0, [])


def test_within_the_hour_nothing_more_is_sent_then_the_news_waits_for_the_next_run(
    clichy, clock, settings, run
):
    settings.ALERT_MIN_INTERVAL_MINUTES = 60
    make_alert(seen_until=NOW - dt.timedelta(minutes=1))
    make_slot(clichy, paris(2026, 12, 1, 9, 0))
    assert len(run([clichy])[1]) == 1

    clock.shift(dt.timedelta(minutes=30))
    make_slot(clichy, paris(2026, 12, 2, 9, 0))
    summary, queued = run([clichy])
    assert (summary.matched, queued) == (1, [])  # news, but throttled

    clock.shift(dt.timedelta(minutes=31))
    assert len(run([clichy])[1]) == 1  # the slot of 30 minutes ago is still news


def test_the_daily_cap_holds_even_without_a_wait(clichy, clock, settings, run):
    settings.ALERT_MIN_INTERVAL_MINUTES = 0
    settings.ALERT_DAILY_CAP = 2
    make_alert(seen_until=NOW - dt.timedelta(minutes=1))
    sent = []
    for hour in range(3):
        make_slot(clichy, paris(2026, 12, 1, 9 + hour, 0))
        sent.append(len(run([clichy])[1]))
        clock.shift(dt.timedelta(minutes=10))

    assert sent == [1, 1, 0]
    clock.shift(dt.timedelta(days=1))
    make_slot(clichy, paris(2026, 12, 5, 9, 0))
    assert len(run([clichy])[1]) == 1  # a new Paris day


@pytest.mark.parametrize(
    "alert_overrides",
    [
        {"lat": 45.1866, "lon": 5.7363, "place": "Grenoble"},  # far away
        {"reason": Reason.CNI},
        {"before": dt.date(2026, 11, 30)},  # the slot comes after its date
        {"people": 3},  # the slot takes two people at most
        {"state": Alert.State.PAUSED},
        {"state": Alert.State.PENDING},
        {"radius_km": 5, "lat": 48.85, "lon": 2.35},  # Paris centre, 7 km from Clichy
    ],
)
def test_alerts_whose_search_the_new_slot_does_not_fit_get_nothing(clichy, alert_overrides, run):
    make_alert(seen_until=NOW - dt.timedelta(minutes=1), **alert_overrides)
    make_slot(clichy, paris(2026, 12, 1, 9, 0), people_max=2)

    assert run([clichy])[1] == []


def test_the_last_email_says_so_and_deletes_everything(clichy, clock, settings, mailoutbox, run):
    settings.ALERT_MAX_EMAILS = 10
    alert = make_alert(seen_until=NOW - dt.timedelta(minutes=1), emails_sent=9)
    make_slot(clichy, paris(2026, 12, 1, 9, 0))

    [email_id] = run([clichy])[1]
    assert alert_email_send(email_id=email_id) == "sent"

    assert "C’était le dernier courriel de cette alerte" in mailoutbox[0].body
    assert "/alertes?" in mailoutbox[0].body  # how to renew it
    assert not Alert.objects.filter(pk=alert.pk).exists()
    assert not AlertEmail.objects.exists()


def test_matching_costs_the_same_queries_for_3_or_30_alerts(
    clichy, django_assert_num_queries, django_capture_on_commit_callbacks
):
    make_slot(clichy, paris(2026, 12, 1, 9, 0))
    other = make_town_hall(lat=48.85, lon=2.35)
    make_slot(other, paris(2026, 12, 1, 9, 0))
    for count in (3, 30):
        Alert.objects.all().delete()
        for _ in range(count):
            make_alert(seen_until=NOW - dt.timedelta(minutes=1))
        batches: list[list[int]] = []
        # The town halls, their newest slot, the alerts under their cells, the candidate slots.
        with django_assert_num_queries(4):
            summary = alerts_match(town_hall_ids=[clichy.pk, other.pk], enqueue=batches.append)
        assert summary.due == count and sorted(batches[0]) == sorted(
            Alert.objects.values_list("pk", flat=True)
        )
        # The claim of a batch, in a savepoint: select, update, insert.
        with django_assert_num_queries(5), django_capture_on_commit_callbacks():
            assert len(alerts_notify(alert_ids=batches[0])) == count
