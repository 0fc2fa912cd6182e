from django.contrib import admin

from courses.admin import CourseScoped, CourseScopedAdmin
from quizzes.models import Question, QuestionFact, Quiz, QuizQuestion


class QuestionFactInline(CourseScoped, admin.TabularInline):
    model = QuestionFact
    course_path = "question__course"
    extra = 0
    autocomplete_fields = ("fact",)


@admin.register(Question)
class QuestionAdmin(CourseScopedAdmin):
    list_display = ("key", "type", "course", "lesson", "retired_at")
    list_filter = ("course", "type", "retired_at")
    search_fields = ("key", "prompt_de", "prompt_en")
    inlines = [QuestionFactInline]


class QuizQuestionInline(CourseScoped, admin.TabularInline):
    model = QuizQuestion
    course_path = "quiz__course"
    extra = 0
    autocomplete_fields = ("question",)


@admin.register(Quiz)
class QuizAdmin(CourseScopedAdmin):
    list_display = ("key", "course", "lesson", "pool_size", "retired_at")
    list_filter = ("course", "retired_at")
    search_fields = ("key", "title_de", "title_en")
    inlines = [QuizQuestionInline]
