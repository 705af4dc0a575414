from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from slots.models import Slot, SlotDay, TownHall
from slots.search_cache import search_cache_invalidate
from slots.services import town_halls_merge


class SearchCacheInvalidatingAdmin(admin.ModelAdmin):
    """An admin whose saves and deletions change what searches answer: cached answers are dropped."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        search_cache_invalidate()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        search_cache_invalidate()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        search_cache_invalidate()


class TownHallForm(forms.ModelForm):
    """Fields an admin changes are locked against discovery; unticking a lock gives the field back to it."""

    locked_fields = forms.MultipleChoiceField(
        choices=[(name, TownHall._meta.get_field(name).verbose_name) for name in TownHall.LOCKABLE_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Champs verrouillés"),
        help_text=_(
            "La découverte ne remplace jamais un champ verrouillé. Modifier un champ le verrouille ; décochez-le "
            "pour que la valeur de la source revienne à la prochaine découverte."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        commune = cleaned.get("commune")
        no_point = cleaned.get("lat") is None and cleaned.get("lon") is None
        if no_point and commune is not None and commune.is_located:
            # Without a point of its own, a town hall stands at its commune's town-hall point.
            cleaned["lat"], cleaned["lon"] = commune.lat, commune.lon
        if not self.instance.pk:
            if cleaned.get("lat") is None or cleaned.get("lon") is None:
                self.add_error("lat", "Give a location, or a commune whose town-hall point is known.")
            return cleaned
        initial = set(self.instance.locked_fields or ())
        submitted = set(cleaned.get("locked_fields") or ())
        unlocked = initial - submitted  # an explicit untick wins over the edit of the same field
        edited = {name for name in self.changed_data if name in TownHall.LOCKABLE_FIELDS}
        locked = submitted | (edited - unlocked)
        cleaned["locked_fields"] = [name for name in TownHall.LOCKABLE_FIELDS if name in locked]
        if {"lat", "lon"} & set(self.changed_data) and "location_locked" not in self.changed_data:
            cleaned["location_locked"] = True  # a corrected point is kept, as a corrected name is
        return cleaned


@admin.register(TownHall)
class TownHallAdmin(SearchCacheInvalidatingAdmin):
    form = TownHallForm
    actions = ["merge"]
    list_display = (
        "name",
        "commune",
        "postcode",
        "active",
        "online_booking",
        "booking",
        "upcoming_slots",
        "checked_at",
        "is_stale_now",
        "location_locked",
        "corrected",
    )
    list_filter = (
        "active",
        "online_booking",
        "booking",
        "takes_cni",
        "takes_passport",
        "location_locked",
        "published",
        "commune__department",
    )
    search_fields = ("name", "postcode", "commune__name", "commune__insee")
    list_select_related = ("commune",)
    raw_id_fields = ("commune",)
    readonly_fields = ("checked_at", "stale_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "commune", "address", "postcode", "active")}),
        (
            _("Emplacement"),
            {
                "fields": ("lat", "lon", "location_locked"),
                "description": _(
                    "Cochez « emplacement verrouillé » après avoir corrigé le point, sinon la prochaine collecte "
                    "peut le ramener aux coordonnées de la source. Laissé vide, c’est le point de la mairie de "
                    "la commune."
                ),
            },
        ),
        (
            _("Contact et réservation"),
            {
                "fields": (
                    "phone",
                    "email",
                    "website",
                    "booking_url",
                    "online_booking",
                    "booking",
                    "takes_cni",
                    "takes_passport",
                    "published",
                ),
                "description": _(
                    "Téléphone, courriel et site web laissés vides reprennent ceux de l’annuaire de la commune. "
                    "Les mairies qu’aucune source ne suit (téléphone, sans rendez-vous…) peuvent aussi être "
                    "importées d’un fichier CSV : docs/TOWN_HALLS.md."
                ),
            },
        ),
        (_("Corrections"), {"fields": ("locked_fields",)}),
        (_("Fraîcheur"), {"fields": ("checked_at", "stale_at", "created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[TownHall]:
        # One correlated count in the list query instead of one query per row; as a subquery (not a join
        # with GROUP BY) so that the paginator's COUNT(*) leaves it out.
        upcoming = (
            Slot.objects.filter(town_hall=OuterRef("pk"))
            .upcoming()
            .order_by()
            .values("town_hall")
            .annotate(n=Count("pk"))
            .values("n")
        )
        count = Coalesce(Subquery(upcoming, output_field=IntegerField()), Value(0))
        return super().get_queryset(request).annotate(upcoming_slots_count=count)

    @admin.display(description=_("créneaux à venir"), ordering="upcoming_slots_count")
    def upcoming_slots(self, town_hall: TownHall) -> int:
        return town_hall.upcoming_slots_count  # type: ignore[attr-defined]

    @admin.display(description=_("champs verrouillés"))
    def corrected(self, town_hall: TownHall) -> str:
        return ", ".join(sorted(town_hall.locked_field_names())) or "—"

    @admin.display(description=_("données anciennes"), boolean=True)
    def is_stale_now(self, town_hall: TownHall) -> bool | None:
        return None if town_hall.stale_at is None else town_hall.is_stale()

    @admin.action(description=_("Fusionner les mairies sélectionnées (une seule et même mairie)"))
    def merge(self, request: HttpRequest, queryset: QuerySet[TownHall]) -> None:
        town_halls = list(queryset.order_by("pk"))
        if len(town_halls) < 2:
            self.message_user(request, _("Sélectionnez au moins deux mairies à fusionner."), messages.WARNING)
            return
        # The oldest one is kept: its page address (and any link to it) stays valid.
        keep, others = town_halls[0], town_halls[1:]
        names = ", ".join(f"« {other.name} » (n° {other.pk})" for other in others)
        kept = town_halls_merge(keep=keep, others=others)
        self.log_change(
            request, kept, f"Merged town halls {', '.join(str(o.pk) for o in others)} into this one"
        )
        self.message_user(
            request,
            _(
                "%(others)s fusionnée(s) dans « %(name)s » (n° %(pk)s) : points de rendez-vous, créneaux et "
                "corrections conservés."
            )
            % {"others": names, "name": kept.name, "pk": kept.pk},
            messages.SUCCESS,
        )


@admin.register(Slot)
class SlotAdmin(SearchCacheInvalidatingAdmin):
    list_display = ("town_hall", "starts_at", "reason", "people_max", "source", "first_seen")
    list_filter = ("reason", "source")
    date_hierarchy = "starts_at"
    raw_id_fields = ("town_hall", "source")
    list_select_related = ("town_hall", "source")
    search_fields = ("town_hall__name", "town_hall__postcode")
    readonly_fields = ("first_seen",)


@admin.register(SlotDay)
class SlotDayAdmin(admin.ModelAdmin):
    """The per-day summary the search reads, for checking it: computed from the slots, never edited."""

    list_display = ("town_hall", "reason", "day", "capacity", "count", "first_at")
    list_filter = ("reason",)
    date_hierarchy = "day"
    list_select_related = ("town_hall",)
    search_fields = ("town_hall__name", "town_hall__postcode")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
