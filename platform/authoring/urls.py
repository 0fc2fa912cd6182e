from django.urls import path

from authoring import views

app_name = "authoring"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:course>/questions/", views.item_analysis, name="item_analysis"),
]
