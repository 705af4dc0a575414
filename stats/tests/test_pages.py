"""/statistiques, a department's statistics, the CSV exports, and the stats parts of the slots pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from slots.tests.factories import make_commune, make_department, make_slot, make_town_hall, paris
from stats.lifetimes import bucket_of
from stats.models import SlotLifetime
from stats.services import stats_snapshot
from stats.tests.conftest import TODAY, area_day, town_hall_day

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", response.content.decode(), flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_statistics_page_shows_the_snapshot_of_hand_made_slots(client, frozen):
    for days in (1, 3, 20):
        town_hall = make_town_hall(
            commune=make_commune(department=make_department("92", name="Hauts-de-Seine")),
            checked_at=frozen,
            stale_at=frozen + dt.timedelta(minutes=15),
        )
        make_slot(town_hall, paris(2026, 11, 20, 10) + dt.timedelta(days=days))
    stats_snapshot()

    response = client.get("/statistiques")

    assert response.content.decode().count("<circle") == 5  # one day: dots (median, share 7 and 30, slots…)
    page = text(response)

    assert "Relevé du 20 novembre 2026, sur 3 mairies aux données à jour (sur 3 suivies)." in page
    assert "Attente médiane 3 jours" in page
    assert "Mairies avec un créneau sous 7 jours 66,7&#8239;%" in page
    assert "Hauts-de-Seine (92)" in page
    assert "a pu être réservé, ou retiré par la mairie" in page  # what the figures do not say


def test_statistics_page_draws_the_history_of_the_area_and_lists_the_departments(client, history):
    response = client.get("/statistiques")

    html = response.content.decode()
    assert html.count('<svg class="stats-chart"') == 3  # wait, share, slots: the covered area's
    assert html.count('<details class="stats-table">') == 3
    page = text(response)
    assert "Sur la période, la médiane est allée de 1 à 30 jours." in page
    assert "Hauts-de-Seine (92)" in page and "Rhône (69)" in page
    assert 'href="/statistiques/92?motif=passeport"' in html


def test_statistics_page_runs_a_constant_number_of_queries(client, history, django_assert_num_queries):
    with django_assert_num_queries(3):  # the history, the lifetimes, the departments' names
        client.get("/statistiques")
    make_department("75", name="Paris")
    for offset in range(30):
        area_day(TODAY - dt.timedelta(days=offset), "75")
    SlotLifetime.objects.create(day=TODAY, department_code="75", bucket=bucket_of(600), count=40)

    with django_assert_num_queries(3):
        response = client.get("/statistiques")
    assert "Paris (75)" in text(response)


def test_statistics_page_without_any_data_says_so(client, db):
    page = text(client.get("/statistiques"))

    assert "Pas encore de relevé pour ce motif" in page
    assert "Pas encore de relevé par département." in page


def test_an_unknown_motif_falls_back_to_passports(client, history):
    area_day(TODAY, "", reason="CNI", median_days=3.0)

    assert "Attente médiane 1 jour" in text(client.get("/statistiques?motif=nimporte"))
    assert "Attente médiane 3 jours" in text(client.get("/statistiques?motif=cni"))


def test_department_statistics_show_its_figures_and_the_lifetime_of_its_slots(client, history):
    SlotLifetime.objects.create(day=TODAY, department_code="92", bucket=bucket_of(10 * 60), count=3)
    SlotLifetime.objects.create(day=TODAY, department_code="69", bucket=bucket_of(3 * 86400), count=50)

    response = client.get("/statistiques/92")

    page = text(response)
    assert "Délais de rendez-vous : Hauts-de-Seine (92)" in page
    assert (
        "Durée médiane d’un créneau libre (7 derniers jours) 10 min sur 3 créneaux disparus avant leur heure"
        in page
    )
    assert response.content.decode().count('<svg class="stats-chart"') == 3


def test_department_statistics_of_an_unknown_or_malformed_department_are_not_found(client, db):
    assert client.get("/statistiques/99").status_code == 404
    assert client.get("/statistiques/%3Cscript%3E").status_code == 404


def test_history_csv_lists_every_daily_figure(client, history):
    response = client.get("/statistiques/historique.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 90
    assert rows[0] == {
        "day": "2026-10-22",
        "scope": "",
        "reason": "PASSPORT",
        "town_halls": "10",
        "fresh_town_halls": "8",
        "median_days": "30.0",
        "p90_days": "40.0",
        "within_7_days": "2",
        "within_30_days": "6",
        "slots_week": "100",
    }


def test_lifetimes_csv_gives_each_bucket_in_minutes(client, db):
    SlotLifetime.objects.create(day=TODAY, department_code="92", bucket=bucket_of(10 * 60), count=3)
    SlotLifetime.objects.create(day=TODAY, department_code="92", bucket=bucket_of(400 * 86400), count=1)

    response = client.get("/statistiques/duree-des-creneaux.csv")

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == [
        "day,department,lifetime_from_minutes,lifetime_to_minutes,slots",
        "2026-11-20,92,5,15,3",
        "2026-11-20,92,43200,,1",
    ]


def test_the_department_page_shows_its_statistics(client, history):
    make_commune(department="92")

    response = client.get("/departement/92")

    page = text(response)
    assert "Délais d’attente dans le département" in page
    assert (
        "Au relevé du 20 novembre 2026, la moitié des mairies suivies proposaient un premier créneau dans "
        "1 jour au plus" in page
    )
    assert 'href="/statistiques/92?motif=passeport"' in response.content.decode()


def test_the_town_hall_page_shows_its_own_history(client, frozen):
    town_hall = make_town_hall(commune=make_commune(department="92"))
    for offset, wait in enumerate((9, 7, None, 4)):
        town_hall_day(town_hall, TODAY - dt.timedelta(days=3 - offset), wait)

    response = client.get(f"/mairie/{town_hall.pk}")

    page = text(response)
    assert "Délai d’attente ces dernières semaines" in page
    assert "Au relevé du 20 novembre 2026, premier créneau libre pour une personne : 4 jours." in page
    assert "Sur la période, de 4 à 9 jours." in page
    assert "aucun créneau publié" in page  # the day without a slot, in the table


def test_a_town_hall_without_history_shows_no_statistics(client, frozen):
    town_hall = make_town_hall()

    assert "Délai d’attente ces dernières semaines" not in text(client.get(f"/mairie/{town_hall.pk}"))


def test_department_statistics_run_a_constant_number_of_queries(client, history, django_assert_num_queries):
    with django_assert_num_queries(3):  # the department, its history, its lifetimes
        client.get("/statistiques/92")
    for offset in range(30, 90):
        area_day(TODAY - dt.timedelta(days=offset), "92")
    SlotLifetime.objects.create(day=TODAY, department_code="92", bucket=bucket_of(600), count=40)

    with django_assert_num_queries(3):
        response = client.get("/statistiques/92")
    assert response.content.decode().count('<svg class="stats-chart"') == 3
