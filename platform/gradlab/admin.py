"""What every admin of the site shares."""

from django.contrib import admin


class EmptyToFieldIsThePrimaryKey:
    """`?_to_field=` left empty means the primary key, as no `_to_field` does.

    Django's admin hands the empty name on to `get_object`, which asks the model for a
    field named "" and answers FieldDoesNotExist as a 500 (the URL fuzzing found it).
    """

    def get_object(self, request, object_id, from_field=None):
        return super().get_object(request, object_id, from_field or None)


class ModelAdmin(EmptyToFieldIsThePrimaryKey, admin.ModelAdmin):
    pass
