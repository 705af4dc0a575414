"""The import_town_halls command: equipped town halls no source follows, from a CSV file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from slots.models import TownHall
from slots.tests.factories import make_commune, make_town_hall

HEADER = "insee,name,address,postcode,phone,email,website,booking_url,booking,reasons"
GOOD = f"""{HEADER}
92004,Mairie d’Asnières-sur-Seine,1 place de l’Hôtel-de-Ville,92600,01 41 11 12 13,etat-civil@asnieres.example,https://www.asnieres.example/,,phone,CNI|PASSPORT
92044,Mairie de Levallois-Perret,place de la République,92300,,,,https://rdv.levallois.example/,online,PASSPORT
92044,Mairie annexe de Levallois,"12 rue Voltaire, bâtiment B",92300,,,,,walk_in,cni
"""


@pytest.fixture
def communes(db):
    return {
        "asnieres": make_commune("92004", name="Asnières-sur-Seine", lat=48.9110, lon=2.2890),
        "levallois": make_commune(
            "92044", name="Levallois-Perret", lat=48.8950, lon=2.2870, phone="01 49 68 30 00"
        ),
        "nowhere": make_commune("92999", name="Lieu-Perdu", lat=None, lon=None),
    }


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "mairies.csv"
    path.write_bytes(text.encode(encoding))
    return path


def run(path: Path, capsys) -> str:
    call_command("import_town_halls", str(path))
    return capsys.readouterr().out


def import_errors(path: Path, capsys) -> list[str]:
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_town_halls", str(path))
    return [line.removeprefix(f"{path}: ") for line in capsys.readouterr().err.splitlines()]


def test_it_creates_the_town_halls_of_a_good_file(tmp_path, capsys, communes):
    out = run(write(tmp_path, GOOD), capsys)

    assert "3 town hall(s) created, 0 updated, 0 unchanged." in out
    asnieres = TownHall.objects.get(name="Mairie d’Asnières-sur-Seine")
    assert asnieres.commune == communes["asnieres"]
    assert (asnieres.address, asnieres.postcode) == ("1 place de l’Hôtel-de-Ville", "92600")
    assert (asnieres.phone, asnieres.email) == ("01 41 11 12 13", "etat-civil@asnieres.example")
    assert asnieres.booking == TownHall.Booking.PHONE
    assert (asnieres.takes_cni, asnieres.takes_passport) == (True, True)
    # The commune's town-hall point, as no lat/lon column is given; no source follows it.
    assert (asnieres.lat, asnieres.lon, asnieres.location_locked) == (48.9110, 2.2890, False)
    assert (asnieres.online_booking, asnieres.active) == (False, True)
    levallois = TownHall.objects.get(name="Mairie de Levallois-Perret")
    assert (levallois.booking, levallois.booking_url) == ("online", "https://rdv.levallois.example/")
    assert (levallois.takes_cni, levallois.takes_passport) == (False, True)
    annex = TownHall.objects.get(name="Mairie annexe de Levallois")
    assert (annex.address, annex.booking) == ("12 rue Voltaire, bâtiment B", "walk_in")
    assert (annex.takes_cni, annex.takes_passport) == (True, False)


def test_a_second_run_changes_nothing_and_a_corrected_file_updates_in_place(tmp_path, capsys, communes):
    path = write(tmp_path, GOOD)
    run(path, capsys)
    ids = dict(TownHall.objects.values_list("name", "pk"))

    assert "0 town hall(s) created, 0 updated, 3 unchanged." in run(path, capsys)
    corrected = GOOD.replace("01 41 11 12 13,", "01 41 11 12 00,")
    assert "0 town hall(s) created, 1 updated, 2 unchanged." in run(write(tmp_path, corrected), capsys)

    assert dict(TownHall.objects.values_list("name", "pk")) == ids
    assert TownHall.objects.get(name="Mairie d’Asnières-sur-Seine").phone == "01 41 11 12 00"


def test_it_reads_semicolons_a_bom_and_its_own_lat_lon(tmp_path, capsys, communes):
    text = "\ufeffinsee;name;booking;reasons;lat;lon\n92004;Mairie d’Asnières;walk_in;;48,9121;2.2857\n"

    run(write(tmp_path, text), capsys)

    town_hall = TownHall.objects.get()
    assert (town_hall.name, town_hall.booking) == ("Mairie d’Asnières", "walk_in")
    assert (town_hall.lat, town_hall.lon, town_hall.location_locked) == (48.9121, 2.2857, True)
    assert (town_hall.takes_cni, town_hall.takes_passport) == (True, True)  # empty reasons: both


def test_a_missing_name_is_the_commune_s_town_hall(tmp_path, capsys, communes):
    run(write(tmp_path, "insee,phone\n92004,01 41 11 12 13\n92044,\n"), capsys)

    assert sorted(TownHall.objects.values_list("name", "booking")) == [
        ("Mairie de Levallois-Perret", "phone"),
        ("Mairie d’Asnières-sur-Seine", "phone"),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("99999,Mairie,,,,,,,phone,", "line 3, column insee: no commune with INSEE code '99999' is imported"),
        (",Mairie,,,,,,,phone,", "line 3, column insee: required"),
        ("92004,Mairie,,9260,,,,,phone,", "line 3, column postcode: '9260' is not a 5-digit postcode"),
        (
            "92004,Mairie,,,,pas-un-courriel,,,phone,",
            "line 3, column email: 'pas-un-courriel' is not an e-mail",
        ),
        (
            "92004,Mairie,,,,,www.mairie.fr,,phone,",
            "line 3, column website: 'www.mairie.fr' is not an http(s)",
        ),
        ("92004,Mairie,,,,,,ftp://rdv.fr/,online,", "line 3, column booking_url: 'ftp://rdv.fr/' is not an"),
        (
            "92004,Mairie,,,,,,,courrier,",
            "line 3, column booking: 'courrier' is not one of online, phone, walk_in",
        ),
        ("92004,Mairie,,,,,,,phone,CNI|VISA", "line 3, column reasons: unknown reason(s) VISA"),
        ("92999,Mairie,,,,,,,phone,", "line 3, column lat: Lieu-Perdu has no known point: give lat and lon"),
        ("92004,Mairie,,,,,,,phone", "line 3, column -: 9 cells where the header has 10"),
        (
            "92004,Mairie d’Asnières-sur-Seine,,,,,,,walk_in,",
            "line 3, column name: same commune and name as line 2",
        ),
    ],
)
def test_each_error_names_its_line_and_column_and_nothing_is_written(
    tmp_path, capsys, communes, line, expected
):
    good = "92004,Mairie d’Asnières-sur-Seine,,,,,,,phone,"
    last_good = "92044,Mairie de Levallois-Perret,,,,,,,phone,"
    path = write(tmp_path, f"{HEADER}\n{good}\n{line}\n{last_good}\n")

    errors = import_errors(path, capsys)

    assert len(errors) == 1
    assert errors[0].startswith(expected)
    assert not TownHall.objects.exists()


def test_every_wrong_line_is_reported_at_once(tmp_path, capsys, communes):
    text = f"{HEADER}\n99999,A,,,,,,,phone,\n92004,B,,,,,,,,\n92004,C,,1,,,,,fax,\n"

    errors = import_errors(write(tmp_path, text), capsys)

    assert [error.split(":")[0] for error in errors] == [
        "line 2, column insee",
        "line 4, column postcode",
        "line 4, column booking",
    ]
    assert not TownHall.objects.exists()


def test_lat_and_lon_go_together_and_must_be_degrees(tmp_path, capsys, communes):
    text = "insee,name,lat,lon\n92004,A,48.9,\n92004,B,nord,2.3\n92004,C,91,2.3\n"

    errors = import_errors(write(tmp_path, text), capsys)

    assert [error.split(":")[0] for error in errors] == [
        "line 2, column lon",
        "line 3, column lat",
        "line 4, column lat",
    ]


def test_line_numbers_count_a_quoted_field_spanning_two_lines(tmp_path, capsys, communes):
    text = 'insee,name,address\n92004,A,"1 place\nbâtiment B"\n92004,B,,extra\n'

    errors = import_errors(write(tmp_path, text), capsys)

    assert errors == ["line 4, column -: 4 cells where the header has 3"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,phone\nMairie,01\n", "line 1, column insee: required column missing"),
        ("insee,nom\n92004,Mairie\n", "line 1, column nom: unknown column"),
        ("", "line 1, column -: empty file"),
        ("insee,name\n", "line 2, column -: no town hall in the file"),
    ],
)
def test_a_wrong_header_or_an_empty_file_is_refused(tmp_path, capsys, communes, text, expected):
    errors = import_errors(write(tmp_path, text), capsys)

    assert errors[0].startswith(expected)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path, capsys, communes):
    path = write(
        tmp_path, "insee,name\n92004,Mairie de Levallois\n92004,Hôtel de ville\n", encoding="latin-1"
    )

    assert import_errors(path, capsys) == ["line 3, column -: not UTF-8 text (save the file as CSV UTF-8)"]
    assert not TownHall.objects.exists()


def test_it_joins_a_town_hall_a_source_follows_and_keeps_an_admin_s_point(tmp_path, capsys, communes):
    followed = make_town_hall(
        name="Mairie de Levallois-Perret",
        commune=communes["levallois"],
        lat=48.8951,
        lon=2.2871,
        location_locked=True,
        phone="",
    )

    out = run(write(tmp_path, "insee,name,phone\n92044,Mairie de Levallois-Perret,01 49 68 30 00\n"), capsys)

    assert "0 town hall(s) created, 1 updated" in out
    followed.refresh_from_db()
    assert followed.phone == "01 49 68 30 00"
    assert followed.locked_fields == ["name", "phone"]  # discovery no longer overwrites what the file says
    assert (followed.lat, followed.lon, followed.online_booking) == (48.8951, 2.2871, True)


def test_the_shipped_template_is_a_header_the_command_accepts(capsys, db):
    template = Path(__file__).resolve().parents[2] / "docs" / "town_halls_template.csv"

    errors = import_errors(template, capsys)

    assert template.read_text(encoding="utf-8").count("\n") == 1  # a header, no invented town hall
    assert errors == ["line 2, column -: no town hall in the file"]


def test_an_unreadable_file_is_a_command_error(tmp_path, db):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_town_halls", str(tmp_path / "absent.csv"))


def test_a_re_import_leaves_a_town_hall_an_admin_hid_hidden(tmp_path, capsys, communes):
    path = write(tmp_path, GOOD)
    run(path, capsys)
    TownHall.objects.filter(name="Mairie de Levallois-Perret").update(active=False)

    assert "3 unchanged" in run(path, capsys)

    assert TownHall.objects.get(name="Mairie de Levallois-Perret").active is False
