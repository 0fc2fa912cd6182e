from django.urls import path

from authoring import bundle_views, cards_views, gift_views, staff_views, views

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
]
