from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .geocoding import commune_suggestions
from .models import Commune, Department, OutOfScopeCommune, PostalCode, ReferenceImport
from .names import normalize_search_text


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "commune_count"]
    search_fields = ["code", "name", "region"]
    list_filter = ["region"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return super().get_queryset(request).annotate(commune_count=Count("communes"))

    @admin.display(description=_("Communes"), ordering="commune_count")
    def commune_count(self, department: Department) -> int:
        return department.commune_count  # type: ignore[attr-defined]


class PostalCodeInline(admin.TabularInline):
    model = PostalCode.communes.through
    extra = 0
    verbose_name = _("code postal")
    verbose_name_plural = _("codes postaux")
    raw_id_fields = ["postalcode"]


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["insee", "name", "department", "kind", "population", "location_source", "postcodes"]
    list_filter = ["kind", "location_source", "department"]
    list_select_related = ["department"]
    search_fields = ["=insee", "name", "=postal_codes__code"]
    search_help_text = _("Nom (accents et articles facultatifs), code INSEE ou code postal.")
    readonly_fields = ["search_name"]
    raw_id_fields = ["parent"]
    inlines = [PostalCodeInline]
    fieldsets = [
        (None, {"fields": ["insee", "name", "search_name", "kind", "parent", "department", "population"]}),
        (
            _("Emplacement"),
            {
                "fields": ["lat", "lon", "location_source"],
                "description": _(
                    "Un point modifié ici est marqué comme fixé par un administrateur : l’import le garde."
                ),
            },
        ),
        (
            _("Mairie"),
            {"fields": ["town_hall_address", "phone", "email", "website", "opening_hours", "accessibility"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commune]:
        return super().get_queryset(request).prefetch_related("postal_codes")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Commune], search_term: str
    ) -> tuple[QuerySet[Commune], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            # "lhay les roses", "Asnieres", "St Ouen": also what the citizens' search would suggest.
            suggested = [commune.insee for commune in commune_suggestions(search_term, limit=50)]
            results |= queryset.filter(insee__in=suggested)
        return results, may_have_duplicates

    @admin.display(description=_("Codes postaux"))
    def postcodes(self, commune: Commune) -> str:
        return ", ".join(postal_code.code for postal_code in commune.postal_codes.all())

    def save_model(self, request: HttpRequest, obj: Commune, form: Any, change: bool) -> None:
        obj.search_name = normalize_search_text(obj.name)
        if {"lat", "lon"} & set(form.changed_data):
            # A corrected point must survive the next import.
            obj.location_source = Commune.LocationSource.MANUAL
        super().save_model(request, obj, form, change)


@admin.register(PostalCode)
class PostalCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "commune_names"]
    search_fields = ["code"]
    autocomplete_fields = ["communes"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PostalCode]:
        return super().get_queryset(request).prefetch_related("communes")

    @admin.display(description=_("Communes"))
    def commune_names(self, postal_code: PostalCode) -> str:
        return ", ".join(commune.name for commune in postal_code.communes.all())


@admin.register(ReferenceImport)
class ReferenceImportAdmin(admin.ModelAdmin):
    list_display = ["scope", "data_version", "communes", "postcodes", "imported_at"]
    readonly_fields = [field.name for field in ReferenceImport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutOfScopeCommune)
class OutOfScopeCommuneAdmin(admin.ModelAdmin):
    """Read only: import_communes writes these rows from the package data."""

    list_display = ["insee", "name", "department_code", "department_name", "postcodes"]
    search_fields = ["insee", "name", "postcodes"]
    list_filter = ["department_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
