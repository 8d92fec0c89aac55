"""Email through Django's configured backend (SMTP from the environment; console in development).

The delivery's key goes out as the Message-ID, so a mail server or reader that sees the same message twice can
tell it is one."""

from __future__ import annotations

import hashlib
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from notifications.models import Delivery

from . import Outcome


def message_id(delivery: Delivery) -> str:
    digest = hashlib.sha256(delivery.key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{digest}@{domain}>"


class EmailSender:
    code = "email"

    def send(self, delivery: Delivery) -> Outcome:
        if not delivery.address:
            return Outcome(ok=False, permanent=True, error="接收人没有邮箱地址。")
        msg = EmailMessage(
            subject=f"【整改台账】{delivery.subject}", body=delivery.body, to=[delivery.address],
            headers={"Message-ID": message_id(delivery)},
        )
        try:
            msg.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome(ok=False, permanent=True, error=f"邮件服务器拒收该地址：{exc}"[:500])
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            return Outcome(ok=False, error=f"邮件发送失败：{exc}"[:500])
        return Outcome(ok=True, vendor_ref=message_id(delivery))
