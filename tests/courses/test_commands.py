from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.courses.content_files import edit, write_test_course

pytestmark = pytest.mark.django_db


def test_load_content_prints_what_it_did(tmp_path):
    folder = write_test_course(tmp_path)
    out = StringIO()

    call_command("load_content", str(folder), stdout=out)

    assert "7 created, 0 updated, 0 unchanged, 0 removed." in out.getvalue()


def test_load_content_warns_of_what_stopped_nothing(tmp_path):
    folder = write_test_course(tmp_path)
    edit(folder / "lessons/first/lesson.yaml", "  - paper2020\n  - book2021\n", "  - paper2020\n")
    out, err = StringIO(), StringIO()

    call_command("load_content", str(folder), stdout=out, stderr=err)

    assert "created" in out.getvalue()
    assert "sources.yaml:7: [1].key: no fact cites the source 'book2021'" in err.getvalue()


def test_load_content_fails_with_file_line_and_field(tmp_path):
    folder = write_test_course(tmp_path)
    edit(folder / "lessons/first/lesson.yaml", "status: verified", "status: maybe")

    with pytest.raises(CommandError) as raised:
        call_command("load_content", str(tmp_path))

    message = str(raised.value)
    assert "1 problem in" in message and "nothing was loaded" in message
    assert "test-course/lessons/first/lesson.yaml:10: facts[0].status: Input should be" in message


def test_dump_content_writes_files_and_then_has_nothing_to_change(tmp_path):
    write_test_course(tmp_path / "in")
    call_command("load_content", str(tmp_path / "in"), stdout=StringIO())
    first, second = StringIO(), StringIO()

    call_command("dump_content", str(tmp_path / "out"), "--course", "test-course", stdout=first)
    call_command("dump_content", str(tmp_path / "out"), "--course", "test-course", stdout=second)

    assert "8 file(s) changed" in first.getvalue()
    assert "0 file(s) changed" in second.getvalue()
