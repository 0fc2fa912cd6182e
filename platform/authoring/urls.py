from django.urls import path

from authoring import cards_views, views

app_name = "authoring"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:course>/questions/", views.item_analysis, name="item_analysis"),
    path("<slug:course>/runs/", views.course_runs, name="course_runs"),
    path("<slug:course>/cards.apkg", cards_views.cards_apkg, name="cards_apkg"),
    path("<slug:course>/cards.csv", cards_views.cards_csv, name="cards_csv"),
    path("<slug:course>/cards/import", cards_views.cards_import, name="cards_import"),
]
