from django.urls import path

from campus import views

app_name = "campus"
# The LMS-facing URLs are stable: platforms keep them in their registration of Gradlab.
# A course's page sits with its other authoring pages (tests/campus/test_course_access.py).
urlpatterns = [
    path("lti/login/", views.oidc_login, name="login"),
    path("lti/launch/", views.launch, name="launch"),
    path("lti/jwks.json", views.jwks, name="jwks"),
    path("author/<slug:course>/lti/", views.course_contexts, name="course_contexts"),
    path("author/<slug:course>/lti/<id:row>/link", views.course_context_link, name="course_context_link"),
    path("author/<slug:course>/lti/<id:row>/unlink", views.course_context_unlink, name="course_context_unlink"),
]
