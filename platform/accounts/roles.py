"""What the instructor role may do: the content models, in the admin."""

INSTRUCTOR_MODELS = [
    ("courses", "course"),
    ("courses", "lesson"),
    ("courses", "fact"),
    ("courses", "source"),
]
ACTIONS = ("view", "add", "change", "delete")
