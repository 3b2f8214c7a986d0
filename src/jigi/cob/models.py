"""Close of business: the business date per network, runs, their progress per caisse and day,
the risk state of each loan, and the reminders queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BusinessDate(models.Model):
    """The last business date closed for every caisse of a network. Separate from the clock:
    it advances only when close of business has closed that day everywhere."""

    organisation = models.OneToOneField("orgs.Organisation", on_delete=models.PROTECT,
                                        related_name="+")
    last_closed = models.DateField(_("last closed business date"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted")


class CobRun(models.Model):
    """One `jigi cob --through` (or the web button): closes every day after the last closed one
    up to `through`. At most one running per network (partial unique index)."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    first_date = models.DateField(_("first business date"))
    through = models.DateField(_("through"))
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices,
                              default=RunStatus.RUNNING)
    mode = models.CharField(_("mode"), max_length=16, default="inprocess")  # | celery
    partitions_total = models.PositiveIntegerField(default=0)
    partitions_done = models.PositiveIntegerField(default=0)
    current_date = models.DateField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation"], condition=Q(status="running"),
                                    name="cob_one_running_run"),
        ]

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def percent(self) -> int:
        if not self.partitions_total:
            return 100 if self.status == RunStatus.DONE else 0
        return min(100, self.partitions_done * 100 // self.partitions_total)


class PartitionDay(models.Model):
    """Progress: written in the same transaction as the work of one caisse for one business
    date, so its presence means "done, entirely" and its absence "nothing of it committed"."""

    run = models.ForeignKey(CobRun, null=True, on_delete=models.SET_NULL, related_name="parts")
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    finished_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=100, blank=True)  # host:pid of the process that did it
    # What the day did: loans, penalties charged, reminders, entries, totals per class...
    summary = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caisse", "business_date"], name="cob_partition_once"),
        ]
        indexes = [models.Index(fields=["business_date"])]


class LoanRisk(models.Model):
    """The state of one active loan at the last closed business date (replaced every day)."""

    loan = models.OneToOneField("credit.Loan", primary_key=True, on_delete=models.CASCADE,
                                related_name="risk")
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    product = models.ForeignKey("credit.LoanProduct", on_delete=models.PROTECT,
                                related_name="+", db_index=False)
    as_of = models.DateField()
    loan_account = models.CharField(max_length=8)  # the loan's own account: 202, 203, 291
    ledger_account = models.CharField(max_length=8)  # where it is classified: + 292-294
    days_past_due = models.IntegerField(default=0)
    overdue_amount = models.BigIntegerField(default=0)
    overdue_principal = models.BigIntegerField(default=0)
    principal_outstanding = models.BigIntegerField(default=0)
    guarantee = models.BigIntegerField(default=0)
    risk_class = models.CharField(max_length=8)
    provision_rate = models.PositiveSmallIntegerField(default=0)
    provision_base = models.BigIntegerField(default=0)
    provision = models.BigIntegerField(default=0)
    accrued_interest = models.BigIntegerField(default=0)
    write_off_proposed = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["caisse", "ledger_account"])]


class ReminderStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Reminder(models.Model):
    """An instalment falling due in N days (setting JIGI["COB_REMINDER_DAYS"]), queued by close
    of business for the channels module (SMS, USSD) to send."""

    installment = models.ForeignKey("credit.Installment", on_delete=models.CASCADE,
                                    related_name="+")
    loan = models.ForeignKey("credit.Loan", on_delete=models.CASCADE, related_name="+",
                             db_index=False)
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    amount = models.BigIntegerField()
    queued_for = models.DateField()  # the business date that queued it
    status = models.CharField(max_length=16, choices=ReminderStatus.choices,
                              default=ReminderStatus.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installment", "due_on"], name="cob_one_reminder"),
        ]
        indexes = [models.Index(fields=["status", "queued_for"])]
