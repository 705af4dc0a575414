"""The admin tests of this package read the English admin (through the language cookie, as the switch sets it).

The French admin, its default, is checked page by page in tests/test_admin_french.py; the ops tests were
written against the English one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation


@pytest.fixture
def admin_client(admin_client: Client) -> Iterator[Client]:
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override(None):  # the requests activate English: the next tests get back what was active
        yield admin_client


@pytest.fixture
def client(client: Client) -> Iterator[Client]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override(None):  # the requests activate English: the next tests get back what was active
        yield client
