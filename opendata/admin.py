from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opendata.models import ApiToken
from opendata.services import api_tokens_revoke


class RevokedFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "revoque"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("non", _("Valide")), ("oui", _("Révoqué"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
        if self.value() == "non":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "oui":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_at", "last_used_at", "is_valid", "revoked_at")
    list_filter = (RevokedFilter,)
    search_fields = ("name", "prefix")
    actions = ["revoke"]
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        # At creation only the name is asked: the value is drawn at random and shown once after saving.
        if obj is None:
            return ["name"]
        return ["name", "prefix", "created_at", "last_used_at", "revoked_at"]

    @admin.display(description=_("valide"), boolean=True)
    def is_valid(self, obj: ApiToken) -> bool:
        return not obj.revoked

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        clear = None if change else obj.set_new_token()
        super().save_model(request, obj, form, change)
        if clear is not None:
            messages.warning(
                request,
                _(
                    "Jeton « %(name)s » créé. Copiez-le maintenant et transmettez-le au client par un canal sûr : "
                    "il ne sera plus jamais affiché. %(token)s"
                )
                % {"name": obj.name, "token": clear},
            )

    @admin.action(description=_("Révoquer les jetons sélectionnés"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = api_tokens_revoke(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d jeton révoqué.", "%(count)d jetons révoqués.", count) % {"count": count},
            messages.SUCCESS,
        )
