from django.urls import path

from cards import learner_views, views

app_name = "cards"
urlpatterns = [
    path("review/", views.review, name="review"),
    path("review/rate", views.rate, name="rate"),
    path("review/undo", views.undo, name="undo"),
    path("settings/", views.review_settings, name="settings"),
    path("decks/<slug:course>/add", views.deck_add, name="deck_add"),
    path("decks/<slug:course>/remove", views.deck_remove, name="deck_remove"),
    path("stats/", learner_views.stats, name="stats"),
    path("export.apkg", learner_views.export_apkg, name="export_apkg"),
    path("export.csv", learner_views.export_csv, name="export_csv"),
]
