from django.contrib import admin
from django.urls import include, path

from gradlab import views

urlpatterns = [
    path("", include("courses.urls")),
    path("", include("quizzes.urls")),
    path("accounts/", include("accounts.urls")),
    path("author/", include("authoring.urls")),
    path("cards/", include("cards.urls")),
    path("lab/", include("lab.urls")),
    path("", include("campus.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
