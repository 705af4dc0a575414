"""setup_demo registers the demo source, or removes it with its slots; the banner follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django.utils import timezone

from demo.context_processors import demo_banner
from scrapers.models import MeetingPoint, Source
from slots.models import Slot, TownHall
from slots.tests.factories import make_slot, make_town_hall

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def setup_demo(*args: str) -> str:
    out = StringIO()
    call_command("setup_demo", *args, stdout=out)
    return out.getvalue()


def serve(source: Source, town_hall: TownHall, external_id: str) -> None:
    MeetingPoint.objects.create(source=source, external_id=external_id, town_hall=town_hall)


def banner() -> bool:
    return demo_banner(RequestFactory().get("/"))["demo_banner"]


def soon() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=3)


@override_settings(DEMO=True)
def test_setup_demo_registers_the_demo_source_once() -> None:
    setup_demo()
    first = Source.objects.get(is_demo=True)
    first.paused = True  # an operator's choice
    first.token = "changed"
    first.save()

    output = setup_demo()

    source = Source.objects.get(is_demo=True)
    assert source.pk == first.pk
    assert "registered" in output
    assert source.kind == "ants"
    assert source.base_url == "http://127.0.0.1:8765"
    assert source.token == "demo-token"
    assert source.auth_header == "X-HUB-RDV-AUTH-TOKEN"
    assert source.enabled
    assert source.paused
    assert source.interval_minutes == 1
    assert source.max_documents == 3


@override_settings(DEMO=True)
def test_setup_demo_makes_a_new_demo_source_due_at_once() -> None:
    setup_demo()

    assert Source.objects.due().filter(is_demo=True).exists()


def test_setup_demo_with_demo_off_removes_the_demo_source_and_its_slots() -> None:
    with override_settings(DEMO=True):
        setup_demo()
    demo = Source.objects.get(is_demo=True)
    real = Source.objects.create(name="Real editor", kind="ants", base_url="https://editor.example.fr/api")
    only_demo = make_town_hall(name="Mairie de Clichy", checked_at=timezone.now())
    shared = make_town_hall(name="Mairie de Grenoble")
    serve(demo, only_demo, "92024")
    serve(demo, shared, "38185")
    serve(real, shared, "grenoble")
    make_slot(only_demo, soon())
    make_slot(shared, soon(), source=demo)  # the demo's own slot at a town hall another source follows too
    kept = make_slot(shared, soon(), source=real)

    with override_settings(DEMO=False):
        output = setup_demo()

    assert "removed" in output
    assert not Source.objects.filter(is_demo=True).exists()
    assert list(Slot.objects.all()) == [kept]
    only_demo.refresh_from_db()
    assert only_demo.online_booking is False
    assert only_demo.checked_at is None
    shared.refresh_from_db()
    assert shared.online_booking is True
    assert Source.objects.filter(pk=real.pk).exists()


@override_settings(DEMO=False)
def test_setup_demo_with_demo_off_and_no_demo_source_changes_nothing() -> None:
    Source.objects.create(name="Real editor", kind="ants", base_url="https://editor.example.fr/api")

    setup_demo()

    assert Source.objects.count() == 1


@override_settings(DEMO=True)
def test_setup_demo_tells_the_makefile_that_the_demo_is_on() -> None:
    output = setup_demo("--is-enabled")

    assert output.strip() == "1"
    assert not Source.objects.exists()


@override_settings(DEMO=False)
def test_setup_demo_tells_the_makefile_that_the_demo_is_off_by_its_exit_status() -> None:
    with pytest.raises(SystemExit) as exit_info:
        setup_demo("--is-enabled")

    assert exit_info.value.code == 1


def test_banner_shows_while_the_demo_source_has_slots() -> None:
    demo = Source.objects.create(name="Demo", kind="ants", base_url="http://127.0.0.1:8765", is_demo=True)
    town_hall = make_town_hall()
    serve(demo, town_hall, "92024")
    make_slot(town_hall, soon())

    assert banner() is True


def test_banner_is_hidden_without_demo_slots() -> None:
    real = Source.objects.create(name="Real editor", kind="ants", base_url="https://editor.example.fr/api")
    town_hall = make_town_hall()
    serve(real, town_hall, "1")
    make_slot(town_hall, soon())
    Source.objects.create(name="Demo", kind="ants", base_url="http://127.0.0.1:8765", is_demo=True)

    assert banner() is False


def test_banner_is_hidden_when_the_demo_source_is_disabled() -> None:
    demo = Source.objects.create(
        name="Demo", kind="ants", base_url="http://127.0.0.1:8765", is_demo=True, enabled=False
    )
    town_hall = make_town_hall()
    serve(demo, town_hall, "92024")
    make_slot(town_hall, soon())

    assert banner() is False


def test_banner_disappears_as_soon_as_the_demo_is_turned_off() -> None:
    with override_settings(DEMO=True):
        setup_demo()
    town_hall = make_town_hall()
    serve(Source.objects.get(is_demo=True), town_hall, "92024")
    make_slot(town_hall, soon())
    assert banner() is True

    with override_settings(DEMO=False):
        setup_demo()

    assert banner() is False


def test_banner_costs_no_query_once_cached(django_assert_num_queries) -> None:  # noqa: ANN001
    banner()

    with django_assert_num_queries(0):
        assert banner() is False
