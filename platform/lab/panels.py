"""The lab's panel on the lesson page: the experiments that check its facts (LabConfig.ready)."""

from courses import stamp
from courses.translation import current_language
from lab import presentation


def lesson_panel(*, course, lesson, content_stamp="", **_) -> dict | None:
    # The numbers alone: the page's facts themselves may come from its cached article and
    # must not be read for this.
    def read() -> set[int]:
        return set(lesson.facts.live().values_list("number", flat=True))

    numbers = stamp.cached(content_stamp, f"lesson-fact-numbers:{lesson.id}", read)
    experiments = presentation.presets_for_lesson(course=course.key, numbers=numbers, language=current_language())
    return {"experiments": experiments} if experiments else None
