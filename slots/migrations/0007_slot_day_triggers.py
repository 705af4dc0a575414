"""Keep slots_slotday exact on PostgreSQL: statement-level triggers on the slot table, then a backfill.

Every statement writing slots (the ingestion's upsert and delete, the purge, merges, detaches, cascades from a
deleted source or town hall) refreshes the summary rows of the (town hall, reason, Paris day) it touched, in the
same transaction. An UPDATE that changes none of the columns the summary reads (the ingestion's last_seen
refresh of every kept slot) refreshes nothing. A transaction-level advisory lock per town hall, taken in its own
statement before the refresh reads the slots, makes two sources of one town hall refresh it one after the other,
each reading what the other committed (READ COMMITTED takes a new snapshot per statement of a PL/pgSQL function).
Other databases (SQLite for `make run` on a bare machine) rebuild it from Python: slots.summary.slots_changed.
"""

from django.db import migrations

# Paris days: the town halls are French, and so is the search's calendar (settings.TIME_ZONE).
FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION slots_slotday_refresh(th_ids bigint[], reasons text[], days date[])
RETURNS void LANGUAGE plpgsql AS $$
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
    gone AS (
        DELETE FROM slots_slotday AS d
        USING keys AS k
        WHERE d.town_hall_id = k.town_hall_id AND d.reason = k.reason AND d.day = k.day
          AND NOT EXISTS (
              SELECT 1 FROM fresh AS f
              WHERE f.town_hall_id = d.town_hall_id AND f.reason = d.reason AND f.day = d.day
                AND f.capacity = d.capacity
          )
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

CREATE OR REPLACE FUNCTION slots_slotday_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM slots_slotday_refresh(array_agg(town_hall_id), array_agg(reason), array_agg(day))
    FROM (
        SELECT DISTINCT town_hall_id, reason::text, (starts_at AT TIME ZONE 'Europe/Paris')::date AS day
        FROM new_rows
    ) AS k
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION slots_slotday_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM slots_slotday_refresh(array_agg(town_hall_id), array_agg(reason), array_agg(day))
    FROM (
        SELECT DISTINCT town_hall_id, reason::text, (starts_at AT TIME ZONE 'Europe/Paris')::date AS day
        FROM old_rows
    ) AS k
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION slots_slotday_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM slots_slotday_refresh(array_agg(town_hall_id), array_agg(reason), array_agg(day))
    FROM (
        SELECT DISTINCT side.town_hall_id, side.reason::text,
               (side.starts_at AT TIME ZONE 'Europe/Paris')::date AS day
        FROM new_rows AS n
        JOIN old_rows AS o ON o.id = n.id
        CROSS JOIN LATERAL (
            VALUES (n.town_hall_id, n.reason, n.starts_at), (o.town_hall_id, o.reason, o.starts_at)
        ) AS side(town_hall_id, reason, starts_at)
        WHERE (n.town_hall_id, n.reason, n.starts_at, n.people_max, n.booking_url)
              IS DISTINCT FROM (o.town_hall_id, o.reason, o.starts_at, o.people_max, o.booking_url)
    ) AS k
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER slots_slotday_inserted AFTER INSERT ON slots_slot
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION slots_slotday_inserted();
CREATE TRIGGER slots_slotday_deleted AFTER DELETE ON slots_slot
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION slots_slotday_deleted();
CREATE TRIGGER slots_slotday_updated AFTER UPDATE ON slots_slot
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION slots_slotday_updated();

-- The slots already there.
SELECT slots_slotday_refresh(array_agg(town_hall_id), array_agg(reason), array_agg(day))
FROM (
    SELECT DISTINCT town_hall_id, reason::text, (starts_at AT TIME ZONE 'Europe/Paris')::date AS day
    FROM slots_slot
) AS k
HAVING count(*) > 0;
"""

DROP = """
DROP TRIGGER IF EXISTS slots_slotday_inserted ON slots_slot;
DROP TRIGGER IF EXISTS slots_slotday_deleted ON slots_slot;
DROP TRIGGER IF EXISTS slots_slotday_updated ON slots_slot;
DROP FUNCTION IF EXISTS slots_slotday_inserted();
DROP FUNCTION IF EXISTS slots_slotday_deleted();
DROP FUNCTION IF EXISTS slots_slotday_updated();
DROP FUNCTION IF EXISTS slots_slotday_refresh(bigint[], text[], date[]);
"""


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Without parameters: psycopg sends the statements as one simple query.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FUNCTIONS)
        return
    from slots.summary import slot_days_rebuild

    slot_days_rebuild(
        town_hall_ids=None,
        slot_model=apps.get_model("slots", "Slot"),
        day_model=apps.get_model("slots", "SlotDay"),
    )


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("slots", "0006_slot_day")]

    operations = [migrations.RunPython(triggers_create, triggers_drop, elidable=False)]
