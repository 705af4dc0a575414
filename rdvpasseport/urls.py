from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from scrapers import ops_views

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("", include("slots.urls")),
]
