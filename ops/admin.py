"""The operations part of the admin: the ops dashboard and the run/pause/resume actions on sources, and the
read-only log of admin actions.

The dashboard and the actions live on the Source admin (ops extends scrapers' SourceAdmin and registers the
result in its place), so their URLs stay under the source list: admin:scrapers_dashboard and
admin:scrapers_dashboard_operate.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import DELETION, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ops.dashboard import dashboard_build
from ops.services import Operation, sources_operate
from scrapers import admin as scrapers_admin
from scrapers.models import Source

DASHBOARD_ORIGIN = "from the ops dashboard"
CHANGELIST_ORIGIN = "from the source list"
DASHBOARD_MESSAGES = {
    Operation.RUN_NOW: _(
        "Collecte de %(source)s mise en file : elle apparaît ici d’ici une minute si un worker tourne."
    ),
    Operation.PAUSE: _("%(source)s est en pause : elle n’est plus collectée selon le planning."),
    Operation.RESUME: _("%(source)s a repris : elle est collectée au prochain passage."),
}

# scrapers.admin registered the plain SourceAdmin when imported above; this one takes its place.
admin.site.unregister(Source)


@admin.register(Source)
class SourceAdmin(scrapers_admin.SourceAdmin):
    actions = ["run_now", "pause", "resume"]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="scrapers_dashboard"),
            path(
                "dashboard/<int:source_id>/",
                view(require_POST(self.dashboard_operate_view)),
                name="scrapers_dashboard_operate",
            ),
            *super().get_urls(),
        ]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Tableau de bord d’exploitation"),
            "opts": self.opts,
            "dashboard": dashboard_build(),
            "can_operate": self.has_change_permission(request),
            "settings_failures": settings.HEALTH_SOURCE_FAILURES,
            "settings_stale_intervals": settings.HEALTH_SOURCE_STALE_INTERVALS,
        }
        return TemplateResponse(request, "ops/admin/dashboard.html", context)

    def dashboard_operate_view(self, request: HttpRequest, source_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        source = get_object_or_404(Source, pk=source_id)
        try:
            operation = Operation(request.POST.get("operation", ""))
        except ValueError:
            return HttpResponseBadRequest("Unknown operation: expected run_now, pause or resume.")
        sources_operate(
            operation=operation, source_ids=[source.pk], user_id=request.user.pk, origin=DASHBOARD_ORIGIN
        )
        self.message_user(request, DASHBOARD_MESSAGES[operation] % {"source": source}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:scrapers_dashboard") + f"#source-{source.pk}")

    @admin.action(description=_("Collecter maintenant (mettre une collecte en file)"))
    def run_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        count = self._operate(request, queryset, Operation.RUN_NOW)
        self.message_user(
            request,
            ngettext(
                "Collecte de %(count)d source mise en file : son résultat apparaît dans ses collectes d’ici une "
                "minute si un worker tourne.",
                "Collecte de %(count)d sources mise en file : leurs résultats apparaissent dans leurs collectes "
                "d’ici une minute si un worker tourne.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mettre en pause (plus de collecte planifiée)"))
    def pause(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        count = self._operate(request, queryset, Operation.PAUSE)
        self.message_user(
            request,
            ngettext("%(count)d source mise en pause.", "%(count)d sources mises en pause.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reprendre (collecte au prochain passage)"))
    def resume(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        count = self._operate(request, queryset, Operation.RESUME)
        self.message_user(
            request,
            ngettext("%(count)d source a repris.", "%(count)d sources ont repris.", count) % {"count": count},
            messages.SUCCESS,
        )

    def _operate(self, request: HttpRequest, queryset: QuerySet[Source], operation: Operation) -> int:
        return sources_operate(
            operation=operation,
            source_ids=list(queryset.values_list("pk", flat=True)),
            user_id=request.user.pk,
            origin=CHANGELIST_ORIGIN,
        )


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    """Every change made through the admin (forms, actions, the ops dashboard's buttons), read-only."""

    list_display = ["action_time", "user", "action_flag", "content_type", "object_link", "message"]
    list_filter = [("user", admin.RelatedOnlyFieldListFilter), "action_flag", "content_type"]
    list_select_related = ["user", "content_type"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"
    fields = ["action_time", "user", "action_flag", "content_type", "object_id", "object_repr", "message"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("objet"), ordering="object_repr")
    def object_link(self, entry: LogEntry) -> str:
        url = entry.get_admin_url() if entry.action_flag != DELETION else ""
        if not url:
            return entry.object_repr
        return format_html('<a href="{}">{}</a>', url, entry.object_repr)

    @admin.display(description=_("message de modification"))
    def message(self, entry: LogEntry) -> str:
        return entry.get_change_message()
