from tests.quizzes.conftest import pool_quiz, quiz, quiz_course  # noqa: F401 - the same small course
