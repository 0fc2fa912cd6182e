"""The Celery app: `celery -A gradlab worker` (from platform/) runs the lab's experiments."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradlab.settings.local")

app = Celery("gradlab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_reaper(sender: Celery, **_) -> None:
    from django.conf import settings

    sender.add_periodic_task(settings.LAB_REAP_EVERY_S, sender.signature("lab.tasks.reap_runs"), name="reap runs")
