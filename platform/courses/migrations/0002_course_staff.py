"""Course staff: owners and editors of each course.

Upgrading keeps every instructor's access: each member of the Instructors group becomes an
owner of every course that exists when this migration runs (until now every instructor
could see and edit every course). Courses imported later get no staff by themselves; an
admin (or `make_instructor --course`) adds their owners.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

INSTRUCTORS_GROUP = "Instructors"


def instructors_own_every_course(apps, schema_editor):
    Course = apps.get_model("courses", "Course")
    CourseStaff = apps.get_model("courses", "CourseStaff")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    now = timezone.now()
    instructors = User.objects.filter(groups__name=INSTRUCTORS_GROUP).distinct()
    CourseStaff.objects.bulk_create(
        [
            CourseStaff(course=course, user=user, role="owner", added_at=now)
            for course in Course.objects.all()
            for user in instructors
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CourseStaff",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[("owner", "owner"), ("editor", "editor")], max_length=8, verbose_name="role"
                    ),
                ),
                ("added_at", models.DateTimeField(verbose_name="added at")),
                (
                    "course",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="staff", to="courses.course"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="course_roles",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "course staff member",
                "verbose_name_plural": "course staff",
                "ordering": ["course", "-role", "user__username"],
                "constraints": [models.UniqueConstraint(fields=("course", "user"), name="course_staff_once")],
            },
        ),
        migrations.RunPython(instructors_own_every_course, migrations.RunPython.noop, elidable=True),
    ]
