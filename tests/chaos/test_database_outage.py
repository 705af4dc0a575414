"""PostgreSQL stops in the middle of a scrape: the task's retries back off, and the source gets a good run
within one interval once the database is back.

Before: the three retries were spent in 70 ms ("Retry in 0s"), and scraping resumed only when the claim
expired, 2 min 18 s after PostgreSQL came back.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import psycopg
from django.utils import timezone

from tests.chaos.conftest import PostgresProcess, send_scrape, wait_for, worker_env
from tests.test_deploy import run_python

INTERVAL = dt.timedelta(minutes=1)  # the shortest a source may have
RETRY = re.compile(r"Retry in (\d+(?:\.\d+)?)s")


def rows(postgres: PostgresProcess, sql: str) -> list[tuple]:
    """Rows read from our own PostgreSQL, or [] while it does not answer."""
    try:
        with psycopg.connect(postgres.url.replace("postgres://", "postgresql://"), connect_timeout=5) as db:
            return db.execute(sql).fetchall()
    except psycopg.OperationalError:
        return []


def test_retries_back_off_and_the_source_resumes_after_a_database_outage(
    own_postgres, own_redis, ants_server, workers, tmp_path: Path
):
    env = worker_env(database_url=own_postgres.url, redis_url=own_redis.url, ants=ants_server)
    migrated = run_python(["manage.py", "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  - name: Éditeur\n    kind: ants\n    url: {ants_server.base_url}\n"
        f"    interval_minutes: {INTERVAL.seconds // 60}\n    config: {{reasons: [CNI]}}\n"
    )
    loaded = run_python(["manage.py", "load_sources", str(tmp_path / "sources.yaml")], env)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    [(source_id,)] = rows(own_postgres, "SELECT id FROM scrapers_source")
    # Not due when the worker starts (a starting worker dispatches due sources): the one scrape is ours.
    with psycopg.connect(own_postgres.url.replace("postgres://", "postgresql://"), autocommit=True) as db:
        db.execute("UPDATE scrapers_source SET next_run_at = now() + interval '1 hour'")
    day = timezone.localdate() + dt.timedelta(days=3)
    ants_server.meeting_points = [
        {"id": "g1", "name": "Mairie de Grenoble", "zip_code": "38000", "city_name": "GRENOBLE"}
    ]
    ants_server.slots = {
        "g1": [
            {"datetime": f"{day:%Y-%m-%d}T{hour:02d}:00Z", "callback_url": "https://rdv.example/g1"}
            for hour in (9, 10)
        ]
    }
    ants_server.hold()
    worker = workers("worker", env)
    worker.wait_ready()

    send_scrape(own_redis.url, [source_id])
    wait_for(ants_server.slot_requested.is_set, timeout=60, what="the worker to ask for slots")
    own_postgres.stop()  # while the worker waits for the editor: its answer finds no database
    ants_server.release()
    # Two failed attempts: the one cut off while writing, and a retry while the database is still down.
    wait_for(lambda: len(RETRY.findall(worker.log())) >= 2, timeout=60, what="two retries")
    own_postgres.start()

    succeeded = wait_for(
        lambda: rows(own_postgres, "SELECT id FROM scrapers_scraperun WHERE status = 'success'"),
        timeout=INTERVAL.total_seconds(),
        what="a successful run within one interval after PostgreSQL returned",
    )
    countdowns = [float(seconds) for seconds in RETRY.findall(worker.log())]
    # Two at least: on a loaded machine PostgreSQL may take long enough to start for a third one.
    assert len(countdowns) >= 2, worker.log()
    assert countdowns[0] >= 1, countdowns  # not spent at once
    assert countdowns == sorted(set(countdowns)), countdowns  # and backing off
    assert len(succeeded) == 1
    assert rows(own_postgres, "SELECT count(*) FROM slots_slot") == [(2,)]
    [(claimed_until, last_success_at)] = rows(
        own_postgres, f"SELECT claimed_until, last_success_at FROM scrapers_source WHERE id = {source_id}"
    )
    assert claimed_until is None
    assert last_success_at is not None
