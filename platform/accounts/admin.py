from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from accounts.models import User
from gradlab.admin import SiteAdminMixin


@admin.register(User)
class GradlabUserAdmin(SiteAdminMixin, UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Gradlab", {"fields": ("language",)}))
    list_display = ("username", "email", "is_staff", "language", "date_joined")


# Django's own admin of groups, registered when its module was imported above, with the same fix.
admin.site.unregister(Group)


@admin.register(Group)
class GradlabGroupAdmin(SiteAdminMixin, GroupAdmin):
    pass


# Lockouts and the log of logins, as axes defines them, with what every admin of ours shares.
for _model, _admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    admin.site.register(_model, type(_admin.__name__, (SiteAdminMixin, _admin), {}))
