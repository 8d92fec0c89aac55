"""Notifications: what the system tells people, on which channel, and the record of every message it sent.

This app knows users and units, not problems: callers (the ledger's events, the daily sweep) hand it effects with
a reference string ("problem:12"), a line of text and a link.

An *effect* is one intended piece of news for one recipient on one channel — its unique key is (item, level,
recipient, channel, day) — inserted before anything is sent, so a retried task, a second beat or a redelivered
message cannot add it twice. Effects are gathered into *deliveries*: one message per recipient (or robot) per
channel per batch (a sweep's digest, an event's in-app notice). Senders claim pending deliveries, send, and mark
them; every attempt is in the delivery log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from units.models import Unit


class Channel(models.TextChoices):
    INAPP = "inapp", "站内消息"
    EMAIL = "email", "电子邮件"
    WECOM = "wecom", "企业微信"
    DINGTALK = "dingtalk", "钉钉"
    SMS = "sms", "短信"


ROBOT_CHANNELS = (Channel.WECOM, Channel.DINGTALK)
PERSONAL_CHANNELS = (Channel.INAPP, Channel.EMAIL, Channel.SMS)


class Level(models.IntegerChoices):
    """How pressing a piece of news is; the digest lists the most pressing first and SMS carries 督办 and above."""

    INFO = 0, "通知"
    REPORT = 1, "催报"
    REMIND = 2, "提醒"
    URGE = 3, "催办"
    SUPERVISE = 4, "督办"
    LISTED = 5, "挂牌督办"


class Robot(models.Model):
    """A 企业微信 or 钉钉 group robot of a unit (or, through `Campaign.robot`, of a campaign's working group).

    The webhook URL is the whole credential: it is kept encrypted (`notifications.crypto`) and never shown back in
    full. A robot that answers with a permanent error is disabled until a person re-enables it; one that is rate
    limited or failing is suspended for a while."""

    kind = models.CharField("类型", max_length=16, choices=[(c.value, c.label) for c in ROBOT_CHANNELS])
    name = models.CharField("名称", max_length=100)
    unit = models.ForeignKey(
        Unit, verbose_name="所属单位", null=True, blank=True, on_delete=models.PROTECT, related_name="robots"
    )
    webhook_encrypted = models.TextField("Webhook 地址（加密）", editable=False)
    webhook_hint = models.CharField("Webhook 地址（部分）", max_length=120, editable=False, blank=True)
    secret_encrypted = models.TextField("加签密钥（加密）", blank=True, editable=False)
    keyword = models.CharField(
        "自定义关键词", max_length=50, blank=True, help_text="钉钉机器人的安全设置为关键词时填写"
    )
    is_enabled = models.BooleanField("启用", default=True)
    suspended_until = models.DateTimeField("暂停至", null=True, blank=True)
    disabled_reason = models.CharField("停用原因", max_length=300, blank=True)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField("连续失败次数", default=0)
    last_sent_at = models.DateTimeField("最近发送", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "群机器人"
        verbose_name_plural = "群机器人"
        ordering = ["unit__path", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}·{self.name}"


class RobotSend(models.Model):
    """One request made to a robot: the 20-a-minute limit is counted on these rows, across workers."""

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="sends")
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "机器人发送记录"
        verbose_name_plural = "机器人发送记录"
        indexes = [models.Index(fields=["robot", "at"], name="robotsend_robot_at_idx")]

    def __str__(self) -> str:
        return f"{self.robot_id} {self.at:%H:%M:%S}"


class ChannelSwitch(models.Model):
    """What the office allows users to choose, per channel the deployment has switched on (NOTIFY_CHANNELS)."""

    channel = models.CharField("渠道", max_length=16, choices=Channel.choices, unique=True)
    allowed = models.BooleanField("允许使用", default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "渠道开关"
        verbose_name_plural = "渠道开关"

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {'允许' if self.allowed else '不允许'}"


class Preference(models.Model):
    """A user's choice for one personal channel; without a row the channel's default applies."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_prefs")
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    enabled = models.BooleanField("接收", default=True)

    class Meta:
        verbose_name = "通知偏好"
        verbose_name_plural = "通知偏好"
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="unique_notify_pref")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_channel_display()} {'接收' if self.enabled else '不接收'}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    UNKNOWN = "unknown", "结果未知"


class Delivery(models.Model):
    """One message on one channel to one recipient (a person, or a robot's group): a digest of its effects.

    Claimed by a conditional update (pending → sending, with a lease) before the channel is called; a sender that
    died after the call leaves the row `sending`, which turns `unknown` when its lease runs out — never sent again
    by itself (the vendors' APIs are not idempotent), resent only by a person from the delivery log."""

    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    robot = models.ForeignKey(
        Robot, verbose_name="机器人", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # The unit the message concerns (the recipient's unit, or the robot's): the delivery log's scope.
    unit = models.ForeignKey(Unit, verbose_name="单位", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    address = models.CharField("地址", max_length=200, blank=True, help_text="邮箱或手机号（发送时的）")
    batch = models.CharField("批次", max_length=64)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices, default=Level.INFO)
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    item_count = models.PositiveIntegerField("事项数", default=0)
    status = models.CharField("状态", max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField("最近尝试", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    error = models.CharField("错误信息", max_length=500, blank=True)
    vendor_ref = models.CharField("回执编号", max_length=100, blank=True)
    resent_from = models.ForeignKey(
        "self", verbose_name="重发自", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_status_next_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.subject}"


class Effect(models.Model):
    """One intended piece of news: item, level, recipient (person or robot), channel, day — unique."""

    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    robot = models.ForeignKey(Robot, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    day = models.DateField("日期")
    # What the effect is about, by reference ("problem:12", "order:3", "transition:88"), and how it reads.
    ref = models.CharField(max_length=64)
    group = models.CharField("类别", max_length=32, help_text="digest 中的归类，如 overdue、due_soon")
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices, default=Level.INFO)
    title = models.CharField("内容", max_length=300)
    url = models.CharField("链接", max_length=300, blank=True)
    # "digest" effects wait for the next sweep's digest; "now" effects (an event's in-app notice) go at once.
    batch = models.CharField(max_length=64)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="effects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "通知事项"
        verbose_name_plural = "通知事项"
        ordering = ["-level", "id"]
        indexes = [models.Index(fields=["delivery", "batch"], name="effect_delivery_batch_idx")]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """An item of the in-app notification centre (the bell): an event's notice or a sweep's digest."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    delivery = models.OneToOneField(Delivery, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="notification")
    group = models.CharField("类别", max_length=32)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices, default=Level.INFO)
    title = models.CharField("标题", max_length=200)
    # The digest's lines: [{"text": "...", "url": "...", "level": 3}, ...]; an event has one.
    items = models.JSONField("事项", default=list, blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
