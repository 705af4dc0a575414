from django.contrib.sitemaps.views import sitemap
from django.urls import path

from slots import api, pages, views
from slots.sitemaps import SITEMAPS

app_name = "slots"
urlpatterns = [
    path("", views.home, name="home"),
    path("recherche", views.search, name="search"),
    path("autocomplete", views.autocomplete, name="autocomplete"),
    path("a-propos", views.about, name="about"),
    path("api/v1/communes", api.communes, name="api_communes"),
    path("api/v1/search", api.search, name="api_search"),
    path("mairie/<int:pk>", pages.town_hall, name="town_hall"),
    path("commune/<str:insee>", pages.commune, name="commune"),
    path("departements", pages.departments, name="departments"),
    path("departement/<str:code>", pages.department, name="department"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", pages.robots_txt, name="robots_txt"),
]
