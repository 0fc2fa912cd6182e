from django.contrib import admin

from cards.models import Card, Note
from courses.admin import CourseScoped, CourseScopedAdmin


class CardInline(CourseScoped, admin.TabularInline):
    model = Card
    course_path = "note__course"
    fields = ("ordinal", "retired_at")
    readonly_fields = ("ordinal", "retired_at")
    extra = 0
    can_delete = False


@admin.register(Note)
class NoteAdmin(CourseScopedAdmin):
    list_display = ("key", "type", "course", "fact", "retired_at")
    list_filter = ("course", "type", "retired_at")
    search_fields = ("key", "front_de", "front_en", "back_de", "back_en", "text_de", "text_en")
    autocomplete_fields = ("fact",)
    inlines = [CardInline]
