from django.urls import path

from stats import views

app_name = "stats"
urlpatterns = [
    path("statistiques", views.statistics, name="statistics"),
    path("statistiques/historique.csv", views.history_csv, name="history_csv"),
    path("statistiques/duree-des-creneaux.csv", views.lifetimes_csv, name="lifetimes_csv"),
    path("statistiques/<str:code>", views.department, name="department"),
]
