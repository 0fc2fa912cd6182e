"""What the instructor role may do: the content models, in the admin."""

INSTRUCTOR_MODELS = [
    ("courses", "course"),
    ("courses", "lesson"),
    ("courses", "fact"),
    ("courses", "source"),
    ("quizzes", "question"),
    ("quizzes", "questionfact"),
    ("quizzes", "quiz"),
    ("quizzes", "quizquestion"),
    ("cards", "note"),
    ("cards", "card"),
]
ACTIONS = ("view", "add", "change", "delete")
