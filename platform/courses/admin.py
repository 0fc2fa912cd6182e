from django.contrib import admin
from django.db import models
from django.http import Http404

from courses.models import Course, CourseStaff, Fact, FactSource, Lesson, Source
from courses.selectors import authored_courses
from gradlab.admin import ModelAdmin

# How each content model reaches its course ("course", "quiz__course"…), filled in as the
# admins below and in quizzes and cards are set up: the foreign-key choices of every form
# are limited with it.
COURSE_PATHS: dict[type[models.Model], str] = {}


def _scoped(queryset, *, user, path: str):
    """`queryset` cut down to rows of the courses `user` authors (all for an admin)."""
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{path}__in": authored_courses(user=user).values("pk")})


class CourseScoped:
    """For every admin of course content: someone who is not a superuser sees, changes and
    chooses only rows of the courses they author. A row of another course answers 404,
    as one that does not exist; a foreign key offers only their courses' rows, so nothing
    can be moved into another course or attached to its quizzes."""

    course_path = "course"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__:  # an inline names its model in its class
            COURSE_PATHS[cls.model] = cls.course_path

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        COURSE_PATHS[self.model] = self.course_path  # a ModelAdmin learns it from register()

    def _limit_choices(self, db_field, request, kwargs) -> None:
        path = COURSE_PATHS.get(db_field.related_model)
        if path is not None and not request.user.is_superuser:
            kwargs["queryset"] = _scoped(db_field.related_model._default_manager.all(), user=request.user, path=path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class CourseScopedAdmin(CourseScoped, ModelAdmin):
    def get_queryset(self, request):
        return _scoped(super().get_queryset(request), user=request.user, path=self.course_path)

    def get_list_filter(self, request):
        # The plain filter of a foreign key lists every course (and lesson) there is.
        def only_related(entry):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation and field.related_model in COURSE_PATHS:
                    return (entry, admin.RelatedOnlyFieldListFilter)
            return entry

        return [only_related(entry) for entry in super().get_list_filter(request)]

    def _in_scope(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django's admin answers a missing row with a redirect and "… doesn't exist"; a row
        # outside the user's courses is missing to them, and both answer 404 alike.
        raise Http404("no such object")


class LessonInline(CourseScoped, admin.TabularInline):
    model = Lesson
    fields = ("position", "key", "title_de", "title_en", "retired_at")
    readonly_fields = ("retired_at",)
    extra = 0
    show_change_link = True


class CourseStaffInline(admin.TabularInline):
    model = CourseStaff
    fields = ("user", "role", "added_at")
    readonly_fields = ("added_at",)
    autocomplete_fields = ("user",)
    extra = 0

    def has_module_permission(self, request):
        return request.user.is_superuser

    # Instructors change the staff on /author/<course>/staff/, where the last owner is kept.
    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Course)
class CourseAdmin(CourseScopedAdmin):
    course_path = "pk"
    list_display = ("key", "title_de", "title_en", "retired_at")
    search_fields = ("key", "title_de", "title_en")
    inlines = [CourseStaffInline, LessonInline]

    def has_add_permission(self, request):
        # A new course gets its first owner on /author/new/; only admins add one here.
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return (
            obj is None
            or request.user.is_superuser
            or authored_courses(user=request.user, role="owner").filter(pk=obj.pk).exists()
        )


@admin.register(Source)
class SourceAdmin(CourseScopedAdmin):
    list_display = ("key", "authors", "year", "title", "course")
    list_filter = ("course",)
    search_fields = ("key", "authors", "title")


class FactInline(CourseScoped, admin.StackedInline):
    model = Fact
    fields = ("position", "key", "number", "status", "statement_de", "statement_en")
    extra = 0
    show_change_link = True


@admin.register(Lesson)
class LessonAdmin(CourseScopedAdmin):
    list_display = ("key", "course", "position", "title_de", "title_en", "retired_at")
    list_filter = ("course", "retired_at")
    search_fields = ("key", "title_de", "title_en")
    inlines = [FactInline]


class FactSourceInline(CourseScoped, admin.TabularInline):
    model = FactSource
    course_path = "fact__course"
    extra = 0
    autocomplete_fields = ("source",)


@admin.register(Fact)
class FactAdmin(CourseScopedAdmin):
    list_display = ("number", "key", "lesson", "status", "retired_at")
    list_filter = ("course", "status", "lesson")
    search_fields = ("key", "statement_de", "statement_en")
    ordering = ("course", "number")
    inlines = [FactSourceInline]
    fieldsets = (
        (None, {"fields": ("course", "lesson", "key", "number", "position", "status")}),
        ("Deutsch", {"fields": ("statement_de", "explanation_de", "note_de")}),
        ("English", {"fields": ("statement_en", "explanation_en", "note_en")}),
    )
