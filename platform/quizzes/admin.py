from django.contrib import admin

from gradlab.admin import ModelAdmin
from quizzes.models import Question, QuestionFact, Quiz, QuizQuestion


class QuestionFactInline(admin.TabularInline):
    model = QuestionFact
    extra = 0
    autocomplete_fields = ("fact",)


@admin.register(Question)
class QuestionAdmin(ModelAdmin):
    list_display = ("key", "type", "course", "lesson", "retired_at")
    list_filter = ("course", "type", "retired_at")
    search_fields = ("key", "prompt_de", "prompt_en")
    inlines = [QuestionFactInline]


class QuizQuestionInline(admin.TabularInline):
    model = QuizQuestion
    extra = 0
    autocomplete_fields = ("question",)


@admin.register(Quiz)
class QuizAdmin(ModelAdmin):
    list_display = ("key", "course", "lesson", "pool_size", "retired_at")
    list_filter = ("course", "retired_at")
    search_fields = ("key", "title_de", "title_en")
    inlines = [QuizQuestionInline]
