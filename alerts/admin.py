"""Alerts in the admin: addresses masked, the search and the send history read-only (citizens manage theirs)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from alerts.models import Alert, AlertEmail


class AlertEmailInline(admin.TabularInline):
    model = AlertEmail
    fields = ("kind", "status", "created_at", "sent_at", "attempts", "town_halls", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "masked_email",
        "state",
        "place",
        "radius_km",
        "reason",
        "people",
        "before",
        "created_at",
        "emails_sent",
        "last_sent_at",
    )
    list_filter = ("state", "reason", "language")
    search_fields = ("place", "insee")
    date_hierarchy = "created_at"
    # No address: the admin shows it masked and never edits it.
    fields = (
        "masked_email",
        "state",
        "language",
        "place",
        "insee",
        "lat",
        "lon",
        "radius_km",
        "reason",
        "people",
        "before",
        "created_at",
        "confirmed_at",
        "seen_until",
        "last_sent_at",
        "emails_sent",
    )
    readonly_fields = fields
    inlines = [AlertEmailInline]

    @admin.display(description=_("adresse électronique (masquée)"))
    def masked_email(self, obj: Alert) -> str:
        return obj.masked_email

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
