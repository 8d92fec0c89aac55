"""In-app: the delivery becomes an item of the recipient's notification centre, in the claim's transaction."""

from __future__ import annotations

from notifications.models import Delivery, Notification

from . import Outcome


class InAppSender:
    code = "inapp"

    def send(self, delivery: Delivery) -> Outcome:
        if delivery.recipient_id is None:
            return Outcome(ok=False, permanent=True, error="接收人已不存在。")
        effects = list(delivery.effects.order_by("-level", "id"))
        items = [{"text": e.title, "url": e.url, "level": e.level} for e in effects]
        first = effects[0] if effects else None
        Notification.objects.get_or_create(
            delivery=delivery,
            defaults={
                "recipient_id": delivery.recipient_id, "group": first.group if first else "event",
                "level": delivery.level, "title": delivery.subject, "items": items,
                "url": first.url if first and len(effects) == 1 else "",
            },
        )
        return Outcome(ok=True, vendor_ref=f"n{delivery.pk}")
