from django.urls import path

from opendata import ants, views

app_name = "opendata"
urlpatterns = [
    path("ants/getManagedMeetingPoints", ants.get_managed_meeting_points, name="ants_meeting_points"),
    path("ants/availableTimeSlots", ants.available_time_slots_view, name="ants_time_slots"),
    path("ants/searchApplicationIds", ants.search_application_ids, name="ants_application_ids"),
    path("donnees", views.data, name="data"),
    path("donnees/mairies.csv", views.town_halls_csv, name="town_halls_csv"),
    path("donnees/mairies.json", views.town_halls_json, name="town_halls_json"),
    path("donnees/creneaux.csv", views.slots_csv, name="slots_csv"),
    path("donnees/mairies.schema.json", views.town_halls_schema, name="town_halls_schema"),
    path("donnees/creneaux.schema.json", views.slots_schema, name="slots_schema"),
    path("donnees/datapackage.json", views.data_package, name="data_package"),
    path("api/v1/openapi.json", views.openapi_json, name="openapi"),
    path("api", views.api_docs, name="api_docs"),
    path("etat", views.status_page, name="status"),
]
