"""The README's connector table is the one generated from the kinds' Configs."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from scrapers.connectors import CONNECTOR_CLASSES, kind_options
from scrapers.connectors.doc import connectors_table, readme_with_table


def test_the_readme_connector_table_is_up_to_date() -> None:
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")

    assert readme_with_table(readme) == readme, "run: python manage.py connectors_doc --write"


def test_the_table_names_every_kind_and_option() -> None:
    table = connectors_table()

    for kind in CONNECTOR_CLASSES:
        assert f"**`{kind}`** options" in table
        for option in kind_options(kind):
            assert f"| `{option.name}` |" in table
