"""Slots belong to the source that offered them: two sources following one town hall keep their own slots.

Existing slots are given the source of their town hall's meeting point (the first, when several); slots of a
town hall no source follows any more are deleted (no run would ever refresh or remove them).
"""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
UPDATE slots_slot SET source_id = (
    SELECT MIN(mp.source_id) FROM scrapers_meetingpoint mp WHERE mp.town_hall_id = slots_slot.town_hall_id
);
DELETE FROM slots_slot WHERE source_id IS NULL;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("scrapers", "0004_source_auth_header_default_empty"),
        ("slots", "0002_town_hall_locked_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="slot",
            name="source",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="slots",
                to="scrapers.source",
            ),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="slot",
            name="source",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="slots", to="scrapers.source"
            ),
        ),
        migrations.RemoveConstraint(model_name="slot", name="slot_unique_per_reason"),
        migrations.AddConstraint(
            model_name="slot",
            constraint=models.UniqueConstraint(
                fields=("source", "town_hall", "starts_at", "reason"), name="slot_unique_per_source"
            ),
        ),
    ]
