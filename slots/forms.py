"""Parse the citizen search page's and the JSON API's query parameters, with French error messages."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from communes.france import INSEE_CODE
from slots.horizon import horizon_date
from slots.models import Reason
from slots.search import MAX_PEOPLE, MAX_RADIUS_KM, MIN_PEOPLE, MIN_RADIUS_KM, Sort

# The longest French commune name has 45 characters; anything much longer is not a place.
MAX_QUERY_LENGTH = 100
# Widest date window a search may cover, about six months.
MAX_WINDOW_DAYS = 183
# A window may not start more than a year ahead.
MAX_START_DAYS = 366

MOTIFS: dict[str, Reason] = {
    "cni": Reason.CNI,
    "passeport": Reason.PASSPORT,
    "cni-passeport": Reason.CNI_PASSPORT,
}
SORTS: dict[str, Sort] = {"tot": Sort.SOONEST, "proche": Sort.NEAREST, "compromis": Sort.COMPROMISE}
RADIUS_CHOICES = (5, 10, 20, 30, 50)

DEFAULT_MOTIF = "passeport"
DEFAULT_RADIUS_KM = 20
DEFAULT_PEOPLE = 1
DEFAULT_SORT = "tot"


def paris_today() -> dt.date:
    return timezone.localdate()


def first_error(form: forms.Form) -> str:
    """The first problem found in a bound form, in one French sentence ("" when there is none)."""
    for errors in form.errors.values():
        return str(errors[0])
    return ""


def _out_of_range(message: str) -> dict[str, str]:
    """The same message whether a number is malformed, too small or too large."""
    return {"invalid": message, "min_value": message, "max_value": message}


class SearchForm(forms.Form):
    """The citizen search (home page and /recherche), parameters named in French for readable URLs.

    The place is `q` (postcode or commune name, optionally resolved by the autocomplete to the `insee`
    code of the commune picked), or else a position (`lat`, `lon`) from the browser's geolocation.
    """

    DEFAULTS = {
        "motif": DEFAULT_MOTIF,
        "personnes": str(DEFAULT_PEOPLE),
        "rayon": str(DEFAULT_RADIUS_KM),
        "tri": DEFAULT_SORT,
    }

    q = forms.CharField(
        label=_("Code postal ou commune"),
        max_length=MAX_QUERY_LENGTH,
        required=False,
        error_messages={"max_length": _("Ce texte est trop long pour être un code postal ou une commune.")},
    )
    insee = forms.RegexField(
        regex=INSEE_CODE,
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("Code de commune invalide.")},
    )
    lat = forms.FloatField(
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.HiddenInput,
        error_messages=_out_of_range(
            _("Position invalide : la latitude doit être un nombre entre -90 et 90.")
        ),
    )
    lon = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
        error_messages=_out_of_range(
            _("Position invalide : la longitude doit être un nombre entre -180 et 180.")
        ),
    )
    motif = forms.ChoiceField(
        label=_("Motif"),
        choices=[
            ("cni", _("Carte d’identité")),
            ("passeport", _("Passeport")),
            ("cni-passeport", _("Les deux")),
        ],
        error_messages={
            "invalid_choice": _("Motif inconnu : choisissez carte d’identité, passeport ou les deux.")
        },
    )
    personnes = forms.TypedChoiceField(
        label=_("Nombre de personnes"),
        coerce=int,
        choices=[(str(n), str(n)) for n in range(MIN_PEOPLE, MAX_PEOPLE + 1)],
        error_messages={"invalid_choice": _("Le nombre de personnes doit être compris entre 1 et 6.")},
    )
    rayon = forms.TypedChoiceField(
        label=_("Rayon"),
        coerce=int,
        choices=[(str(km), f"{km} km") for km in RADIUS_CHOICES],
        error_messages={"invalid_choice": _("Le rayon doit être de 5, 10, 20, 30 ou 50 km.")},
    )
    avant = forms.DateField(
        label=_("Au plus tard le"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Date invalide : utilisez le format AAAA-MM-JJ.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    tri = forms.ChoiceField(
        label=_("Trier par"),
        choices=[
            ("tot", _("Le plus tôt")),
            ("proche", _("Le plus proche")),
            ("compromis", _("Meilleur compromis")),
        ],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Tri inconnu : choisissez tot, proche ou compromis.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser's date picker offers only the dates the search accepts.
        today = paris_today()
        # Read once per form: the window, the picker and the page's "known until" all use it.
        # The end of the widest window a search may cover: the day slots are known until.
        self.latest = horizon_date(today)
        self.fields["avant"].widget.attrs.update(min=today.isoformat(), max=self.latest.isoformat())

    @classmethod
    def from_query(cls, query: QueryDict) -> SearchForm:
        """A form bound to the query string, where a missing or empty choice takes its default."""
        data = query.copy()
        for name, value in cls.DEFAULTS.items():
            if not data.get(name):
                data[name] = value
        return cls(data)

    def clean_avant(self) -> dt.date | None:
        avant = self.cleaned_data["avant"]
        if avant is None:
            return None
        today = paris_today()
        if avant < today:
            raise forms.ValidationError(_("La date limite est déjà passée."))
        if avant > self.latest:
            raise forms.ValidationError(
                _("Les créneaux ne sont connus que jusqu’au %(date)s : choisissez une date limite avant."),
                params={"date": formats.date_format(self.latest, "j F Y")},
            )
        return avant

    def clean_insee(self) -> str:
        return self.cleaned_data["insee"].upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # A position comes whole: half of one is ignored rather than refused (nothing a citizen typed).
        if data.get("lat") is None or data.get("lon") is None:
            data["lat"] = data["lon"] = None
        return data

    @property
    def has_place(self) -> bool:
        """Whether the valid form names somewhere to search from."""
        data = self.cleaned_data
        return bool(data["q"].strip() or data["insee"] or data["lat"] is not None)

    @property
    def position(self) -> tuple[float, float] | None:
        """The geolocated (lat, lon) to search from, used only when no place is typed."""
        data = self.cleaned_data
        if data["q"].strip() or data["insee"] or data["lat"] is None:
            return None
        return data["lat"], data["lon"]

    @property
    def reason(self) -> Reason:
        return MOTIFS[self.cleaned_data["motif"]]

    @property
    def sort(self) -> Sort:
        return SORTS[self.cleaned_data["tri"]]

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        return paris_today(), self.cleaned_data["avant"] or self.latest


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class ApiSearchForm(forms.Form):
    """Parameters of GET /api/v1/search, named like the ANTS national search."""

    q = forms.CharField(
        max_length=MAX_QUERY_LENGTH,
        required=False,
        error_messages={"max_length": _("Le texte recherché (q) est trop long pour être un lieu.")},
    )
    # An INSEE code in q may also be another commune's postcode (01160): insee= says which one is meant.
    insee = forms.RegexField(
        regex=INSEE_CODE,
        required=False,
        error_messages={"invalid": _("Code INSEE (insee) invalide : cinq caractères, par exemple 92024.")},
    )
    lat = forms.FloatField(
        required=False,
        min_value=-90,
        max_value=90,
        error_messages={
            "invalid": _("La latitude (lat) doit être un nombre."),
            "min_value": _("La latitude (lat) doit être comprise entre -90 et 90."),
            "max_value": _("La latitude (lat) doit être comprise entre -90 et 90."),
        },
    )
    lon = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        error_messages={
            "invalid": _("La longitude (lon) doit être un nombre."),
            "min_value": _("La longitude (lon) doit être comprise entre -180 et 180."),
            "max_value": _("La longitude (lon) doit être comprise entre -180 et 180."),
        },
    )
    radius_km = forms.FloatField(
        required=False,
        min_value=MIN_RADIUS_KM,
        max_value=MAX_RADIUS_KM,
        error_messages={
            "invalid": _("Le rayon (radius_km) doit être un nombre de kilomètres."),
            "min_value": _("Le rayon (radius_km) doit être compris entre 1 et 100 km."),
            "max_value": _("Le rayon (radius_km) doit être compris entre 1 et 100 km."),
        },
    )
    reason = forms.ChoiceField(
        required=False,
        choices=Reason.choices,
        error_messages={
            "invalid_choice": _("Motif (reason) inconnu : utilisez CNI, PASSPORT ou CNI-PASSPORT.")
        },
    )
    documents_number = forms.IntegerField(
        required=False,
        min_value=MIN_PEOPLE,
        max_value=MAX_PEOPLE,
        error_messages=_out_of_range(
            _("Le nombre de personnes (documents_number) doit être un entier entre 1 et 6.")
        ),
    )
    start_date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Date de début (start_date) invalide : utilisez le format AAAA-MM-JJ.")},
    )
    end_date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Date de fin (end_date) invalide : utilisez le format AAAA-MM-JJ.")},
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(sort.value, sort.value) for sort in Sort],
        error_messages={"invalid_choice": _("Tri (sort) inconnu : utilisez soonest, nearest ou compromise.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        has_point = data.get("lat") is not None or data.get("lon") is not None
        if has_point and (data.get("lat") is None or data.get("lon") is None):
            raise forms.ValidationError(_("Donnez à la fois la latitude (lat) et la longitude (lon)."))
        if not has_point and not data.get("q") and not data.get("insee"):
            raise forms.ValidationError(
                _("Indiquez un code postal, une commune ou un code INSEE (q), ou bien lat et lon.")
            )

        data["radius_km"] = data.get("radius_km") or DEFAULT_RADIUS_KM
        data["reason"] = Reason(data.get("reason") or Reason.PASSPORT)
        data["documents_number"] = data.get("documents_number") or DEFAULT_PEOPLE
        data["sort"] = Sort(data.get("sort") or Sort.SOONEST)

        today = paris_today()
        start = data.get("start_date") or today
        if (start - today).days > MAX_START_DAYS:
            raise forms.ValidationError(
                _("La date de début (start_date) doit tomber dans l’année qui vient.")
            )
        end = data.get("end_date") or start + dt.timedelta(days=MAX_WINDOW_DAYS)
        if end < start:
            raise forms.ValidationError(_("La date de fin (end_date) précède la date de début (start_date)."))
        if (end - start).days > MAX_WINDOW_DAYS:
            raise forms.ValidationError(_("La période demandée ne peut pas dépasser six mois (183 jours)."))
        # Nothing is known past the horizon: a wider window is answered as far as slots are known.
        data["start_date"], data["end_date"] = start, min(end, horizon_date(today))
        return data
