"""What every admin of the site shares."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist
from django.db import models

# What a 64-bit integer column holds: a lookup beyond it is answered like any bad lookup.
INTEGER_RANGE = range(-(2**63), 2**63)


class EmptyToFieldIsThePrimaryKey:
    """`?_to_field=` left empty means the primary key, as no `_to_field` does.

    Django's admin hands the empty name on to `get_object`, which asks the model for a
    field named "" and answers FieldDoesNotExist as a 500 (the URL fuzzing found it).
    """

    def get_object(self, request, object_id, from_field=None):
        return super().get_object(request, object_id, from_field or None)


def _integer_field(model, path: list[str]) -> bool:
    """Whether the lookup path (without its lookup name) ends on an integer or a key column."""
    field = None
    for name in path:
        if model is None:
            return False
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        model = field.related_model if field.is_relation else None
    if field is not None and field.is_relation:
        field = field.target_field if hasattr(field, "target_field") else None
    return isinstance(field, models.IntegerField | models.AutoField)


class IntegerLookupsInRange:
    """`?course=9223372036854775808` on a changelist: a number no integer column can hold.

    The admin hands such a lookup to the database, which fails when the page runs the query
    (SQLite: OverflowError; the URL fuzzing found it) instead of when the filter is made;
    refused here, it gets the admin's own answer to a bad lookup (`?e=1`).
    """

    def get_changelist_instance(self, request):
        for key, value in request.GET.items():
            path = key.split("__")
            numbers = value.split(",") if path[-1] == "in" else [value]
            if not _integer_field(
                self.model, [part for part in path if part not in ("exact", "in", "gt", "gte", "lt", "lte")]
            ):
                continue
            for number in numbers:
                text = number.strip().lstrip("+-")
                if text.isascii() and text.isdigit() and int(number) not in INTEGER_RANGE:
                    raise IncorrectLookupParameters(f"{key}: {value} is beyond an integer column")
        return super().get_changelist_instance(request)


class SiteAdminMixin(IntegerLookupsInRange, EmptyToFieldIsThePrimaryKey):
    """Everything above, for every admin of the site (Django's own ones too: accounts.admin)."""


class ModelAdmin(SiteAdminMixin, admin.ModelAdmin):
    pass
