from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(**kwargs) -> None:
    # Permissions only exist after migrate has run, so the instructor role is kept in
    # step here, the same way Django itself creates permissions.
    from accounts.services import instructor_group_sync

    instructor_group_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts.sync_roles")
