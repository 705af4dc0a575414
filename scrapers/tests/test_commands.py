from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from rdvpasseport.celery import app as celery_app
from scrapers.models import ScrapeRun, Source
from scrapers.tests.factories import TOKEN, make_source, paris

pytestmark = pytest.mark.django_db

NOW = paris(2026, 12, 1, 9, 0)
EXAMPLE = Path(__file__).resolve().parent.parent / "sources.example.yaml"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD = """
sources:
  - name: Éditeur exemple
    kind: ants
    url: https://editeur.example/api/ants
    auth_header: X-HUB-RDV-AUTH-TOKEN
    token: "abc123"
    interval_minutes: 5
    max_documents: 3
  - name: Autre éditeur
    kind: ants
    url: https://autre.example/api
    token_env: AUTRE_TOKEN
    enabled: false
    discovery_interval_hours: 12
    horizon_days: 30
    config: {reasons: [PASSPORT]}
"""


# load_sources


def test_load_sources_creates_sources_then_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTRE_TOKEN", "from-env")
    path = write(tmp_path, GOOD)

    first = run("load_sources", path)
    second = run("load_sources", path)

    assert "Created 2 source(s)" in first
    assert "Unchanged 2 source(s)" in second
    assert Source.objects.count() == 2
    editeur = Source.objects.get(name="Éditeur exemple")
    assert (editeur.kind, editeur.base_url, editeur.token) == (
        "ants",
        "https://editeur.example/api/ants",
        "abc123",
    )
    assert (editeur.interval_minutes, editeur.max_documents, editeur.enabled) == (5, 3, True)
    autre = Source.objects.get(name="Autre éditeur")
    assert (autre.token, autre.enabled, autre.discovery_interval_hours) == ("from-env", False, 12)
    assert (autre.config, autre.horizon_days) == ({"reasons": ["PASSPORT"]}, 30)
    assert autre.max_documents == 4  # not given: an ANTS source asks for 1 to 4 people
    assert "abc123" not in first + second
    assert "from-env" not in first + second


def test_load_sources_updates_by_name_and_keeps_what_the_file_leaves_out(tmp_path):
    source = make_source(name="Éditeur exemple", token="kept-token", interval_minutes=10, paused=True)
    path = write(
        tmp_path,
        "sources:\n  - name: Éditeur exemple\n    kind: ants\n    url: https://new.example/api\n",
    )

    output = run("load_sources", path)

    assert "Updated 1 source(s): Éditeur exemple" in output
    source.refresh_from_db()
    assert source.base_url == "https://new.example/api"
    assert (source.token, source.interval_minutes, source.paused) == ("kept-token", 10, True)
    assert Source.objects.count() == 1


def test_the_example_file_loads_as_it_is_with_its_sources_disabled():
    output = run("load_sources", str(EXAMPLE))

    assert "Created 2 source(s)" in output
    assert set(Source.objects.values_list("kind", "enabled")) == {("ants", False), ("ics", False)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [\n  - name: x\n", "not valid YAML at line"),
        ("- name: x\n", 'must be a mapping with a "sources" list'),
        ("sources: []\n", '"sources" must be a non-empty list'),
        (
            "sources:\n  - name: A\n    kind: nope\n    url: https://a.example/\n",
            "unknown kind 'nope'; expected one of: ants",
        ),
        ("sources:\n  - name: A\n    kind: ants\n", 'sources[1] (A): "url" is missing'),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: ftp://a.example/\n",
            '"url" is not a valid http(s) URL',
        ),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n    config: {batch_size: 500}\n",
            "sources[1] (A): config.batch_size: must be at most 100",
        ),
        (
            "sources:\n  - name: Feed\n    kind: ics\n    url: https://a.example/f.ics\n",
            "sources[1] (Feed): config.town_hall: is required",
        ),
        ("sources:\n  - kind: ants\n    url: https://a.example/\n", '"name" is missing or empty'),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n    interval_minutes: 0\n",
            '"interval_minutes" must be a whole number from 1',
        ),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n    max_documents: 9\n",
            '"max_documents" must be a whole number from 1 to 6',
        ),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n    enabled: maybe\n",
            '"enabled" must be true or false',
        ),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n    intervall: 5\n",
            "unknown key(s) intervall",
        ),
        (
            # Unquoted, YAML reads this token as the octal number 83.
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n    token: 0123\n",
            '"token" must be a string',
        ),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n"
            "    token_env: NOT_SET_ANYWHERE\n",
            "the environment variable NOT_SET_ANYWHERE is not set",
        ),
        (
            "sources:\n  - name: A\n    kind: ants\n    url: https://a.example/\n"
            "  - name: A\n    kind: ants\n    url: https://b.example/\n",
            "the name 'A' appears twice",
        ),
    ],
)
def test_load_sources_rejects_a_bad_file_precisely_and_loads_nothing(tmp_path, text, message):
    path = write(tmp_path, text)

    with pytest.raises(CommandError) as raised:
        run("load_sources", path)

    assert message in str(raised.value)
    assert not Source.objects.exists()


def test_one_bad_entry_stops_the_whole_file(tmp_path):
    text = GOOD.replace(
        "kind: ants\n    url: https://autre", "kind: ants\n    url: not-a-url\n    x: https://autre"
    )

    with pytest.raises(CommandError, match="sources\\[2\\] \\(Autre éditeur\\)"):
        run("load_sources", write(tmp_path, text))

    assert not Source.objects.exists()


def test_load_sources_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("load_sources", str(tmp_path / "missing.yaml"))


# scrape


@pytest.fixture
def ants(httpserver, settings):
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{httpserver.port}"]
    settings.SCRAPER_POLITE_DELAY = 0
    httpserver.expect_request("/api/getManagedMeetingPoints").respond_with_json(
        [
            {
                "id": "7",
                "name": "Mairie de Grenoble",
                "longitude": 5.7363,
                "latitude": 45.1866,
                "public_entry_address": "11 boulevard Jean-Pain",
                "zip_code": "38000",
                "city_name": "GRENOBLE",
            }
        ]
    )
    httpserver.expect_request("/api/availableTimeSlots").respond_with_json(
        {"7": [{"datetime": "2026-12-10T09:00Z", "callback_url": "https://rdv.example/7/1"}]}
    )
    return httpserver


def test_scrape_sync_scrapes_a_real_server_and_prints_a_summary(ants):
    source = make_source(name="Grenoble", base_url=ants.url_for("/api"), config={"reasons": ["CNI"]})

    with time_machine.travel(NOW, tick=False):
        output = run("scrape", "--source", str(source.pk), "--sync")

    assert f"#{source.pk} Grenoble: success; 1 town hall(s); slots 1 new, 0 kept, 0 removed" in output
    assert "2 HTTP call(s)" in output
    run_ = ScrapeRun.objects.get(source=source)
    assert run_.status == ScrapeRun.Status.SUCCESS
    assert source.meeting_points.get().town_hall.slots.get().starts_at == paris(2026, 12, 10, 9)


def test_scrape_sync_reports_a_failed_source_with_a_non_zero_exit(httpserver, settings):
    settings.SCRAPER_ALLOWED_HOSTS = [f"127.0.0.1:{httpserver.port}"]
    settings.SCRAPER_POLITE_DELAY = 0
    httpserver.expect_request("/api/getManagedMeetingPoints").respond_with_data(f"bad {TOKEN}", status=401)
    source = make_source(name="Broken", base_url=httpserver.url_for("/api"))
    out = StringIO()

    with pytest.raises(CommandError, match="1 of 1 source"):
        call_command("scrape", "--source", str(source.pk), "--sync", stdout=out)

    assert "Broken: failed" in out.getvalue()
    assert "HTTP 401" in out.getvalue()
    assert TOKEN not in out.getvalue()


def test_scrape_all_sync_skips_paused_and_disabled_sources(ants):
    active = make_source(base_url=ants.url_for("/api"), config={"reasons": ["CNI"]})
    make_source(paused=True, base_url=ants.url_for("/api"))
    make_source(enabled=False, base_url=ants.url_for("/api"))

    with time_machine.travel(NOW, tick=False):
        output = run("scrape", "--all", "--sync")

    assert list(ScrapeRun.objects.values_list("source_id", flat=True)) == [active.pk]
    assert output.count(": success;") == 1


def test_scrape_of_an_unknown_source_fails_clearly():
    with pytest.raises(CommandError, match="No source with id 424242"):
        run("scrape", "--source", "424242", "--sync")


def test_scrape_without_sync_enqueues_one_task_per_source():
    sources = [make_source(), make_source()]
    with celery_app.connection_for_write() as connection:
        client = connection.default_channel.client
        client.delete("celery")

        output = run("scrape", "--source", str(sources[0].pk), "--source", str(sources[1].pk))

        messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
        client.delete("celery")
    assert "Enqueued 2 scrape task(s)" in output
    tasks = sorted((m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages)
    assert tasks == sorted(("scrapers.tasks.source_scrape", f"({s.pk},)") for s in sources)
    assert not ScrapeRun.objects.exists()


def test_scrape_sync_skips_a_source_another_worker_holds():
    source = make_source(claimed_until=dt.datetime(2999, 1, 1, tzinfo=dt.UTC))

    output = run("scrape", "--source", str(source.pk), "--sync")

    assert "skipped, another worker is scraping it" in output
