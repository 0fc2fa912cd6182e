from django.urls import path

from authoring import bundle_views, cards_views, editor_views, gift_views, staff_views, views

app_name = "authoring"
# Every page of one course takes its key as `course` and goes through
# authoring.access.course_staff_required (tests/authoring/test_course_access.py finds them all).
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("new/", staff_views.course_new, name="course_new"),
    path("import/", bundle_views.bundle_import_new, name="bundle_import"),
    path("<slug:course>/questions/", views.item_analysis, name="item_analysis"),
    path("<slug:course>/questions.csv", views.item_analysis_csv, name="item_analysis_csv"),
    path("<slug:course>/runs/", views.course_runs, name="course_runs"),
    path("<slug:course>/staff/", staff_views.staff, name="staff"),
    path("<slug:course>/staff/<id:user>/role", staff_views.staff_role, name="staff_role"),
    path("<slug:course>/staff/<id:user>/remove", staff_views.staff_remove, name="staff_remove"),
    path("<slug:course>/bundle/", bundle_views.course_bundle, name="course_bundle"),
    path("<slug:course>/bundle.zip", bundle_views.course_bundle_zip, name="course_bundle_zip"),
    path("<slug:course>/cards.apkg", cards_views.cards_apkg, name="cards_apkg"),
    path("<slug:course>/cards.csv", cards_views.cards_csv, name="cards_csv"),
    path("<slug:course>/cards/import", cards_views.cards_import, name="cards_import"),
    path("<slug:course>/questions/gift/", gift_views.gift_import, name="gift_import"),
    path("<slug:course>/questions.gift.txt", gift_views.gift_export, name="gift_export"),
    path("<slug:course>/edit/", editor_views.course_edit, name="course_edit"),
    path("<slug:course>/edit/order", editor_views.lesson_move, name="lesson_move"),
    path("<slug:course>/edit/publish", editor_views.draft_publish, name="draft_publish"),
    path("<slug:course>/edit/discard", editor_views.draft_discard, name="draft_discard"),
    path("<slug:course>/edit/markdown", editor_views.markdown_preview, name="markdown_preview"),
    path("<slug:course>/edit/lessons/<slug:lesson>/", editor_views.lesson_edit, name="lesson_edit"),
    path("<slug:course>/edit/lessons/<slug:lesson>/preview", editor_views.lesson_preview, name="lesson_preview"),
    path("<slug:course>/edit/lessons/<slug:lesson>/history", editor_views.lesson_history, name="lesson_history"),
]
