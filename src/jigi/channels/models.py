"""Messages to and from members' phones. The outbox is written in the same transaction as the
business record that causes a message (a receipt, a petition code, an urgent-case alert), so a
message exists exactly when its cause does; a sender (the configured SMS backend, the local
simulator by default) takes queued messages later and records what the gateway answered.
"""

from __future__ import annotations

from django.conf import settings
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
    # The unit whose staff may read the message (the loan's caisse, the coverage's mutual, the
    # member's section): a teller sees her caisse's messages only. NULL: an organisation-level
    # message (and those queued before units were recorded), read by organisation-wide roles.
    unit = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.PROTECT,
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
            models.Index(fields=["unit", "created_at"]),
            models.Index(fields=["gateway_id"]),
        ]


# ---------------------------------------------------------------------------------------------
# SMS: preferences, budgets, delivery reports
# ---------------------------------------------------------------------------------------------


class SmsPreference(models.Model):
    """A member's choice, recorded at the counter or by USSD: whether she wants SMS (reminders,
    receipts, news) and in which language. Without a row she gets none, except the messages she
    asks for herself (a petition code) and staff duty alerts."""

    person = models.OneToOneField("people.Person", on_delete=models.PROTECT,
                                  related_name="sms_preference")
    opt_in = models.BooleanField(_("wants SMS"), default=False)
    language = models.CharField(_("SMS language"), max_length=8, default="fr")  # fr, bm, en
    updated_at = models.DateTimeField(auto_now=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")


class SmsBudget(models.Model):
    """What an organisation allows itself to spend on SMS in a month (francs); messages over
    budget stay queued (not lost) until the next month or a higher budget."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    month = models.DateField()  # first day of the month
    amount = models.BigIntegerField(_("budget"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "month"], name="channels_budget_month"),
        ]


class DeliveryReport(models.Model):
    """Every delivery report as received (duplicated, late or out of order); the message's
    status only moves forward (queued < sent < delivered/failed)."""

    message = models.ForeignKey(OutboundMessage, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="reports")
    gateway = models.CharField(max_length=32)
    gateway_id = models.CharField(max_length=100)
    status = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    applied = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["gateway_id"])]


# ---------------------------------------------------------------------------------------------
# USSD
# ---------------------------------------------------------------------------------------------


class UssdPin(models.Model):
    """A member's USSD PIN, set at the counter; only a slow hash is kept. Locked after
    repeated wrong PINs until `locked_until`."""

    person = models.OneToOneField("people.Person", on_delete=models.PROTECT,
                                  related_name="ussd_pin")
    pin_hash = models.CharField(max_length=200)
    set_at = models.DateTimeField(auto_now=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                               related_name="+")
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)


class UssdSession(models.Model):
    """One gateway session (its `sessionId`), for the PIN check once per session, the
    language chosen, timeouts and the log."""

    session_id = models.CharField(max_length=100, unique=True)
    phone = models.CharField(max_length=16)
    service_code = models.CharField(max_length=32)
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    language = models.CharField(max_length=8, default="fr")
    authenticated = models.BooleanField(default=False)
    last_text = models.CharField(max_length=200, blank=True, default="")
    steps = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    last_at = models.DateTimeField(auto_now=True)
    ended = models.BooleanField(default=False)


class CallbackRequest(models.Model):
    """A member asked (by USSD) to be called back by her caisse or mutual."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=16)
    topic = models.CharField(max_length=32, blank=True, default="")
    requested_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["unit", "handled_at"])]


# ---------------------------------------------------------------------------------------------
# Mobile money
# ---------------------------------------------------------------------------------------------


class PaymentPurpose(models.TextChoices):
    LOAN_REPAYMENT = "loan_repayment", _("Loan repayment")
    SAVINGS_DEPOSIT = "savings_deposit", _("Savings deposit")
    HEALTH_CONTRIBUTION = "health_contribution", _("Mutual contribution")
    MOVEMENT_DUES = "movement_dues", _("Movement dues")


class PaymentStatus(models.TextChoices):
    INITIATED = "initiated", _("Initiated")
    PENDING = "pending", _("Waiting for the member")
    SUCCEEDED = "succeeded", _("Paid and posted")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")


class MobileMoneyPayment(models.Model):
    """A collection from a member's mobile-money wallet. `order_id` is our reference and the
    provider's idempotency key; the money is posted to its target (a loan, a savings account,
    a coverage, a movement member) exactly once, when the provider confirms it (callback or
    status poll, whichever comes first), in the same transaction as the status change."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=16)  # "orange", "moov", "simulator"
    purpose = models.CharField(max_length=20, choices=PaymentPurpose.choices)
    # The target, by purpose: credit.Loan, savings.SavingsAccount, health.Coverage,
    # movement.MemberProfile.
    target_id = models.BigIntegerField()
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=16)
    amount = models.BigIntegerField()
    order_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices,
                              default=PaymentStatus.INITIATED)
    pay_token = models.CharField(max_length=200, blank=True, default="")
    payment_url = models.CharField(max_length=500, blank=True, default="")
    notif_token = models.CharField(max_length=200, blank=True, default="")
    provider_txn_id = models.CharField(max_length=100, blank=True, default="")
    # What the confirmed payment posted, as "app.model:pk" (the repayment, deposit...).
    posting_ref = models.CharField(max_length=64, blank=True, default="")
    failure_reason = models.CharField(max_length=200, blank=True, default="")
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["status", "requested_at"]),
            models.Index(fields=["provider", "provider_txn_id"]),
        ]

    @property
    def wallet(self) -> str:
        from jigi.channels.momo.providers import wallet_label

        return wallet_label(self.provider)


class ProviderCallback(models.Model):
    """Every callback as received, verified or not, and what was done with it."""

    provider = models.CharField(max_length=16)
    order_id = models.CharField(max_length=64, blank=True, default="")
    payment = models.ForeignKey(MobileMoneyPayment, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="callbacks")
    payload = models.JSONField(default=dict)
    verified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16)  # applied, duplicate, late, unknown, rejected
    received_at = models.DateTimeField(auto_now_add=True)


class StatementLine(models.Model):
    """One line of a provider's statement, imported for reconciliation against our payments."""

    provider = models.CharField(max_length=16)
    statement_date = models.DateField()
    provider_txn_id = models.CharField(max_length=100)
    order_id = models.CharField(max_length=64, blank=True, default="")
    phone = models.CharField(max_length=16, blank=True, default="")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=16)
    payment = models.ForeignKey(MobileMoneyPayment, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="statement_lines")
    # matched, fixed (a missing callback applied), unmatched, refunded
    resolution = models.CharField(max_length=16, default="unmatched")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_txn_id"],
                                    name="channels_statement_txn"),
        ]


class Refund(models.Model):
    """Money received that matches nothing (or was paid twice) sent back to the wallet."""

    statement_line = models.OneToOneField(StatementLine, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="refund")
    payment = models.ForeignKey(MobileMoneyPayment, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="refunds")
    phone = models.CharField(max_length=16)
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, default="requested")  # requested, done, failed
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.PROTECT, related_name="+")
    # A refund the provider's API cannot confirm (Orange Web Payment has no refund call; a
    # Moov transfer that did not answer SUCCESS) is made on the merchant portal and confirmed
    # here by a manager with the portal's transaction reference.
    provider_ref = models.CharField(max_length=64, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")


# ---------------------------------------------------------------------------------------------
# Offline field collection
# ---------------------------------------------------------------------------------------------


class SyncItemStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    CONFLICT = "conflict", _("Conflict to review")
    REJECTED = "rejected", _("Rejected")
    RESOLVED = "resolved", _("Conflict resolved")


class SyncItem(models.Model):
    """One record made offline on a field officer's device (a repayment, a savings deposit),
    keyed by the UUID the device made. An identical resend is a no-op answering the first
    result; the same UUID with other content is a conflict for review; nothing is applied
    twice."""

    uuid = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=20)  # "repayment", "deposit"
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=SyncItemStatus.choices)
    result = models.JSONField(default=dict)
    posting_ref = models.CharField(max_length=64, blank=True, default="")
    collected_on = models.DateField()
    received_at = models.DateTimeField(auto_now_add=True)
    # The conflicting content received later, for the reviewer.
    conflict_payload = models.JSONField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["user", "collected_on"])]


class FieldCashCount(models.Model):
    """End of a field day: what the officer's synced items say she collected, what she hands
    in at the caisse, and the difference (counted by the caisse manager or teller)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    expected = models.BigIntegerField()
    counted = models.BigIntegerField()
    note = models.CharField(max_length=200, blank=True, default="")
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Per caisse: an officer of the whole network may hand in at two caisses a day.
            models.UniqueConstraint(fields=["user", "caisse", "day"],
                                    name="channels_cash_count_caisse_day"),
        ]
