import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import services
from accounts.models import User
from courses.models import Course, CourseStaff

DEMO_ACCOUNTS = [
    {"username": "instructor", "email": "instructor@example.com", "role": "instructor"},
    {"username": "learner", "email": "learner@example.com", "role": "learner"},
]


class Command(BaseCommand):
    help = (
        "Create the demo instructor and learner of the embedded default (once), and print "
        "their credentials. Passwords are random and kept in var/demo-accounts.json. The demo instructor "
        "owns the first course (by key), unless they are on its staff already."
    )

    def handle(self, *args, **options):
        store = settings.VAR_DIR / "demo-accounts.json"
        known = json.loads(store.read_text()) if store.is_file() else {}
        for account in DEMO_ACCOUNTS:
            username = account["username"]
            user = User.objects.filter(username=username).first()
            if user is None or username not in known or not user.check_password(known[username]):
                known[username] = secrets.token_urlsafe(9)
                if user is None:
                    user = services.user_create(username=username, email=account["email"], password=known[username])
                else:
                    user.set_password(known[username])
                    user.save(update_fields=["password"])
            if account["role"] == "instructor":
                services.user_make_instructor(user=user)
                self._own_first_course(user)
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(known, indent=2))
        store.chmod(0o600)
        self.stdout.write("Demo accounts (log in at /accounts/login/):")
        for account in DEMO_ACCOUNTS:
            username = account["username"]
            self.stdout.write(f"  {account['role']:<10} user {username:<11} password {known[username]}")

    def _own_first_course(self, user) -> None:
        course = Course.objects.live().order_by("key").first()
        if course is not None and not course.staff.filter(user=user).exists():
            CourseStaff.objects.create(course=course, user=user, role=CourseStaff.Role.OWNER, added_at=timezone.now())
