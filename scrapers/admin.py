"""Admin for booking sources (with their health), scrape runs and meeting points.

The ops dashboard, the run/pause/resume actions and the log of admin actions are ops' (ops/admin.py extends
SourceAdmin with them).

A source's token is write-only here: a password input that keeps the stored value when left empty, and
never a column, a rendered value or a change-message detail.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _

from scrapers.connectors import (
    CONNECTOR_KINDS,
    kind_config_problems,
    kind_default_max_documents,
    kind_options,
)
from scrapers.fetching.guard import url_problem
from scrapers.models import (
    DISCOVERY_INTERVAL_HOURS_MAX,
    INTERVAL_MINUTES_MAX,
    MeetingPoint,
    ScrapeRun,
    Source,
    SourceHealth,
)
from scrapers.services import meeting_point_detach
from slots.admin import SearchCacheInvalidatingAdmin


class TokenField(forms.CharField):
    """Write-only: an empty submission means "keep the stored token", so only a typed value is a change."""

    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data)


class SourceForm(forms.ModelForm):
    kind = forms.ChoiceField(
        choices=CONNECTOR_KINDS,
        label=capfirst(Source._meta.get_field("kind").verbose_name),
        help_text=_("Le connecteur qui lit cette source."),
    )
    base_url = forms.URLField(
        label=capfirst(Source._meta.get_field("base_url").verbose_name),
        max_length=1000,
        assume_scheme="https",
    )
    token = TokenField(
        label=capfirst(Source._meta.get_field("token").verbose_name),
        required=False,
        max_length=500,
        help_text=_(
            "En écriture seule. Laissez vide pour garder le jeton enregistré ; il n’est jamais affiché."
        ),
    )
    clear_token = forms.BooleanField(required=False, label=_("Supprimer le jeton enregistré"))

    class Meta:
        model = Source
        fields = [
            "name",
            "kind",
            "base_url",
            "auth_header",
            "token",
            "clear_token",
            "config",
            "enabled",
            "paused",
            "interval_minutes",
            "discovery_interval_hours",
            "horizon_days",
            "max_documents",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Never send the stored token back to the browser, not even as the field's initial value.
        self.initial.pop("token", None)
        if self.instance.pk and self.instance.token:
            self.fields["token"].help_text = "A token is stored. " + str(self.fields["token"].help_text)
        # Plain HTML, no script: the saved kind's options, or every kind's on a new source.
        known = dict(CONNECTOR_KINDS)
        kinds = [self.instance.kind] if self.instance.kind in known else list(known)
        self.fields["config"].help_text = _options_help(kinds)
        self.fields["max_documents"].required = False
        self.fields["max_documents"].help_text = _(
            "Demander des créneaux pour 1 personne jusqu’à ce nombre. Vide : la valeur par défaut du type, "
            "4 pour les éditeurs ANTS, car les familles réservent un créneau par personne, plusieurs à la fois."
        )
        if not self.instance.pk:
            self.initial.pop("max_documents", None)  # a new source takes its kind's default

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"]
        problem = url_problem(url)
        if problem:
            raise forms.ValidationError(problem[:1].upper() + problem[1:] + ".")
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("clear_token"):
            cleaned["token"] = ""
        elif not cleaned.get("token"):
            cleaned["token"] = self.instance.token if self.instance.pk else ""
        kind = cleaned.get("kind")
        if kind and cleaned.get("max_documents") is None and "max_documents" not in self.errors:
            cleaned["max_documents"] = kind_default_max_documents(kind)
        if kind and "config" in cleaned:
            for problem in kind_config_problems(kind, cleaned["config"]):
                self.add_error("config", problem)
        return cleaned


def _options_help(kinds: list[str]) -> SafeString:
    labels = dict(CONNECTOR_KINDS)
    blocks = [
        format_html(
            "<p><strong>{}</strong> ({}):</p><ul>{}</ul>",
            kind,
            labels[kind],
            format_html_join(
                "",
                "<li><code>{}</code> — {}, {}{}: {}</li>",
                (
                    (o.name, o.type, o.default_text(), f" ({o.bounds})" if o.bounds else "", o.help)
                    for o in kind_options(kind)
                ),
            ),
        )
        for kind in kinds
    ]
    intro = format_html(
        "{}", _("Un objet JSON des options du type, vérifié à l’enregistrement de la source.")
    )
    return format_html("<div>{}{}</div>", intro, format_html_join("", "{}", ((b,) for b in blocks)))


class HealthFilter(admin.SimpleListFilter):
    title = _("santé")
    parameter_name = "health"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(SourceHealth.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Source]) -> QuerySet[Source]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.in_health(value)  # type: ignore[attr-defined]


class RecentRunsFormSet(forms.BaseInlineFormSet):
    def get_queryset(self) -> QuerySet[ScrapeRun]:
        return super().get_queryset().order_by("-started_at")[:10]


class ScrapeRunInline(admin.TabularInline):
    model = ScrapeRun
    formset = RecentRunsFormSet
    verbose_name_plural = _("10 dernières collectes")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = [
        "started_at",
        "status",
        "discovery",
        "town_halls",
        "slots_new",
        "slots_kept",
        "slots_removed",
        "parse_errors",
        "http_calls",
        "bytes_received",
        "error_excerpt",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("erreur"))
    def error_excerpt(self, run: ScrapeRun) -> str:
        return Truncator(run.error).chars(120)


@admin.register(Source)
class SourceAdmin(SearchCacheInvalidatingAdmin):
    form = SourceForm
    list_display = [
        "name",
        "kind",
        "health",
        "enabled",
        "paused",
        "interval_minutes",
        "horizon_days",
        "last_success_at",
        "consecutive_failures",
        "last_error_excerpt",
        "town_halls_count",
        "slots_count",
        "next_run_at",
    ]
    list_filter = [HealthFilter, "kind", "enabled", "paused", "is_demo"]
    search_fields = ["name", "base_url"]
    inlines = [ScrapeRunInline]
    readonly_fields = [
        "is_demo",
        "next_run_at",
        "last_run_at",
        "last_success_at",
        "last_discovery_at",
        "consecutive_failures",
        "last_error",
        "claimed_until",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "kind", "base_url", "auth_header", "token", "clear_token", "config"]}),
        (
            _("Planification"),
            {
                "fields": [
                    "enabled",
                    "paused",
                    "interval_minutes",
                    "discovery_interval_hours",
                    "horizon_days",
                    "max_documents",
                    "is_demo",
                ]
            },
        ),
        (
            _("Santé"),
            {
                "fields": [
                    "next_run_at",
                    "last_run_at",
                    "last_success_at",
                    "last_discovery_at",
                    "consecutive_failures",
                    "last_error",
                    "claimed_until",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # The same bounds as the sources file: beyond them the dates computed from an interval overflow.
        maximum = {
            "interval_minutes": INTERVAL_MINUTES_MAX,
            "discovery_interval_hours": DISCOVERY_INTERVAL_HOURS_MAX,
        }.get(db_field.name)
        if maximum is not None:
            kwargs["max_value"] = maximum
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return super().get_queryset(request).with_health().with_counts()  # type: ignore[attr-defined]

    @admin.display(description=_("santé"), ordering="computed_health")
    def health(self, source: Source) -> str:
        return source.health

    @admin.display(description=_("dernière erreur"))
    def last_error_excerpt(self, source: Source) -> str:
        return Truncator(source.last_error).chars(80)

    @admin.display(description=_("mairies"), ordering="town_halls_total")
    def town_halls_count(self, source: Source) -> int:
        return source.town_halls_total

    @admin.display(description=_("créneaux à venir"), ordering="slots_total")
    def slots_count(self, source: Source) -> int:
        return source.slots_total


@admin.register(ScrapeRun)
class ScrapeRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "source",
        "status",
        "discovery",
        "town_halls",
        "slots_new",
        "slots_kept",
        "slots_removed",
        "parse_errors",
        "http_calls",
        "bytes_received",
        "duration",
        "error_excerpt",
    ]
    list_filter = ["status", "discovery", "source"]
    list_select_related = ["source"]
    search_fields = ["source__name", "error"]
    date_hierarchy = "started_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in ScrapeRun._meta.fields] + ["duration"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("erreur"))
    def error_excerpt(self, run: ScrapeRun) -> str:
        return Truncator(run.error).chars(80)


@admin.register(MeetingPoint)
class MeetingPointAdmin(SearchCacheInvalidatingAdmin):
    list_display = ["external_id", "source", "town_hall", "last_seen"]
    list_filter = ["source"]
    list_select_related = ["source", "town_hall"]
    search_fields = ["external_id", "town_hall__name", "source__name"]
    raw_id_fields = ["town_hall"]
    actions = ["detach"]

    @admin.action(description=_("Détacher de leur mairie (chacun devient une mairie à part)"))
    def detach(self, request: HttpRequest, queryset: QuerySet[MeetingPoint]) -> None:
        detached = 0
        for meeting_point in queryset.select_related("town_hall"):
            if meeting_point.town_hall.meeting_points.count() < 2:
                continue  # alone at its town hall already
            town_hall = meeting_point_detach(meeting_point=meeting_point)
            self.log_change(request, meeting_point, f"Detached to a town hall of its own (#{town_hall.pk})")
            detached += 1
        if detached:
            self.message_user(
                request,
                _("%(count)d point(s) de rendez-vous détaché(s) : corrigez leur nouvelle mairie si besoin.")
                % {"count": detached},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _("Aucun point de rendez-vous ne partageait sa mairie avec un autre."),
                messages.WARNING,
            )
