from __future__ import annotations

import re

import pytest

from slots.tests.factories import make_commune

pytestmark = pytest.mark.django_db


def suggest(client, query: str, **headers):
    return client.get("/autocomplete", {"q": query}, HTTP_HX_REQUEST="true", **headers)


def options(html: str) -> list[dict[str, str]]:
    return [
        {"id": option_id, "value": value, "insee": insee, "text": re.sub(r"<[^>]+>", "", inner)}
        for option_id, value, insee, inner in re.findall(
            r'<li role="option" id="([^"]+)" class="suggestion" aria-selected="false" '
            r'data-value="([^"]*)" data-insee="([^"]*)">(.*?)</li>',
            html,
        )
    ]


def live_status(html: str) -> str:
    match = re.search(r'<div id="q-status" hx-swap-oob="innerHTML">(.*?)</div>', html, re.S)
    assert match, "no out-of-band status"
    return " ".join(match[1].split())


@pytest.fixture
def communes(db):
    make_commune(
        "92024", name="Clichy", department="92", postcodes=("92110",), population=63_000, lat=48.90, lon=2.30
    )
    make_commune(
        "93014",
        name="Clichy-sous-Bois",
        department="93",
        postcodes=("93390",),
        population=29_000,
        lat=48.91,
        lon=2.55,
    )
    make_commune(
        "74010",
        name="Annecy",
        department="74",
        postcodes=("74000", "74370", "74600", "74940", "74960"),
        population=130_000,
        lat=45.90,
        lon=6.13,
    )


def test_it_suggests_communes_by_name_with_department_and_postcodes(client, communes):
    response = suggest(client, "clich")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert options(html) == [
        {
            "id": "q-option-0",
            "value": "Clichy (92)",
            "insee": "92024",
            "text": "Clichy Département 92 (92) · 92110",
        },
        {
            "id": "q-option-1",
            "value": "Clichy-sous-Bois (93)",
            "insee": "93014",
            "text": "Clichy-sous-Bois Département 93 (93) · 93390",
        },
    ]
    assert (
        live_status(html) == "2 communes proposées : flèches haut et bas pour choisir, Entrée pour valider."
    )


def test_it_suggests_communes_by_postcode(client, communes):
    html = suggest(client, "9211").content.decode()

    assert [option["value"] for option in options(html)] == ["Clichy (92)"]
    assert live_status(html).startswith("1 commune proposée")


def test_it_shows_three_postcodes_at_most(client, communes):
    [annecy] = options(suggest(client, "annecy").content.decode())

    assert annecy["text"].endswith("· 74000, 74370, 74600…")


def test_it_escapes_what_it_shows(client, db):
    make_commune("92099", name='Bourg "<b>"', department="92", postcodes=("92999",))

    html = suggest(client, "bourg").content.decode()

    assert "<b>" not in html
    assert 'data-value="Bourg &quot;&lt;b&gt;&quot; (92)"' in html


def test_empty_query_gives_an_empty_list_without_touching_the_database(
    client, communes, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = suggest(client, "   ")

    assert response.status_code == 200
    html = response.content.decode()
    assert options(html) == []
    assert live_status(html) == ""


def test_missing_query_gives_an_empty_list(client, communes):
    response = client.get("/autocomplete")

    assert response.status_code == 200
    assert options(response.content.decode()) == []


def test_no_match_is_announced(client, communes):
    html = suggest(client, "Atlantide").content.decode()

    assert options(html) == []
    assert live_status(html) == "Aucune commune ne correspond à cette saisie."


@pytest.mark.parametrize(
    "query",
    [
        "x" * 10_240,
        "9" * 10_240,
        "\x00\x01 clichy",
        "'; DROP TABLE communes_commune; --",
        "%_%",
        "2A",
        "<script>",
    ],
)
def test_odd_input_never_fails(client, communes, query):
    response = suggest(client, query)

    assert response.status_code == 200
    html = response.content.decode()
    assert len(html) < 2_000  # nothing of a huge input is echoed
    assert "<script" not in html


def test_it_runs_two_queries_whatever_the_number_of_suggestions(client, db, django_assert_num_queries):
    for n in range(12):
        make_commune(f"921{n:02d}", name=f"Saint-Martin-{n}", postcodes=(f"921{n:02d}", "92999"))
    client.get("/")  # warm the cached demo-banner flag

    with django_assert_num_queries(2):  # the communes, then their postcodes
        html = suggest(client, "saint martin").content.decode()

    assert len(options(html)) == 8
    assert [option["id"] for option in options(html)] == [f"q-option-{n}" for n in range(8)]


def test_answers_may_be_cached_by_the_browser(client, communes):
    response = suggest(client, "clich")

    assert "max-age=300" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]  # its status line is in the visitor's language


def test_it_only_answers_get(client):
    assert client.post("/autocomplete", {"q": "clichy"}).status_code == 405
