from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One row per change of a person, membership, role, consent or money (Zulip's RealmAuditLog).

    Written by services in the same transaction as the change it records; never updated.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_type = models.CharField(_("event"), max_length=64, db_index=True)
    subject_type = models.CharField(_("subject type"), max_length=64)
    subject_id = models.CharField(_("subject id"), max_length=64)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]
        verbose_name = _("audit event")

    def __str__(self) -> str:
        return f"{self.event_type} {self.subject_type}#{self.subject_id}"


class IdempotencyRecord(models.Model):
    """The first answer given to a money-moving API call, replayed for the same key.

    Same key and same body: the stored answer. Same key, other body: 409. The row is written
    in the same transaction as the money movement, so a crash leaves neither or both.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=128)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")
        ]


class Counter(models.Model):
    """A gapless sequence (receipt, entry, loan, claim numbers) per scope and year.

    Incremented only under `select_for_update` inside the transaction that uses the number,
    so a rolled-back operation gives its number back and numbers never skip.
    """

    scope = models.CharField(max_length=100)
    year = models.PositiveSmallIntegerField()
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "year"], name="counter_unique_scope_year")
        ]
