"""The lab's panel on the lesson page: the experiments that check its facts (LabConfig.ready)."""

from courses.translation import current_language
from lab import presentation


def lesson_panel(*, course, facts, **_) -> dict | None:
    experiments = presentation.presets_for_lesson(
        course=course.key, numbers={fact.number for fact in facts}, language=current_language()
    )
    return {"experiments": experiments} if experiments else None
