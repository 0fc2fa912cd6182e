"""The worker's heartbeats: a thread in the worker's main process stamps "worker", and
"sandbox" when its sandbox service answers a ping. Worker-side only (it imports
sandbox.client); started by gradlab.celery when the worker is ready."""

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from lab import services
from lab.models import ServiceHeartbeat
from sandbox import client
from sandbox.protocol import ProtocolError

log = logging.getLogger(__name__)


def where() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


def beat_once(*, socket_path: str, at: str) -> bool:
    """Stamp "worker", and "sandbox" if its service is alive; True when the sandbox was."""
    services.heartbeat_stamp(name=ServiceHeartbeat.Name.WORKER, where=at)
    try:
        pong = client.ping(socket_path, timeout_s=2.0)
    except (OSError, ProtocolError) as error:
        log.warning("the sandbox service at %s does not answer: %s", socket_path, error)
        return False
    # None: it took the connection but runs as many runs as it may; alive, its layers unchanged.
    services.heartbeat_stamp(name=ServiceHeartbeat.Name.SANDBOX, where=at, missing=pong["missing"] if pong else None)
    return True


def _loop(stop: threading.Event, at: str) -> None:
    while not stop.is_set():
        try:
            beat_once(socket_path=settings.LAB_SANDBOX_SOCKET, at=at)
        except DatabaseError as error:  # the database is away: the next beat tries again
            log.warning("heartbeat not stored: %s", error)
        finally:
            close_old_connections()
        stop.wait(settings.LAB_SERVICE_BEAT_S)


def start() -> threading.Event:
    """Start the heartbeat thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop, where()), name="gradlab-heartbeat", daemon=True).start()
    return stop
