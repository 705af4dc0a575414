"""The summary's functions, made to cost what their input does whatever the planner estimates.

- The UPDATE trigger finds the changed slots with EXCEPT, not a join of its transition tables. Transition
  tables have no statistics: the planner joined the old and new rows on id with a nested loop, whose cost is
  the square of the rows updated (the ingestion refreshes every slot a run finds again: 630 slots took 30 ms
  to find that nothing the summary reads had changed). EXCEPT hashes or sorts both sides.
- The refresh finds the summary rows to delete by grouping, not with an anti-join whose plan depended on the
  estimates (planned for one row of fresh, it compared 4.5 million pairs for 3,000 keys).
- Both run with enough work_mem for a large batch (a first collection, a purge) to be sorted in memory
  (200,000 new slots spilled 26 MB to disk), and without JIT compilation.
"""

import importlib

from django.db import migrations

COLUMNS = "id, town_hall_id, reason, starts_at, people_max, booking_url"
# While they run: a large batch (a purge, a first collection) sorted and grouped in memory, and no JIT
# compilation, whose hundreds of milliseconds the planner's estimates for these statements would buy for nothing.
SETTINGS = "SET work_mem = '64MB' SET jit = off"

CREATE = f"""
CREATE OR REPLACE FUNCTION slots_slotday_refresh(th_ids bigint[], reasons text[], days date[])
RETURNS void LANGUAGE plpgsql
{SETTINGS} AS $$
BEGIN
    -- Its own statement: the refresh below then reads what a concurrent writer of these town halls committed.
    PERFORM pg_advisory_xact_lock(727011, t::int)
    FROM (SELECT DISTINCT t FROM unnest(th_ids) AS t ORDER BY t) AS locked;

    WITH keys AS (
        SELECT DISTINCT k.town_hall_id, k.reason, k.day
        FROM unnest(th_ids, reasons, days) AS k(town_hall_id, reason, day)
    ),
    starts AS (
        SELECT s.town_hall_id, s.reason, k.day, s.starts_at,
               CASE WHEN bool_or(s.people_max IS NULL) THEN 32767 ELSE max(s.people_max) END AS capacity,
               coalesce(max(s.booking_url) FILTER (WHERE s.booking_url <> ''), '') AS booking_url
        FROM keys AS k
        JOIN slots_slot AS s
          ON s.town_hall_id = k.town_hall_id AND s.reason = k.reason
         AND s.starts_at >= (k.day::timestamp AT TIME ZONE 'Europe/Paris')
         AND s.starts_at < ((k.day + 1)::timestamp AT TIME ZONE 'Europe/Paris')
        GROUP BY s.town_hall_id, s.reason, k.day, s.starts_at
    ),
    fresh AS (
        SELECT town_hall_id, reason, day, capacity, count(*) AS count, min(starts_at) AS first_at,
               (array_agg(booking_url ORDER BY starts_at))[1] AS first_url
        FROM starts
        GROUP BY town_hall_id, reason, day, capacity
    ),
    -- The summary rows of these keys that fresh no longer has: a grouping, linear whatever the estimates.
    gone AS (
        DELETE FROM slots_slotday AS d
        WHERE d.id = ANY(ARRAY(
            SELECT max(id) FROM (
                SELECT d.id, d.town_hall_id, d.reason::text AS reason, d.day, d.capacity
                FROM keys AS k
                JOIN slots_slotday AS d
                  ON d.town_hall_id = k.town_hall_id AND d.reason = k.reason AND d.day = k.day
                UNION ALL
                SELECT NULL, town_hall_id, reason, day, capacity FROM fresh
            ) AS sides
            GROUP BY town_hall_id, reason, day, capacity
            HAVING count(id) = count(*)
        ))
    )
    INSERT INTO slots_slotday AS d (town_hall_id, reason, day, capacity, count, first_at, first_url)
    SELECT town_hall_id, reason, day, capacity, count, first_at, first_url FROM fresh
    ORDER BY town_hall_id, reason, day, capacity
    ON CONFLICT (town_hall_id, reason, day, capacity) DO UPDATE
        SET count = EXCLUDED.count, first_at = EXCLUDED.first_at, first_url = EXCLUDED.first_url
        WHERE (d.count, d.first_at, d.first_url)
              IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.first_at, EXCLUDED.first_url);
END
$$;

CREATE OR REPLACE FUNCTION slots_slotday_updated() RETURNS trigger LANGUAGE plpgsql
{SETTINGS} AS $$
BEGIN
    PERFORM slots_slotday_refresh(array_agg(town_hall_id), array_agg(reason), array_agg(day))
    FROM (
        SELECT DISTINCT town_hall_id, reason::text, (starts_at AT TIME ZONE 'Europe/Paris')::date AS day
        FROM (
            (SELECT {COLUMNS} FROM new_rows EXCEPT SELECT {COLUMNS} FROM old_rows)
            UNION ALL
            (SELECT {COLUMNS} FROM old_rows EXCEPT SELECT {COLUMNS} FROM new_rows)
        ) AS changed
    ) AS k
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
"""

# As migration 0007 created them (its functions, without its triggers and backfill).
_CREATED = importlib.import_module("slots.migrations.0007_slot_day_triggers").FUNCTIONS
PREVIOUS = _CREATED[: _CREATED.index("CREATE TRIGGER")]


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("slots", "0009_slot_reason_start_dropped")]

    operations = [migrations.RunPython(_run(CREATE), _run(PREVIOUS), elidable=False)]
