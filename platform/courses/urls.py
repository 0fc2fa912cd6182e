from django.urls import path

from courses import views

app_name = "courses"
urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<slug:course>/", views.course_detail, name="course"),
    path("courses/<slug:course>/<slug:lesson>/", views.lesson_detail, name="lesson"),
    path("courses/<slug:course>/<slug:lesson>/done", views.lesson_done, name="lesson_done"),
]
