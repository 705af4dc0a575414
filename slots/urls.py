from django.urls import path

app_name = "slots"
urlpatterns: list = []
