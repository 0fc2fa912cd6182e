from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.confusables import skeleton_digest
from accounts.models import User


class Command(BaseCommand):
    help = "Make an existing account an instructor (the Instructors group, and the admin to edit content)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            look_alike = User.objects.filter(username_skeleton=skeleton_digest(username)).first()
            hint = f"; {look_alike.username!r} looks like it: type its name exactly" if look_alike else ""
            raise CommandError(
                f"no account is called {username!r}{hint or '; create it first (sign up, or createsuperuser)'}"
            )
        services.user_make_instructor(user=user)
        self.stdout.write(f"{username} is an instructor now.")
