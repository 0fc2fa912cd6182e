from django.urls import path

from quizzes import views

app_name = "quizzes"
urlpatterns = [
    path("quizzes/<slug:quiz>/", views.quiz_detail, name="quiz"),
    path("quizzes/<slug:quiz>/start", views.attempt_start, name="start"),
    path("quizzes/<slug:quiz>/resume", views.resume, name="resume"),
    path("quizzes/attempts/<id:attempt>/", views.attempt_detail, name="attempt"),
    path("quizzes/attempts/<id:attempt>/questions/<id:question>", views.answer, name="answer"),
    path("quizzes/attempts/<id:attempt>/finish", views.attempt_finish, name="finish"),
    path("courses/<slug:course>/practise-mistakes", views.review_start, name="review"),
]
