from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from courses.content.model import LANGUAGES, CourseContent, LessonContent
from courses.content.schema import CourseFile, FactEntry, LessonFile, SourceEntry
from courses.models import Course, CourseStaff, Fact, Lesson, LessonProgress, Source
from courses.translation import LANGUAGE_CODES

# Long texts a page need not read: the Markdown sources where it shows their stored HTML,
# and the HTML where it shows neither (a list of lessons).
MARKDOWN = {
    "lesson": tuple(f"body_{code}" for code in LANGUAGE_CODES),
    "fact": tuple(f"{name}_{code}" for name in ("statement", "explanation", "note") for code in LANGUAGE_CODES),
}
HTML = {"lesson": tuple(f"body_html_{code}" for code in LANGUAGE_CODES)}


def course_list() -> QuerySet[Course]:
    """The courses learners see: live ones with at least one lesson (a new, empty course
    stays off the list until its staff have written one)."""
    return (
        Course.objects.live()
        .annotate(
            lesson_count=Count("lessons", filter=Q(lessons__retired_at__isnull=True), distinct=True),
            fact_count=Count("facts", filter=Q(facts__retired_at__isnull=True), distinct=True),
        )
        .filter(lesson_count__gt=0)
    )


def course_lessons(*, course: Course) -> QuerySet[Lesson]:
    return (
        course.lessons.live()
        .defer(*MARKDOWN["lesson"], *HTML["lesson"])  # the list shows titles and summaries, not the texts
        .annotate(fact_count=Count("facts", filter=Q(facts__retired_at__isnull=True)))
        .order_by("position")
    )


def lessons_done(*, user, course: Course | None = None) -> set[int]:
    """Ids of the lessons this user marked as done (none for anonymous visitors)."""
    if not user.is_authenticated:
        return set()
    progress = LessonProgress.objects.filter(user=user, lesson__retired_at__isnull=True)
    if course is not None:
        progress = progress.filter(lesson__course=course)
    return set(progress.values_list("lesson_id", flat=True))


def lesson_done(*, user, lesson: Lesson) -> bool:
    """Whether this user marked this lesson as done (never for anonymous visitors)."""
    return user.is_authenticated and LessonProgress.objects.filter(user=user, lesson=lesson).exists()


def lesson_facts(*, lesson: Lesson) -> QuerySet[Fact]:
    return (
        lesson.facts.live()
        .order_by("position")
        .prefetch_related(Prefetch("sources", queryset=Source.objects.order_by("factsource__position")))
    )


def lesson_neighbours(*, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    """The live lessons before and after this one, in one query (a course has a few dozen at most)."""
    siblings = list(lesson.course.lessons.live().only("id", "key", "position", "title_de", "title_en", "course_id"))
    previous = max((s for s in siblings if s.position < lesson.position), key=lambda s: s.position, default=None)
    following = min((s for s in siblings if s.position > lesson.position), key=lambda s: s.position, default=None)
    return previous, following


def _translated(row, field: str) -> dict[str, str]:
    return {language: getattr(row, f"{field}_{language}") for language in LANGUAGES}


def course_content(*, course: Course) -> CourseContent:
    """The course as its content files describe it; raises pydantic's ValidationError if
    an edit in the admin left it in a state the files cannot hold."""
    sources = [
        SourceEntry.model_validate(
            {
                "key": source.key,
                "authors": source.authors,
                "year": source.year,
                "title": source.title,
                "venue": source.venue,
                "url": source.url or None,
            }
        )
        for source in course.sources.order_by("position")
    ]
    lessons = []
    for lesson in course.lessons.live().order_by("position"):
        facts = []
        for fact in lesson_facts(lesson=lesson):
            note = _translated(fact, "note")
            facts.append(
                FactEntry.model_validate(
                    {
                        "key": fact.key,
                        "number": fact.number,
                        "status": fact.status,
                        "statement": _translated(fact, "statement"),
                        "explanation": _translated(fact, "explanation"),
                        "note": note if any(note.values()) else None,
                        "sources": [source.key for source in fact.sources.all()],
                    }
                )
            )
        meta = LessonFile.model_validate(
            {"title": _translated(lesson, "title"), "summary": _translated(lesson, "summary"), "facts": facts}
        )
        lessons.append(LessonContent(key=lesson.key, meta=meta, body=_translated(lesson, "body")))
    meta = CourseFile.model_validate(
        {
            "title": _translated(course, "title"),
            "summary": _translated(course, "summary"),
            "lessons": [lesson.key for lesson in lessons],
        }
    )
    return CourseContent(key=course.key, meta=meta, sources=sources, lessons=lessons)


Role = CourseStaff.Role


def authored_courses(*, user, role: str = Role.EDITOR) -> QuerySet[Course]:
    """The courses this user may author with at least `role` (an owner may do all an editor
    may), retired ones included, each with its `staff_role` (None for an admin who is not
    on its staff). Admins (superusers) author every course, as owners."""
    if not user.is_authenticated or not user.is_active:
        return Course.objects.none()
    own_role = CourseStaff.objects.filter(course=OuterRef("pk"), user=user).values("role")[:1]
    courses = Course.objects.annotate(staff_role=Subquery(own_role))
    if user.is_superuser:
        return courses
    roles = [Role.OWNER] if role == Role.OWNER else [Role.OWNER, Role.EDITOR]
    return courses.filter(staff__user=user, staff__role__in=roles)


def authored_course(*, user, key: str, role: str = Role.EDITOR) -> Course:
    """A live course this user may author with `role`; Http404 alike for one that does not
    exist and one of someone else, so that nobody learns which other courses there are."""
    course = authored_courses(user=user, role=role).filter(key=key, retired_at__isnull=True).first()
    if course is None:
        raise Http404("no such course")
    return course


def course_staff(*, course: Course) -> QuerySet[CourseStaff]:
    return course.staff.select_related("user").order_by("-role", "user__username")
