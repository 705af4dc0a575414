"""Fixtures of the alerts tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alerts.tests.smtp import Inbox, smtp_server


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 that the alert emails go through."""
    with smtp_server(settings) as inbox:
        yield inbox
