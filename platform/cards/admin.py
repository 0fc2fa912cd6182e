from django.contrib import admin

from cards.models import Card, Note
from gradlab.admin import ModelAdmin


class CardInline(admin.TabularInline):
    model = Card
    fields = ("ordinal", "retired_at")
    readonly_fields = ("ordinal", "retired_at")
    extra = 0
    can_delete = False


@admin.register(Note)
class NoteAdmin(ModelAdmin):
    list_display = ("key", "type", "course", "fact", "retired_at")
    list_filter = ("course", "type", "retired_at")
    search_fields = ("key", "front_de", "front_en", "back_de", "back_en", "text_de", "text_en")
    autocomplete_fields = ("fact",)
    inlines = [CardInline]
