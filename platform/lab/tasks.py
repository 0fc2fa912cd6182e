"""Celery tasks of the lab: thin, they take ids and call a service."""

import socket

from celery import shared_task

from lab import execution, services

WORKER = f"{socket.gethostname()}"


@shared_task(name="lab.tasks.run_experiment")
def run_experiment(run_id: int) -> str | None:
    from celery import current_task

    worker = f"{current_task.request.hostname or WORKER}/{current_task.request.id}"
    return execution.run_execute(run_id=run_id, worker=worker)


@shared_task(name="lab.tasks.reap_runs")
def reap_runs() -> int:
    # Only the beat queues this task: its running proves the scheduler (and a worker) alive.
    from lab.models import ServiceHeartbeat

    services.heartbeat_stamp(name=ServiceHeartbeat.Name.SCHEDULER, where=WORKER)
    return services.run_reap()
