from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.confusables import skeleton_digest
from accounts.models import User
from courses import services as course_services
from courses.models import Course, CourseStaff


class Command(BaseCommand):
    help = (
        "Make an existing account an instructor (the Instructors group, and the admin to edit content); "
        "with --course, also an owner or editor of that course."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--course", metavar="KEY", help="the key of a course they author from now on")
        parser.add_argument(
            "--role", choices=CourseStaff.Role.values, default="owner", help="their role in --course (owner by default)"
        )

    def handle(self, *args, username: str, course: str | None, role: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            look_alike = User.objects.filter(username_skeleton=skeleton_digest(username)).first()
            hint = f"; {look_alike.username!r} looks like it: type its name exactly" if look_alike else ""
            raise CommandError(
                f"no account is called {username!r}{hint or '; create it first (sign up, or createsuperuser)'}"
            )
        if course is None:
            services.user_make_instructor(user=user)
            self.stdout.write(f"{username} is an instructor now.")
            return
        found = Course.objects.filter(key=course).first()
        if found is None:
            keys = ", ".join(Course.objects.values_list("key", flat=True)) or "none yet"
            raise CommandError(f"--course: no course has the key {course!r}; there are: {keys}")
        try:
            with transaction.atomic():
                services.user_make_instructor(user=user)
                if found.staff.filter(user=user).exists():
                    course_services.course_staff_set_role(course=found, user=user, role=role)
                else:
                    course_services.course_staff_add(course=found, user=user, role=role, now=timezone.now())
        except ValidationError as refused:
            raise CommandError(f"--role {role}: {' '.join(refused.messages)}") from None
        self.stdout.write(f"{username} is an instructor now, and an {role} of {found.key}.")
