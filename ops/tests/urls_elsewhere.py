"""The whole site under /ailleurs/: the search views answer at paths the latency middleware never heard of."""

from django.urls import include, path

urlpatterns = [path("ailleurs/", include("rdvpasseport.urls"))]
