"""The admin pages of the reference data."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from communes.importer import ImportSummary
from communes.models import Commune


def test_communes_can_be_searched_by_name_insee_code_or_postcode(
    france: ImportSummary, admin_client: Client
) -> None:
    url = reverse("admin:communes_commune_changelist")
    for query in ("92110", "92024", "Clichy", "lhay les roses", "asnieres sur seine"):
        response = admin_client.get(url, {"q": query})
        assert response.status_code == 200
        names = {commune.name for commune in response.context["cl"].result_list}
        assert names, query
        assert names <= {"Clichy", "Clichy-sous-Bois", "L'Haÿ-les-Roses", "Asnières-sur-Seine"}, query
    response = admin_client.get(url, {"department__code__exact": "75", "kind__exact": "ARM"})
    assert response.context["cl"].result_count == 20
    response = admin_client.get(url, {"location_source__exact": "related"})
    assert response.context["cl"].result_count == 3


def test_moving_a_point_in_the_admin_marks_it_as_manual(france: ImportSummary, admin_client: Client) -> None:
    clichy = Commune.objects.get(insee="92024")
    url = reverse("admin:communes_commune_change", args=["92024"])
    response = admin_client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    inline_prefix = response.context["inline_admin_formsets"][0].formset.prefix
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(
        {
            "insee": "92024",
            "name": "Clichy",
            "kind": "COM",
            "department": "92",
            "lat": "48.9",
            "lon": "2.3",
            "location_source": "town_hall",
            "opening_hours": "[]",
            f"{inline_prefix}-TOTAL_FORMS": "0",  # the postcode links are left as they are
            f"{inline_prefix}-INITIAL_FORMS": "0",
        }
    )
    data.pop("parent", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302
    clichy.refresh_from_db()
    assert (clichy.lat, clichy.lon, clichy.location_source) == (48.9, 2.3, "manual")
    assert clichy.search_name == "clichy"
    assert list(clichy.postal_codes.values_list("code", flat=True)) == ["92110"]


def test_the_other_admin_pages_open(france: ImportSummary, admin_client: Client) -> None:
    for name in ("department", "postalcode", "referenceimport"):
        response = admin_client.get(reverse(f"admin:communes_{name}_changelist"))
        assert response.status_code == 200
    response = admin_client.get(reverse("admin:communes_postalcode_changelist"), {"q": "77130"})
    assert "Montereau-Fault-Yonne" in response.content.decode()
