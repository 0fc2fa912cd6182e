"""The instructors' side: what learners get right and wrong, question by question and fact by fact."""

import io
from functools import cached_property

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_safe

from authoring import selectors
from authoring.access import course_staff_required, instructor_required, may_create_courses
from cards.learner_views import CSV_TYPE, download
from courses import stamp as content
from courses.models import Course
from courses.selectors import authored_courses
from gradlab import csvfiles
from lab import selectors as lab_selectors
from lab.presentation import run_label, sandbox_layer_label
from quizzes.presentation import answer_rows, correct_answer


@require_safe
@instructor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    courses = (
        authored_courses(user=request.user)
        .filter(retired_at__isnull=True)
        .annotate(lesson_count=Count("lessons", filter=Q(lessons__retired_at__isnull=True)))
        .order_by("key")
    )
    return TemplateResponse(
        request,
        "authoring/dashboard.html",
        {"courses": courses, "may_create": may_create_courses(request.user)},
    )


def _worded_statistics(course: Course, *, stamp: str = ""):
    """The item analysis with each answer in the reader's words and each question's right answer."""
    items, facts = selectors.course_statistics(course=course, stamp=stamp)
    for item in items:
        item.bars = answer_rows(item.question, item.distribution, answers=item.answers)
        # Choice questions list every option, marked; a prediction is right near what its run measures.
        shown_in_bars = item.question.type in ("single", "multiple", "true_false", "prediction")
        item.right_answer = "" if shown_in_bars else correct_answer(item.question)
    return items, facts


class _Analysis:
    """Worded when the page's cached fragment misses, not before."""

    def __init__(self, course: Course, stamp: str):
        self.course, self.stamp = course, stamp

    @cached_property
    def _worded(self):
        return _worded_statistics(self.course, stamp=self.stamp)

    @property
    def items(self):
        return self._worded[0]

    @property
    def facts(self):
        return self._worded[1]


@require_safe
@course_staff_required
def item_analysis(request: HttpRequest, course: Course) -> HttpResponse:
    # The figures and answers are cached on the answers' stamp (a new answer shows at once),
    # their rendering per language on that stamp and the content's (an edited option too).
    stamp = selectors.statistics_stamp(course=course)
    context = {
        "course": course,
        "analysis": _Analysis(course, stamp),
        "stamp": stamp,
        "content_stamp": content.current(),
    }
    return TemplateResponse(request, "authoring/item_analysis.html", context)


CSV_HEADER = [  # translated when written: the reader's language
    gettext_noop("question"),
    gettext_noop("type"),
    gettext_noop("prompt"),
    gettext_noop("answers"),
    gettext_noop("facility"),
    gettext_noop("discrimination"),
    gettext_noop("answer"),
    gettext_noop("count"),
    gettext_noop("share"),
    gettext_noop("right"),
]


@require_safe
@course_staff_required
def item_analysis_csv(request: HttpRequest, course: Course) -> HttpResponse:
    """One row per answer shown on the page (a question nobody answered: one row without)."""
    items, _facts = _worded_statistics(course)
    buffer = io.StringIO(newline="")
    writer = csvfiles.writer(buffer)  # answers are learners' texts and may begin like a formula
    writer.writerow([_(name) for name in CSV_HEADER])
    for item in items:
        question = item.question
        figures = [
            question.key,
            question.type,
            question.prompt,
            item.answers,
            _rounded(item.facility),
            _rounded(item.discrimination),
        ]
        for bar in item.bars:
            share = round(bar.count / (item.answers or 1), 3)
            writer.writerow([*figures, bar.text, bar.count, share, _("yes") if bar.right else _("no")])
        if not item.bars:
            writer.writerow([*figures, "", "", "", ""])
    content = buffer.getvalue().encode("utf-8")
    return download(content, filename=f"{course.key}-item-analysis.csv", content_type=CSV_TYPE)


def _rounded(value: float | None) -> float | str:
    return "" if value is None else round(value, 3)


@require_safe
@course_staff_required
def course_runs(request: HttpRequest, course: Course) -> HttpResponse:
    """The lab runs learners started from the course's lessons, newest first."""
    runs = lab_selectors.course_runs(course=course)[:200]
    context = {"course": course, "runs": [(run, run_label(run)) for run in runs]}
    # What the sandbox's latest pong said it cannot give a run here (no landlock, no cgroups…).
    missing = lab_selectors.services_alive(now=timezone.now())["missing"]
    context["missing_layers"] = [{**item, "label": sandbox_layer_label(item["layer"])} for item in missing]
    return TemplateResponse(request, "authoring/course_runs.html", context)
