from django.contrib import admin

from courses.models import Course, Fact, FactSource, Lesson, Source
from gradlab.admin import ModelAdmin


class LessonInline(admin.TabularInline):
    model = Lesson
    fields = ("position", "key", "title_de", "title_en", "retired_at")
    readonly_fields = ("retired_at",)
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(ModelAdmin):
    list_display = ("key", "title_de", "title_en", "retired_at")
    search_fields = ("key", "title_de", "title_en")
    inlines = [LessonInline]


@admin.register(Source)
class SourceAdmin(ModelAdmin):
    list_display = ("key", "authors", "year", "title", "course")
    list_filter = ("course",)
    search_fields = ("key", "authors", "title")


class FactInline(admin.StackedInline):
    model = Fact
    fields = ("position", "key", "number", "status", "statement_de", "statement_en")
    extra = 0
    show_change_link = True


@admin.register(Lesson)
class LessonAdmin(ModelAdmin):
    list_display = ("key", "course", "position", "title_de", "title_en", "retired_at")
    list_filter = ("course", "retired_at")
    search_fields = ("key", "title_de", "title_en")
    inlines = [FactInline]


class FactSourceInline(admin.TabularInline):
    model = FactSource
    extra = 0
    autocomplete_fields = ("source",)


@admin.register(Fact)
class FactAdmin(ModelAdmin):
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
