from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("alertes", views.subscribe, name="subscribe"),
    path("alertes/confirmer/<str:token>", views.confirm, name="confirm"),
    path("alertes/gerer/<str:token>", views.manage, name="manage"),
    path("alertes/lien", views.link_request, name="link_request"),
    path("alertes/desabonner/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("recherche/flux", views.feed, name="feed"),
]
