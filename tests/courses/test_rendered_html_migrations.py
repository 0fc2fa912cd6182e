"""An old database upgraded: the rendered_html migrations fill the new HTML columns of the
rows it already has (courses 0003, quizzes 0003, cards 0002, through courses.rendering)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from courses.rendering import rendered_models

# The last migration of each app before its HTML columns came.
BEFORE = [("courses", "0002_course_staff"), ("quizzes", "0002_alter_question_type"), ("cards", "0001_initial")]
OLD = "old-course"

pytestmark = pytest.mark.django_db(transaction=True)  # the schema changes: no test transaction around it


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # its loader reads what is applied now


def old_rows(apps) -> None:
    """A course as the version before stored it: Markdown, and no HTML column yet."""
    texts = {"title_de": "Alt", "title_en": "Old", "summary_de": "Kurz.", "summary_en": "Short."}
    course = apps.get_model("courses", "Course").objects.create(key=OLD, **texts)
    lesson = apps.get_model("courses", "Lesson").objects.create(
        course=course, key="one", body_de="Der Gradient **schwindet**.", body_en="The gradient **vanishes**.", **texts
    )
    fact = apps.get_model("courses", "Fact").objects.create(
        course=course,
        lesson=lesson,
        key="shrinks",
        number=1,
        status="verified",
        statement_de="$\\sigma'(x) \\le 0{,}25$",
        statement_en="$\\sigma'(x) \\le 0.25$",
        explanation_de="Schicht um *Schicht*.",
        explanation_en="Layer by *layer*.",
        note_en="A `note`.",
    )
    apps.get_model("quizzes", "Question").objects.create(
        course=course,
        lesson=lesson,
        key="how-small",
        type="short",
        prompt_de="Höchstens ___.",
        prompt_en="At most ___.",
        explanation_de="**Ein Viertel.**",
        explanation_en="**A quarter.**",
        data={"answers": ["0.25"], "hint": {"de": "*klein*", "en": "*small*"}},
    )
    apps.get_model("cards", "Note").objects.create(
        course=course, lesson=lesson, fact=fact, key="bound", type="basic", front_en="At most?", back_en="**¼**"
    )


def test_upgrading_an_old_database_renders_the_html_of_its_rows():
    executor = migrate(BEFORE)
    latest = executor.loader.graph.leaf_nodes()
    try:
        old_rows(executor.loader.project_state(BEFORE).apps)
        migrate(latest)
    finally:
        migrate(latest)  # the next tests need today's schema, also when this one fails

    checked = {}
    for model in rendered_models():
        row = model._base_manager.get(course__key=OLD)
        stored = {name: getattr(row, name) for name in model.RENDERED}
        assert stored == model.render_html(row), model.__name__
        checked[model.__name__] = stored
    assert set(checked) == {"Lesson", "Fact", "Question", "Note"}
    assert checked["Lesson"]["body_html_en"] == "<p>The gradient <strong>vanishes</strong>.</p>\n"
    assert "<math" in checked["Fact"]["statement_html_de"]
    assert checked["Question"]["data_html"]["texts"]["hint"]["de"] == "<em>klein</em>"
    assert checked["Note"]["sides_html"]["en"][0][1] == "<p><strong>¼</strong></p>\n"
