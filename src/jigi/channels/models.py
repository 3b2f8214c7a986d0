"""Messages to and from members' phones. The outbox is written in the same transaction as the
business record that causes a message (a receipt, a petition code, an urgent-case alert), so a
message exists exactly when its cause does; a sender (the configured SMS backend, the local
simulator by default) takes queued messages later and records what the gateway answered.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent to the gateway")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class OutboundMessage(models.Model):
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    phone = models.CharField(max_length=16)  # E.164
    text = models.TextField()
    language = models.CharField(max_length=8, default="fr")
    # What the message is for: "petition_code", "case_alert", "dues_receipt", "reminder"...
    purpose = models.CharField(max_length=32)
    # The cause, as "app.model:pk", for the cost report and for tracing.
    ref = models.CharField(max_length=64, blank=True, default="")
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    status = models.CharField(max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.QUEUED)
    # GSM-7 or UCS-2 and the number of parts, worked out when queued (channels.sms_length).
    encoding = models.CharField(max_length=5, default="gsm7")
    parts = models.PositiveSmallIntegerField(default=1)
    gateway_id = models.CharField(max_length=100, blank=True, default="")
    cost = models.BigIntegerField(default=0)  # francs, as the gateway reports
    error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["organisation", "created_at"]),
            models.Index(fields=["gateway_id"]),
        ]
