from django.urls import path

from slots import api, views

app_name = "slots"
urlpatterns = [
    path("", views.home, name="home"),
    path("recherche", views.search, name="search"),
    path("a-propos", views.about, name="about"),
    path("api/v1/communes", api.communes, name="api_communes"),
    path("api/v1/search", api.search, name="api_search"),
]
