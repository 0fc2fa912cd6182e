from django.db import migrations, models


def backfill_skeletons(apps, schema_editor):
    """Existing accounts get their skeleton. Where two of them already look alike, the older
    keeps the skeleton (so no newcomer can take it) and the younger one gets the digest of
    its name and id, which keeps both accounts working."""
    from accounts.confusables import skeleton_digest

    User = apps.get_model("accounts", "User")
    taken = set()
    for user in User.objects.order_by("date_joined", "pk").only("pk", "username").iterator():
        value = skeleton_digest(user.username)
        if value in taken:
            value = skeleton_digest(f"{user.username}#{user.pk}")
        taken.add(value)
        User.objects.filter(pk=user.pk).update(username_skeleton=value)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="username skeleton"),
        ),
        migrations.RunPython(backfill_skeletons, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(editable=False, max_length=64, unique=True, verbose_name="username skeleton"),
        ),
        migrations.AddField(
            model_name="user",
            name="email_confirmed",
            field=models.BooleanField(default=True, verbose_name="e-mail address confirmed"),
        ),
    ]
