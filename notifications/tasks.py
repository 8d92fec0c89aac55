"""Celery tasks of the notification centre: thin; the services make a second run harmless."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.tasks import RELIABLE

from . import services


@shared_task(**RELIABLE)
def send_deliveries(ids: list[int]) -> dict[str, int]:
    return vars(services.deliveries_send(ids=ids))


@shared_task(**RELIABLE)
def send_pending() -> dict[str, Any]:
    """Every minute: retries whose time has come, robots' deferred messages, senders that died."""
    return vars(services.deliveries_send())
