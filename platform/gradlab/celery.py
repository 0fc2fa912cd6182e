"""The Celery app: `celery -A gradlab worker` (from platform/) runs the lab's experiments."""

import os

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradlab.settings.local")

app = Celery("gradlab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_reaper(sender: Celery, **_) -> None:
    from django.conf import settings

    sender.add_periodic_task(settings.LAB_REAP_EVERY_S, sender.signature("lab.tasks.reap_runs"), name="reap runs")


_heartbeat_stop = None


@worker_ready.connect
def start_heartbeats(**_) -> None:
    """In the worker's main process (not its pool): the worker and its sandbox service are
    alive while this thread stamps them. Imported here only: the web never imports it."""
    global _heartbeat_stop
    from lab import liveness

    _heartbeat_stop = liveness.start()


@worker_shutdown.connect
def stop_heartbeats(**_) -> None:
    if _heartbeat_stop is not None:
        _heartbeat_stop.set()
