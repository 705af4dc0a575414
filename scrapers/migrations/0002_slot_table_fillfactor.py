"""Leave room in every page of the slot table for the ingestion's in-place updates.

Every scrape refreshes `last_seen` (and possibly the booking URL and capacity) of all the slots it sees
again. None of these columns is indexed, so PostgreSQL can update such a row in place (a HOT update, no new
index entries) when its page has free space. Keeping 30 % of each page free makes the steady-state ingestion
several times faster. This changes a storage parameter only, not the model: PostgreSQL only.
"""

from django.db import migrations


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("slots", "Slot")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("slots", "Slot")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("scrapers", "0001_initial"),
        ("slots", "0001_initial"),
    ]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset, elidable=False)]
