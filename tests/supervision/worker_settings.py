"""Settings for a real Celery worker (and beat) started by tests/supervision/test_crash.py.

The test settings, made real: tasks go through Redis instead of running eagerly, on the test database the test
process created (its name comes from the environment, so the worker never touches another database), with a short
visibility timeout so that the message of a killed worker comes back within seconds, a short delivery lease, and
email written to a file, one line per message, slowly enough that a kill lands in the middle of the sending.

Environment (set by the test): ZG_WORKER_DB_NAME, ZG_WORKER_BROKER_URL, ZG_WORKER_QUEUE, ZG_WORKER_MAIL_LOG;
optionally ZG_WORKER_VISIBILITY (the visibility timeout, seconds), ZG_WORKER_MAIL_DELAY (seconds per message),
ZG_WORKER_BEAT_DAY and ZG_WORKER_BEAT_EVERY (seconds), ZG_WORKER_BEAT_TASK (the task the beat fires, by default
the daily sweep).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: this settings module is for the worker a test starts")
    return value


DATABASES["default"]["NAME"] = _required("ZG_WORKER_DB_NAME")

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = _required("ZG_WORKER_BROKER_URL")
# One queue per test: two tests (or two test runs) side by side never take each other's messages.
CELERY_TASK_DEFAULT_QUEUE = _required("ZG_WORKER_QUEUE")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged message (its worker was killed) is delivered again after 10 s, checked every second. A task
    # that runs longer than this is delivered again while it runs (a test that wants each message run once sets
    # more).
    "visibility_timeout": int(os.environ.get("ZG_WORKER_VISIBILITY", "10")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULER = "celery.beat:PersistentScheduler"
_BEAT_TASK = os.environ.get("ZG_WORKER_BEAT_TASK", "supervision.tasks.daily_sweep")
CELERY_BEAT_SCHEDULE = (
    {
        _BEAT_TASK.replace(".tasks.", "."): {
            "task": _BEAT_TASK,
            "schedule": float(os.environ["ZG_WORKER_BEAT_EVERY"]),
            "args": [os.environ["ZG_WORKER_BEAT_DAY"]],
        },
    }
    if os.environ.get("ZG_WORKER_BEAT_EVERY")
    else {}
)

DELIVERY_LEASE_SECONDS = 5
EMAIL_BACKEND = "tests.supervision.worker_settings.SlowFileEmailBackend"
MAIL_LOG = _required("ZG_WORKER_MAIL_LOG")
MAIL_DELAY = float(os.environ.get("ZG_WORKER_MAIL_DELAY", "0.05"))


class SlowFileEmailBackend(BaseEmailBackend):
    """A mail server that takes its time: waits MAIL_DELAY per message, then appends one line per message
    (Message-ID, recipients, the sending process) to MAIL_LOG. A line is one short write in append mode, so lines
    of two processes never mix."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        count = 0
        for message in email_messages:
            time.sleep(MAIL_DELAY)
            line = f"{message.extra_headers.get('Message-ID', '')}\t{','.join(message.to)}\t{os.getpid()}\n"
            fd = os.open(MAIL_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
            count += 1
        return count
