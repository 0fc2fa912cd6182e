from django.contrib import admin

from gradlab.admin import ModelAdmin
from lab.models import ExperimentRun


@admin.register(ExperimentRun)
class ExperimentRunAdmin(ModelAdmin):
    """For operators: what ran where, and why a run ended. Runs are changed by the lab, not here."""

    list_display = ("id", "owner", "preset", "kind", "queue", "status", "worker", "created_at", "used_s", "deleted_at")
    # A deleted run stays as an empty row: the compute time it used still counts that day.
    list_filter = ("status", "queue", "kind", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("owner__username", "preset", "worker", "error")
    readonly_fields = [field.name for field in ExperimentRun._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
