from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from opendata.models import ApiToken

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_the_token_once_and_stores_its_hash() -> None:
    out, err = StringIO(), StringIO()

    call_command("create_api_token", "Recette ANTS", stdout=out, stderr=err)

    clear = out.getvalue().strip()
    token = ApiToken.objects.get(name="Recette ANTS")
    assert token.hash == hashlib.sha256(clear.encode()).hexdigest()
    assert clear not in err.getvalue() and token.prefix in err.getvalue()


@pytest.mark.parametrize("name", ["", "  ", "x" * 101])
def test_create_api_token_refuses_a_bad_name(name: str) -> None:
    with pytest.raises(CommandError, match="1 to 100 characters"):
        call_command("create_api_token", name, stdout=StringIO(), stderr=StringIO())


def test_create_api_token_refuses_a_name_taken() -> None:
    call_command("create_api_token", "Portail", stdout=StringIO(), stderr=StringIO())

    with pytest.raises(CommandError, match="exists already"):
        call_command("create_api_token", "Portail", stdout=StringIO(), stderr=StringIO())
