from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = _("Quizzes")

    def ready(self) -> None:
        from courses import panels as page_panels
        from courses import stamp
        from courses.content import parts
        from quizzes import content, panels, services
        from quizzes.models import Question, QuestionFact, Quiz, QuizQuestion

        # What the course and lesson pages' panels read from the content cache (quizzes/panels.py).
        stamp.connect([Question, QuestionFact, Quiz, QuizQuestion])

        parts.register(
            parts.ContentPart(
                name="quizzes",
                read=content.content_read,
                files=content.content_files,
                load=services.quiz_content_load,
                attach=content.attach_quiz_content,
                lesson_files=(content.QUESTIONS_FILE,),
                course_files=(content.QUIZZES_FILE,),
                tags=content.question_types,
            )
        )
        page_panels.register(
            page_panels.Panel(page_panels.COURSE, "quizzes/panels/course.html", panels.course_panel, 20)
        )
        page_panels.register(
            page_panels.Panel(page_panels.LESSON, "quizzes/panels/lesson.html", panels.lesson_panel, 20)
        )
