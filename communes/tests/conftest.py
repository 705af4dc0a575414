"""The real reference data, imported once for the whole communes test package.

Importing the 16 default departments takes a few seconds, so it happens once, outside the per-test
transactions, and is removed when the package's tests are done: other apps' tests start from empty tables.
Tests of this package that build their own communes (with the factories) run before that import.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from communes.importer import ImportSummary, communes_import
from communes.models import Commune, Department, OutOfScopeCommune, PostalCode, ReferenceImport

_PACKAGE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within this package, run the tests that do not use the imported communes first (order kept)."""
    positions = [index for index, item in enumerate(items) if _PACKAGE in Path(item.path).resolve().parents]
    ours = [items[index] for index in positions]
    ours.sort(key=lambda item: "default_scope" in getattr(item, "fixturenames", ()))
    for index, item in zip(positions, ours, strict=True):
        items[index] = item


def _clear() -> None:
    PostalCode.objects.all().delete()
    Commune.objects.filter(parent__isnull=False).delete()
    Commune.objects.all().delete()
    Department.objects.all().delete()
    ReferenceImport.objects.all().delete()
    OutOfScopeCommune.objects.all().delete()


@pytest.fixture(scope="package")
def default_scope(django_db_setup: None, django_db_blocker: Any) -> Iterator[ImportSummary]:
    """The communes of DEFAULT_DEPARTMENTS, committed to the test database; the first import's summary."""
    with django_db_blocker.unblock():
        _clear()
        summary = communes_import()
    yield summary
    with django_db_blocker.unblock():
        _clear()


@pytest.fixture
def france(default_scope: ImportSummary, db: None) -> ImportSummary:
    """Database access in a rolled-back transaction, over the imported default departments."""
    return default_scope
