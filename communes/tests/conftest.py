"""The real reference data, imported once for the whole communes test package.

Importing the 16 default departments takes a few seconds, so it happens once, outside the per-test
transactions, and is removed when the package's tests are done: other apps' tests start from empty tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from communes.models import Commune, Department, PostalCode, ReferenceImport
from communes.services import ImportSummary, communes_import


def _clear() -> None:
    PostalCode.objects.all().delete()
    Commune.objects.filter(parent__isnull=False).delete()
    Commune.objects.all().delete()
    Department.objects.all().delete()
    ReferenceImport.objects.all().delete()


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
