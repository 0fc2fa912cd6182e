from django.urls import path

from lab import streams, views

app_name = "lab"
urlpatterns = [
    path("", views.home, name="home"),
    path("runs", views.run_create, name="run_create"),
    path("predictions", views.prediction_create, name="prediction_create"),
    path("draft", views.draft_save, name="draft_save"),
    path("draft/reset", views.draft_reset, name="draft_reset"),
    path("runs/<id:run_id>/", views.run_detail, name="run"),
    path("runs/<id:run_id>/events", streams.run_events, name="run_events"),
    path("runs/<id:run_id>/cancel", views.run_cancel, name="run_cancel"),
    path("runs/<id:run_id>/retry", views.run_retry, name="run_retry"),
    path("runs/<id:run_id>/edit", views.run_edit, name="run_edit"),
    path("runs/<id:run_id>/name", views.run_name, name="run_name"),
    path("runs/<id:run_id>/delete", views.run_delete, name="run_delete"),
    path("runs/<id:run_id>/plots/<slug:name>.svg", views.run_plot, name="run_plot"),
    path("runs/<id:run_id>/data.<str:fmt>", views.run_data, name="run_data"),
    path("compare/", views.compare, name="compare"),
]
