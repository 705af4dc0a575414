"""Geocoding what citizens type: a commune name, a postcode or an INSEE code, to communes and a point.

Also the suggestions of the autocomplete. Only the imported reference data is read: no network service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BigIntegerField, BooleanField, Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from .france import INSEE_CODE
from .models import Commune, Department, OutOfScopeCommune, PostalCode
from .names import LEADING_ARTICLES, split_article

MAX_QUERY_LENGTH = 200
MAX_PLACES = 10
_CANDIDATES = 30  # rows fetched for a name, enough to see homonyms among many prefix matches
EXACT_NAME_WEIGHT = 10
PARTIAL_WORD_DIVISOR = 10
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GLUED_ELISION = re.compile(r"^l[aeiouyh]")
_POSTCODE = re.compile(r"^(\d{2}) ?(\d{3})$")
_QUALIFIER = re.compile(r"^\d{5}$|^\d{2,3}$|^2[ab]$")
# "Paris 17", "paris 17e", "Lyon 1er arrondissement", "marseille 8eme arr"
_ARRONDISSEMENT = re.compile(
    r"^(?P<city>paris|lyon|marseille) (?P<number>\d{1,2}) ?(?:er|e|eme|ieme|em)?(?: arrondissement| arr)?$"
)
_ARRONDISSEMENT_CODES = {"paris": ("751", 20), "lyon": ("6938", 9), "marseille": ("132", 16)}


class GeocodingError(Exception):
    """What a citizen typed designates no known commune; `message` says so in French."""

    def __init__(self, message: str, *, code: str = "unknown") -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # "empty", "too_long", "invalid", "unknown" or "not_covered"


@dataclass(frozen=True)
class Place:
    """One resolved candidate: a commune and the point to search from."""

    commune: Commune
    lat: float
    lon: float
    postcode: str | None  # the postcode typed, when the query was a postcode


@dataclass(frozen=True)
class GeocodeResult:
    """The communes a query designates.

    `places` is ranked best first and `places[0]` is the search origin. For a name, `places` also lists
    the other communes whose name starts the same way (up to MAX_PLACES); `ambiguous` is false only when the
    best candidate is the one commune bearing exactly that name, else the citizen should be offered the
    list. For a postcode shared by several communes, `places` holds the most populous one and `others` the
    rest, in alphabetical order.
    """

    query: str
    places: list[Place]
    ambiguous: bool = False
    others: list[Commune] = field(default_factory=list)


def commune_point(commune: Commune) -> tuple[float, float] | None:
    """The (lat, lon) to search from for this commune, or None when its location is unknown."""
    if commune.lat is None or commune.lon is None:
        return None
    return commune.lat, commune.lon


def _quoted(query: str) -> str:
    return query if len(query) <= 60 else f"{query[:57]}…"


def _clean_query(query: object) -> str:
    text = query if isinstance(query, str) else ""
    if len(text) > MAX_QUERY_LENGTH * 4:  # don't even normalise a huge paste
        raise GeocodingError(
            _("Votre recherche est trop longue : %(max)d caractères au plus.") % {"max": MAX_QUERY_LENGTH},
            code="too_long",
        )
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    if not text:
        raise GeocodingError(_("Saisissez le nom d’une commune ou un code postal."), code="empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise GeocodingError(
            _("Votre recherche est trop longue : %(max)d caractères au plus.") % {"max": MAX_QUERY_LENGTH},
            code="too_long",
        )
    return text


def _place(commune: Commune, postcode: str | None = None) -> Place | None:
    point = commune_point(commune)
    return None if point is None else Place(commune=commune, lat=point[0], lon=point[1], postcode=postcode)


def _without_divided_cities(communes: list[Commune]) -> list[Commune]:
    """Drop Paris, Lyon or Marseille as a whole when the list holds some of their arrondissements."""
    parents = {commune.parent_id for commune in communes if commune.kind == Commune.Kind.ARRONDISSEMENT}
    return [commune for commune in communes if commune.insee not in parents]


def _by_population(commune: Commune) -> tuple[int, str]:
    return (-(commune.population or 0), commune.insee)


def _geocode_postcode(query: str, postcode: str, *, may_be_insee: bool) -> GeocodeResult:
    communes = _without_divided_cities(
        list(Commune.objects.filter(postal_codes__code=postcode).select_related("department"))
    )
    if not communes and may_be_insee:
        commune = Commune.objects.filter(insee=postcode.upper()).select_related("department").first()
        if commune is not None:
            return _single(query, commune)
    if not communes:
        # A postcode first: "13001" is Marseille's 1st arrondissement before Aix-en-Provence's INSEE code.
        others = _out_of_scope(postcode=postcode)
        if not others and may_be_insee:
            others = _out_of_scope(insee=postcode.upper())
        if others:
            raise _not_covered(query, others)
        raise GeocodingError(
            _("Aucune commune ne correspond au code postal « %(postcode)s ».") % {"postcode": postcode},
            code="unknown",
        )
    communes.sort(key=_by_population)
    located = [commune for commune in communes if commune_point(commune) is not None]
    if not located:
        raise _unlocated(query)
    origin = located[0]
    others = sorted((c for c in communes if c.insee != origin.insee), key=lambda c: (c.search_name, c.insee))
    place = Place(commune=origin, lat=origin.lat, lon=origin.lon, postcode=postcode)  # type: ignore[arg-type]
    return GeocodeResult(query=query, places=[place], ambiguous=False, others=others)


def _single(query: str, commune: Commune) -> GeocodeResult:
    place = _place(commune)
    if place is None:
        raise _unlocated(query)
    return GeocodeResult(query=query, places=[place])


def _unlocated(query: str) -> GeocodingError:
    return GeocodingError(
        _("La position de la commune « %(query)s » est inconnue : essayez une commune voisine.")
        % {"query": _quoted(query)},
        code="unknown",
    )


def _not_covered(query: str, others: list[OutOfScopeCommune]) -> GeocodingError:
    """The commune exists, in a department not imported: say so, with the departments covered."""
    departments = sorted({(other.department_code, other.department_name) for other in others})
    where = " ; ".join(f"{name}, {code}" for code, name in departments[:5])
    covered = ", ".join(f"{d.name} ({d.code})" for d in Department.objects.order_by("code"))
    if len(departments) == 1:
        message = _(
            "%(name)s (%(where)s) : rdvpasseport ne couvre pas encore ce département. "
            "Départements couverts : %(covered)s."
        )
    else:
        message = _(
            "%(name)s (%(where)s) : rdvpasseport ne couvre pas encore ces départements. "
            "Départements couverts : %(covered)s."
        )
    return GeocodingError(
        message % {"name": others[0].name, "where": where, "covered": covered or "-"}, code="not_covered"
    )


def _out_of_scope(*, insee: str = "", postcode: str = "", name: str = "") -> list[OutOfScopeCommune]:
    """Communes of departments not imported with this INSEE code, postcode or search name (one query)."""
    lookup = Q(pk__in=[])
    if insee:
        lookup |= Q(insee=insee)
    if postcode:
        lookup |= Q(postcodes__contains=f" {postcode} ")
    if name:
        lookup |= Q(search_name=name)
    return list(OutOfScopeCommune.objects.filter(lookup).order_by("insee")[:20])


def _unknown(query: str, *, insee: str = "", postcode: str = "", name: str = "") -> GeocodingError:
    """Unknown among the imported communes: a commune of another department, or none at all."""
    if others := _out_of_scope(insee=insee, postcode=postcode, name=name):
        return _not_covered(query, others)
    return GeocodingError(
        _("Aucune commune ne correspond à « %(query)s ». Vérifiez l’orthographe ou saisissez un code postal.")
        % {"query": _quoted(query)},
        code="unknown",
    )


def _split_qualifier(key: str) -> tuple[str, str | None, str | None]:
    """Split a department or a postcode off a name: "clichy 92" → ("clichy", "92", None)."""
    words = key.split(" ")
    if len(words) < 2:
        return key, None, None
    for index in (-1, 0):
        word = words[index]
        if _QUALIFIER.match(word):
            rest = " ".join(words[:-1] if index == -1 else words[1:])
            if len(word) == 5:
                return rest, None, word
            return rest, word.upper(), None
    return key, None, None


def _name_candidates(
    key: str,
    *,
    article: str | None = None,
    department: str | None = None,
    postcode: str | None = None,
    limit: int,
    with_postcodes: bool = False,
) -> list[Commune]:
    """Communes whose search name starts with `key`, most likely first; each has an `exact` attribute.

    Likelihood is the population, times EXACT_NAME_WEIGHT for the exact name and divided by
    PARTIAL_WORD_DIVISOR when `key` ends inside a word: "Asnières" (320 inhabitants) yields to
    Asnières-sur-Seine, while Clichy stays ahead of Clichy-sous-Bois. A name with the article typed
    ("le pe…") weighs EXACT_NAME_WEIGHT times more.
    """
    population: Any = Coalesce(F("population"), Value(0), output_field=BigIntegerField())
    if article:
        population = Case(
            When(name__startswith=LEADING_ARTICLES[article], then=population * Value(EXACT_NAME_WEIGHT)),
            default=population,
            output_field=BigIntegerField(),
        )
    # "lhay les roses": an elided article typed without its apostrophe, for names beginning with "L'".
    glued = key[1:] if _GLUED_ELISION.match(key) else None

    def matching(lookup: str, value: str) -> Q:
        condition = Q(**{f"search_name{lookup}": value})
        if glued is not None:
            condition |= Q(**{f"search_name{lookup}": glued + value[len(key) :]}, name__startswith="L'")
        return condition

    is_exact = matching("", key)
    score = Case(
        When(is_exact, then=population * Value(EXACT_NAME_WEIGHT)),
        When(matching("__startswith", f"{key} "), then=population),
        default=population / Value(PARTIAL_WORD_DIVISOR),
        output_field=BigIntegerField(),
    )
    exact = Case(When(is_exact, then=Value(True)), default=Value(False), output_field=BooleanField())
    queryset = Commune.objects.filter(matching("__startswith", key))
    if department:
        queryset = queryset.filter(department_id=department)
    if postcode:
        queryset = queryset.filter(
            insee__in=PostalCode.communes.through.objects.filter(postalcode_id=postcode).values("commune_id")
        )
    if with_postcodes:
        queryset = queryset.prefetch_related("postal_codes")
    return list(
        queryset.annotate(score=score, exact=exact)
        .select_related("department")
        .order_by("-score", "search_name", "insee")[:limit]
    )


def _arrondissement_code(key: str) -> str | None:
    match = _ARRONDISSEMENT.match(key)
    if not match:
        return None
    prefix, count = _ARRONDISSEMENT_CODES[match["city"]]
    number = int(match["number"])
    if not 1 <= number <= count:
        return None
    return f"{prefix}{number:0{5 - len(prefix)}d}"


def geocode(query: str) -> GeocodeResult:
    """Resolve a commune name, a postcode or an INSEE code typed by a citizen; raise GeocodingError if none.

    Case, accents, hyphens, apostrophes and a leading article never matter; "St" stands for "Saint"; a name
    may carry a department or a postcode ("Clichy (92)", "Clichy 92110"); "Paris 17e" is an arrondissement.
    A postcode of Paris, Lyon or Marseille resolves to its arrondissement, never to the city as a whole.
    """
    text = _clean_query(query)

    postcode_match = _POSTCODE.match(text)
    if postcode_match:
        postcode = postcode_match[1] + postcode_match[2]
        return _geocode_postcode(text, postcode, may_be_insee=" " not in text)
    if INSEE_CODE.match(text):
        commune = Commune.objects.filter(insee=text.upper()).select_related("department").first()
        if commune is None:
            raise _unknown(text, insee=text.upper())
        return _single(text, commune)

    article, key = split_article(text)
    if not key or not re.search(r"[a-z]", key):
        raise GeocodingError(
            _("« %(query)s » n’est ni un nom de commune ni un code postal.") % {"query": _quoted(text)},
            code="invalid",
        )
    arrondissement = _arrondissement_code(key)
    if arrondissement:
        commune = Commune.objects.filter(insee=arrondissement).select_related("department").first()
        if commune is not None:
            return _single(text, commune)
        if others := _out_of_scope(insee=arrondissement):  # "Marseille 8e" without the Bouches-du-Rhône
            raise _not_covered(text, others)

    name, department, postcode = _split_qualifier(key)
    candidates = _name_candidates(
        name, article=article, department=department, postcode=postcode, limit=_CANDIDATES
    )
    if postcode:
        candidates = _without_divided_cities(candidates)
    if not candidates:
        raise _unknown(text, name=name)
    exact = [commune for commune in candidates if commune.exact]  # type: ignore[attr-defined]
    places = [place for place in (_place(commune, postcode) for commune in candidates) if place is not None]
    if not places:
        raise _unlocated(text)
    # Clear-cut only when the best candidate bears exactly that name and no other commune does.
    ambiguous = len(places) > 1 and not (len(exact) == 1 and places[0].commune.insee == exact[0].insee)
    return GeocodeResult(query=text, places=places[:MAX_PLACES], ambiguous=ambiguous)


def commune_suggestions(query: str, *, limit: int = 10) -> list[Commune]:
    """Communes for an autocomplete: by name prefix, postcode prefix or INSEE code; never raises.

    Best first (exact name, whole words, then population). Each has its department and postal_codes loaded.
    """
    limit = max(1, min(int(limit), 50))
    try:
        text = _clean_query(query)
    except GeocodingError:
        return []
    queryset = Commune.objects.select_related("department").prefetch_related("postal_codes")
    digits = text.replace(" ", "")
    if digits.isdigit():
        if len(digits) < 2 or len(digits) > 5:
            return []
        Link = PostalCode.communes.through
        matches = Q(insee__in=Link.objects.filter(postalcode__code__startswith=digits).values("commune_id"))
        if len(digits) == 5:
            matches |= Q(insee=digits)
        ordered = queryset.filter(matches).order_by(
            F("population").desc(nulls_last=True), "search_name", "insee"
        )
        # One more row, in case Paris, Lyon or Marseille as a whole gives way to its arrondissements.
        return _without_divided_cities(list(ordered[: limit + 1]))[:limit]
    if INSEE_CODE.match(text):
        return list(queryset.filter(insee=text.upper()))

    article, key = split_article(text)
    if not key:
        return []
    name, department, postcode = _split_qualifier(key)
    candidates = _name_candidates(
        name, article=article, department=department, postcode=postcode, limit=limit, with_postcodes=True
    )
    return _without_divided_cities(candidates) if postcode else candidates


def out_of_scope_suggestions(query: str, *, limit: int = 3) -> list[OutOfScopeCommune]:
    """Communes of departments not imported that an autocomplete text designates (a name prefix or a whole
    postcode), for when no imported commune does; never raises."""
    try:
        text = _clean_query(query)
    except GeocodingError:
        return []
    digits = text.replace(" ", "")
    if digits.isdigit():
        return _out_of_scope(postcode=digits)[:limit] if len(digits) == 5 else []
    _article, key = split_article(text)
    if not key:
        return []
    return list(
        OutOfScopeCommune.objects.filter(search_name__startswith=key).order_by("search_name", "insee")[:limit]
    )
