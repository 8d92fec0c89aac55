"""Channels behind one interface: `get(code).send(delivery) -> Outcome`.

A channel is switched on per deployment (NOTIFY_CHANNELS), allowed by the office (ChannelSwitch) and chosen by
users (Preference); robots are set per unit and per campaign by the office.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from notifications.models import Delivery


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""
    vendor_ref: str = ""
    # The channel will never accept this as it stands (bad address, bad robot URL or signature).
    permanent: bool = False
    # Seconds to wait before trying again (a rate limit); None → the usual backoff.
    retry_after: float | None = None
    # The robot must be suspended until then / disabled (permanent errors).
    suspend_seconds: float | None = None
    disable_robot: bool = False
    # The request went out and no answer came (a timeout or a cut connection while waiting): the platform may have
    # the message. It is marked 结果未知 and not sent again by itself, like a sender that died.
    unknown: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class Sender(Protocol):
    code: str

    def send(self, delivery: Delivery) -> Outcome: ...


SENDERS = {
    "inapp": "notifications.channels.inapp.InAppSender",
    "email": "notifications.channels.email.EmailSender",
    "wecom": "notifications.channels.wecom.WecomSender",
    "dingtalk": "notifications.channels.dingtalk.DingtalkSender",
    "sms": "notifications.channels.sms.SmsSender",
}


def get(code: str) -> Sender:
    sender: Sender = import_string(SENDERS[code])()
    return sender
