"""« Prévenez-moi »: sign-up, double opt-in through a real SMTP server, honeypot, rate limits, bad input."""

from __future__ import annotations

import logging
import re
import uuid

import pytest

from alerts.models import Alert, AlertEmail
from alerts.tasks import alert_email_send as alert_email_send_task
from alerts.tests.factories import make_commune

SIGN_UP = {"q": "Clichy", "insee": "92024", "rayon": "20", "motif": "passeport", "personnes": "1"}


@pytest.fixture
def clichy(db):
    return make_commune(
        "92024", name="Clichy", postcodes=("92110",), lat=48.9028, lon=2.3048, population=63_000
    )


def sign_up(client, **changes: str):
    data = {**SIGN_UP, "email": "camille@example.org", **changes}
    return client.post("/alertes", {key: value for key, value in data.items() if value is not None})


def send_queued() -> None:
    for email_id in AlertEmail.objects.filter(status=AlertEmail.Status.QUEUED).values_list("pk", flat=True):
        alert_email_send_task.apply(args=[email_id])


def test_signing_up_sends_only_a_confirmation_whose_link_turns_the_alert_on(
    client, clichy, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = sign_up(client)

    assert response.status_code == 200
    assert "Vérifiez votre boîte de réception" in response.content.decode()
    assert len(callbacks) == 1  # the confirmation goes to the worker after commit
    alert = Alert.objects.get()
    assert alert.state == Alert.State.PENDING
    assert (alert.place, alert.radius_km, alert.reason, alert.insee) == ("Clichy", 20, "PASSPORT", "92024")

    send_queued()
    [message] = smtp.messages
    assert message["To"] == "camille@example.org"
    assert message["Subject"] == "Confirmez votre alerte rdvpasseport"
    text, html = smtp.texts(message)
    assert "À moins de 20 km de Clichy — Passeport" in text
    assert "Activer l’alerte" in html
    link = re.search(r"https://rdv\.example(/alertes/confirmer/\S+)", text).group(1)

    page = client.get(link)
    assert page.status_code == 200
    assert "Activer l’alerte" in page.content.decode()
    alert.refresh_from_db()
    assert alert.state == Alert.State.PENDING  # following the link is not enough: mail scanners do

    confirmed = client.post(link)
    assert "Votre alerte est active" in confirmed.content.decode()
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACTIVE
    assert alert.confirmed_at is not None and alert.seen_until == alert.confirmed_at


def test_the_answer_is_the_same_whether_the_address_is_known_or_not(client, clichy):
    first = sign_up(client, email="known@example.org").content
    again = sign_up(client, email="known@example.org").content
    unknown = sign_up(client, email="new@example.org").content

    assert first == again == unknown


def test_a_filled_honeypot_records_nothing_but_answers_the_same(client, clichy):
    honest = sign_up(client, email="a@example.org")
    bot = sign_up(client, email="b@example.org", site="https://spam.example")

    assert bot.status_code == 200
    assert bot.content == honest.content
    assert list(Alert.objects.values_list("email", flat=True)) == ["a@example.org"]


def test_too_many_sign_ups_from_one_client_get_a_429(client, clichy, settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMIT_ALERTS = "2/h"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"

    # Fresh addresses: the per-address counters of earlier runs live in Redis for the hour.
    emails = [f"{uuid.uuid4().hex[:12]}@example.org" for _ in range(3)]
    codes = [
        client.post("/alertes", {**SIGN_UP, "email": email}, REMOTE_ADDR=address).status_code
        for email in emails
    ]

    assert codes == [200, 200, 429]
    assert Alert.objects.count() == 2


def test_one_address_gets_a_few_confirmations_an_hour_and_then_nothing(client, clichy, settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMIT_ALERTS = "100/h"
    settings.RATELIMIT_ALERTS_EMAIL = "2/h"
    address = f"{uuid.uuid4().hex[:12]}@example.org"

    answers = [sign_up(client, email=address) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[2].content == answers[0].content  # nothing tells the third one apart
    assert Alert.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "pas-une-adresse"}, "Cette adresse électronique n’est pas valide."),
        ({"email": ""}, "Indiquez votre adresse électronique."),
        ({"rayon": "7"}, "Le rayon doit être de 5, 10, 20, 30 ou 50 km."),
        ({"q": "Zzzzville", "insee": None}, "Zzzzville"),
        ({"q": "", "insee": None}, "Saisissez un code postal ou le nom d’une commune"),
    ],
)
def test_bad_input_gets_a_french_message_and_records_nothing(client, clichy, changes, message):
    response = sign_up(client, **changes)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Alert.objects.exists()


def test_through_htmx_the_answer_replaces_the_box(client, clichy):
    response = client.post("/alertes", {**SIGN_UP, "email": "camille@example.org"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="alert-box"' in html and "Vérifiez votre boîte de réception" in html


def test_the_alert_page_shows_the_search_and_says_what_is_kept(client, clichy):
    response = client.get("/alertes", {**SIGN_UP, "avant": ""})

    html = response.content.decode()
    assert response.status_code == 200
    assert "à moins de 20 km de Clichy" in html
    assert 'name="insee" value="92024"' in html
    assert "Nous gardons seulement votre adresse, cette recherche et la date des courriels envoyés" in html


def test_no_address_appears_in_the_logs(client, clichy, smtp, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks():
        sign_up(client, email="secret.person@example.org")
    send_queued()

    assert smtp.messages
    # Everything the service logged (the test's own SMTP server, "mail.log", prints the whole exchange).
    ours = [record.getMessage() for record in caplog.records if not record.name.startswith("mail.log")]
    assert ours
    assert not [line for line in ours if "secret.person" in line]


def test_an_alert_made_in_english_writes_in_english(client, clichy, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        client.post("/alertes", {**SIGN_UP, "email": "sam@example.org"}, HTTP_ACCEPT_LANGUAGE="en")
    send_queued()

    assert Alert.objects.get().language == "en"
    assert smtp.messages[0]["Subject"] == "Confirm your rdvpasseport alert"
