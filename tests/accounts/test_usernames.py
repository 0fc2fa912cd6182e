"""Usernames are unique by their confusable skeleton (UTS #39): a look-alike cannot pass for another."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse

from accounts.confusables import skeleton, skeleton_digest
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSPHRASE = "a long passphrase 42"


@pytest.mark.parametrize(
    ("name", "look_alike"),
    [
        ("alice", "\u0430lice"),  # Cyrillic а
        ("ines", "\u0456nes"),  # Ukrainian і
        ("modern", "rnodern"),  # m and r n
        ("lan", "Ian"),  # capital I and small l
        ("paul", "pau\u217c"),  # small Roman numeral fifty
        ("bob", "b\u1d0fb"),  # small capital o
    ],
)
def test_look_alikes_share_a_skeleton(name, look_alike):
    assert skeleton(name) == skeleton(look_alike)


@pytest.mark.parametrize(("name", "other"), [("alice", "alicia"), ("lena", "luis"), ("bob", "b0b")])
def test_different_names_keep_different_skeletons(name, other):
    assert skeleton(name) != skeleton(other)


def test_a_look_alike_of_an_existing_username_is_refused_at_signup(client, db):
    UserFactory(username="alice")

    response = client.post(
        reverse("signup"),
        {"username": "\u0430lice", "email": "a@example.com", "password1": PASSPHRASE, "password2": PASSPHRASE},
    )

    assert response.context["form"].errors["username"] == [
        "This username looks too much like an existing one. Please choose another."
    ]
    assert User.objects.count() == 1


def test_the_admin_refuses_a_look_alike_username(client, db):
    admin = User.objects.create_superuser("root", "root@example.com", "a long passphrase 42")
    UserFactory(username="alice")
    client.force_login(admin)

    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "\u0430lice", "password1": "a long passphrase 42", "password2": "a long passphrase 42",
         "usable_password": "true"},
    )  # fmt: skip

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["username"] == [
        "This username looks too much like an existing one. Please choose another."
    ]
    assert not User.objects.filter(username="\u0430lice").exists()


def test_the_database_refuses_a_look_alike_from_anywhere_else(db):
    User.objects.create_user("alice", "alice@example.com", "x")

    with pytest.raises(IntegrityError):
        User.objects.create_user("\u0430lice", "other@example.com", "x")


def test_a_renamed_account_gets_its_new_skeleton(learner):
    learner.username = "lenora"
    learner.save(update_fields=["username"])

    learner.refresh_from_db()
    assert learner.username_skeleton == skeleton_digest("lenora")


def test_make_instructor_names_the_look_alike_instead_of_guessing(db):
    UserFactory(username="\u0430lice")

    with pytest.raises(CommandError, match=r"no account is called 'alice'.*looks like it"):
        call_command("make_instructor", "alice", stdout=io.StringIO())

    assert not User.objects.get(username="\u0430lice").is_instructor


def test_the_migration_gives_existing_accounts_their_skeleton_and_keeps_old_look_alikes(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0002_username_skeleton_email_confirmed")
    older, younger = UserFactory(username="alice"), UserFactory(username="bob")
    # Accounts from before the skeleton: one of them already looks like the other.
    User.objects.filter(pk=younger.pk).update(username="\u0430lice", username_skeleton="old-1")
    User.objects.filter(pk=older.pk).update(username_skeleton="old-2")

    migration.backfill_skeletons(apps, None)

    assert User.objects.get(pk=older.pk).username_skeleton == skeleton_digest("alice")
    assert User.objects.get(pk=younger.pk).username_skeleton == skeleton_digest(f"\u0430lice#{younger.pk}")
