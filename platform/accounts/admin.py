from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class GradlabUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Gradlab", {"fields": ("language",)}))
    list_display = ("username", "email", "is_staff", "language", "date_joined")
