from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from ops import views as ops_views

admin.site.site_header = _("Administration de rdvpasseport")
admin.site.site_title = "rdvpasseport admin"
admin.site.index_title = _("Communes, mairies et sources de réservation")

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    # django.conf.urls.i18n's view, without CSRF protection: a forged request can only switch the language,
    # and a token in every page's footer would set a CSRF cookie on every public page.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("", include("stats.urls")),
    path("", include("opendata.urls")),
    path("", include("alerts.urls")),
    path("", include("slots.urls")),
]
