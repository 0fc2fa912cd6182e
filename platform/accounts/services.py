from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.models import INSTRUCTORS_GROUP, User
from accounts.roles import ACTIONS, INSTRUCTOR_MODELS


@transaction.atomic
def instructor_group_sync() -> Group:
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    wanted = [f"{action}_{model}" for _app, model in INSTRUCTOR_MODELS for action in ACTIONS]
    permissions = Permission.objects.filter(
        content_type__app_label__in={app for app, _model in INSTRUCTOR_MODELS},
        content_type__model__in={model for _app, model in INSTRUCTOR_MODELS},
        codename__in=wanted,
    )
    group.permissions.set(permissions)
    return group


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", language: str = "") -> User:
    user = User(username=username, email=email, language=language)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_make_instructor(*, user: User) -> User:
    user.groups.add(instructor_group_sync())
    if not user.is_staff:
        # The admin is the instructors' editor for content from day one.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


def user_set_language(*, user: User, language: str) -> None:
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
