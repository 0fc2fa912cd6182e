"""A course moves between servers as a .zip of its content files; a bad bundle is refused
with the loader's file:line: field messages, and nothing is written."""

import io
import os
import stat
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from authoring import bundles
from authoring.bundles import ContentConflict, course_dump_files, export_bundle, import_bundle
from authoring.models import CourseDraft, CourseImport
from courses.content.errors import ContentError
from courses.models import Course, Lesson
from tests.cards.card_files import write_card_course

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def zipped(files: dict[str, bytes | str], *, symlinks: tuple[str, ...] = ()) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            kind = stat.S_IFLNK if name in symlinks else stat.S_IFREG
            info.external_attr = (kind | 0o644) << 16
            bundle.writestr(info, data)
    buffer.seek(0)
    return buffer


def course_files(tmp_path, key: str = "test-course") -> dict[str, bytes]:
    """A valid course (with questions, quizzes and cards) as bundle entries."""
    folder = write_card_course(tmp_path / "files", key=key)
    return {
        f"{key}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def dump(course_key: str) -> dict[str, str]:
    return bundles.course_dump_files(Course.objects.get(key=course_key))


def database_state() -> tuple:
    return (
        list(Course.objects.order_by("key").values_list("key", "title_en")),
        Lesson.objects.count(),
        list(CourseImport.objects.order_by("course__key").values_list("course__key", "digest")),
    )


# ---------------------------------------------------------------- good bundles


def test_a_bundle_holds_the_course_files_under_its_key(tmp_path):
    bundles.content_load(path=write_card_course(tmp_path))

    data = export_bundle(Course.objects.get(key="test-course"))

    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names = bundle.namelist()
        assert "test-course/lessons/first/cards.yaml" in names and "test-course/quizzes.yaml" in names
        assert (
            bundle.read("test-course/lessons/first/en.md")
            == (tmp_path / "test-course/lessons/first/en.md").read_bytes()
        )
    assert export_bundle(Course.objects.get(key="test-course")) == data  # the same bytes for the same content


def test_a_bundle_imports_a_new_course_and_then_follows_the_load_rules(tmp_path):
    report = import_bundle(zipped(course_files(tmp_path, key="moved")), name="moved.zip")

    assert "course moved" in report.created
    assert CourseImport.objects.get(course__key="moved").origin == "bundle moved.zip"
    Lesson.objects.filter(course__key="moved", key="first").update(title_en="Edited here")
    with pytest.raises(ContentConflict, match="the course 'moved' was changed in the database"):
        import_bundle(zipped(course_files(tmp_path, key="moved")))
    assert Lesson.objects.get(course__key="moved", key="first").title_en == "Edited here"

    report = import_bundle(zipped(course_files(tmp_path, key="moved")), replace=True)

    assert report.replaced == ["course moved"]
    assert Lesson.objects.get(course__key="moved", key="first").title_en == "First lesson"


def test_the_commands_export_and_import_a_course(tmp_path):
    target = tmp_path / "course.zip"
    out = StringIO()

    call_command("export_course", "vanishing-gradient", "-o", str(target), stdout=out)

    assert f"Course vanishing-gradient written to {target}" in out.getvalue()
    assert target.read_bytes() == export_bundle(Course.objects.get(key="vanishing-gradient"))
    out = StringIO()
    call_command("import_course", str(target), stdout=out)  # it holds what the database holds
    assert "0 created, 0 updated" in out.getvalue()
    with pytest.raises(CommandError, match="course: no course has the key 'nope'"):
        call_command("export_course", "nope", "-o", str(tmp_path / "nope.zip"))
    out = StringIO()
    call_command("import_course", str(target), "--as-draft", stdout=out)  # the bundle as the course's draft
    assert "Draft of vanishing-gradient (version 1)" in out.getvalue()
    assert CourseDraft.objects.get(course__key="vanishing-gradient").files == course_dump_files(
        Course.objects.get(key="vanishing-gradient")
    )


@pytest.mark.slow
def test_a_bundle_from_one_database_imports_identically_into_a_fresh_one(tmp_path):
    bundle = tmp_path / "vanishing-gradient.zip"
    bundle.write_bytes(export_bundle(Course.objects.get(key="vanishing-gradient")))
    bundles.content_dump(path=tmp_path / "here", course_keys=["vanishing-gradient"])
    environment = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment |= {"GRADLAB_VAR_DIR": str(tmp_path / "fresh"), "DJANGO_SETTINGS_MODULE": "gradlab.settings.local"}

    for command in (
        ["migrate", "--no-input", "-v", "0"],
        ["import_course", str(bundle)],
        ["dump_content", str(tmp_path / "there")],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=environment, check=True, capture_output=True
        )

    here = {p.relative_to(tmp_path / "here"): p.read_bytes() for p in (tmp_path / "here").rglob("*") if p.is_file()}
    there = {p.relative_to(tmp_path / "there"): p.read_bytes() for p in (tmp_path / "there").rglob("*") if p.is_file()}
    assert len(here) > 20 and here == there


# ---------------------------------------------------------------- bad bundles


def broken(tmp_path, change) -> io.BytesIO:
    files = course_files(tmp_path)
    change(files)
    return zipped(files)


def replace_in(name: str, old: str, new: str):
    def change(files):
        assert old.encode() in files[name]
        files[name] = files[name].replace(old.encode(), new.encode(), 1)

    return change


BOMB = b"\0" * (bundles.MAX_FILE_BYTES - 1)  # 2 MiB of zeros pack into 2 KiB


BAD_BUNDLES = {
    "bad YAML": (
        replace_in("test-course/course.yaml", "  de: Testkurs", "  de: [Testkurs"),
        "bundle.zip/test-course/course.yaml:3: not valid YAML",
    ),
    "a field the schema refuses": (
        replace_in("test-course/sources.yaml", "year: 2020", "year: 20200"),
        "bundle.zip/test-course/sources.yaml:3: [0].year: Input should be less than or equal to 2100",
    ),
    "a bad question": (
        replace_in("test-course/lessons/first/questions.yaml", "facts:\n  - fact-one", "facts:\n  - no-such-fact"),
        "bundle.zip/test-course/lessons/first/questions.yaml:",
    ),
    "a missing file": (
        lambda files: files.pop("test-course/lessons/second/en.md"),
        "bundle.zip/test-course/lessons/second/en.md: file is missing",
    ),
    "a path with ..": (
        lambda files: files.update({"test-course/../evil/course.yaml": b"x"}),
        "bundle.zip: test-course/../evil/course.yaml: a path with '..'",
    ),
    "an absolute path": (
        lambda files: files.update({"/etc/cron.d/evil": b"x"}),
        "an absolute path: a bundle holds paths inside its course folder only",
    ),
    "a Windows path": (
        lambda files: files.update({"test-course\\..\\evil": b"x"}),
        "bundle.zip: test-course\\..\\evil: a backslash in the path",
    ),
    "a file outside the course folder": (
        lambda files: files.update({"course.yaml": b"x"}),
        "bundle.zip: course.yaml: a file outside the course folder",
    ),
    "two courses": (
        lambda files: files.update({"other-course/course.yaml": b"x"}),
        "2 top folders (other-course, test-course): a bundle holds one course",
    ),
    "a file no course has": (
        lambda files: files.update({"test-course/lessons/first/run.sh": b"#!/bin/sh\n"}),
        "bundle.zip: test-course/lessons/first/run.sh: not a file of a course",
    ),
    "a zip bomb": (
        lambda files: files.update({"test-course/lessons/first/de.md": BOMB}),
        "bundle.zip: test-course/lessons/first/de.md: compressed more than any text is: refused as a zip bomb",
    ),
    "a file too large": (
        lambda files: files.update({"test-course/lessons/first/de.md": os.urandom(bundles.MAX_FILE_BYTES + 1)}),
        f"bytes: a file of a bundle holds at most {bundles.MAX_FILE_BYTES}",
    ),
    "too many entries": (
        lambda files: files.update({f"test-course/lessons/l{n}/": b"" for n in range(bundles.MAX_ENTRIES)}),
        f"entries: a bundle holds at most {bundles.MAX_ENTRIES}",
    ),
    "a bad course key": (
        lambda files: files.update({f"Bad_Key/{name.split('/', 1)[1]}": files.pop(name) for name in list(files)}),
        "bundle.zip: Bad_Key/: the folder name is the course key",
    ),
    "not UTF-8": (
        lambda files: files.update({"test-course/lessons/first/en.md": b"caf\xe9\n"}),
        "bundle.zip/test-course/lessons/first/en.md:1: not UTF-8 text",
    ),
}


@pytest.mark.parametrize("kind", BAD_BUNDLES)
def test_a_bad_bundle_is_refused_with_its_file_and_line_and_nothing_is_written(tmp_path, kind):
    change, message = BAD_BUNDLES[kind]
    before = database_state()

    with pytest.raises(ContentError) as raised:
        import_bundle(broken(tmp_path, change), name="bundle.zip")

    assert message in str(raised.value)
    assert database_state() == before


def test_a_symbolic_link_is_refused(tmp_path):
    files = course_files(tmp_path)
    files["test-course/lessons/first/de.md"] = b"/etc/passwd"

    with pytest.raises(ContentError, match=r"^bundle\.zip: test-course/lessons/first/de\.md: a symbolic link"):
        import_bundle(zipped(files, symlinks=("test-course/lessons/first/de.md",)), name="bundle.zip")

    assert not Course.objects.filter(key="test-course").exists()


def test_what_is_not_a_zip_is_refused(tmp_path):
    with pytest.raises(ContentError, match=r"^bundle.zip: not a \.zip file"):
        import_bundle(io.BytesIO(b"PK\3\4 but not really"), name="bundle.zip")


def test_a_damaged_bundle_is_refused(tmp_path):
    data = bytearray(zipped(course_files(tmp_path)).getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as bundle:
        info = bundle.getinfo("test-course/lessons/first/lesson.yaml")
    start = info.header_offset + 30 + len(info.filename)  # the entry's compressed bytes
    data[start + 5 : start + 15] = b"\xff" * 10

    with pytest.raises(ContentError, match=r"^bundle.zip: the bundle is damaged"):
        import_bundle(io.BytesIO(bytes(data)), name="bundle.zip")

    assert not Course.objects.filter(key="test-course").exists()


def test_the_import_command_says_what_is_wrong_and_exits_non_zero(tmp_path):
    target = tmp_path / "bad.zip"
    target.write_bytes(broken(tmp_path, replace_in("test-course/sources.yaml", "year: 2020", "year: 20200")).getvalue())

    with pytest.raises(CommandError) as raised:
        call_command("import_course", str(target))

    assert "1 problem in" in str(raised.value) and "nothing was imported" in str(raised.value)
    assert "bad.zip/test-course/sources.yaml:3: [0].year" in str(raised.value)
    assert not Course.objects.filter(key="test-course").exists()
