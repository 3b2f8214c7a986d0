"""Kondo credit: products, loans with their schedule versions, payments, groups.

Amounts are whole francs CFA (BigIntegerField). Interest and penalties are recognised when paid
(cash basis, the practice of small SFDs); close of business (#5) adds accruals and provisions.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UsuryCap(models.Model):
    """The usury cap in force from a date (a dated setting: the UEMOA Council revises it)."""

    lender = models.CharField(max_length=8, default="sfd")  # sfd | bank
    since = models.DateField(_("in force since"))
    rate = models.DecimalField(_("cap, % a year"), max_digits=5, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lender", "since"], name="one_cap_a_day")]


class Pattern(models.TextChoices):
    REGULAR = "regular", _("Regular instalments")
    CROP = "crop", _("Crop calendar")
    INCOME = "income", _("Follows the member's income")
    CUSTOM = "custom", _("Custom dates and amounts")


class Overpayment(models.TextChoices):
    REFUSE = "refuse", _("Refuse a payment above the payoff")
    TO_SAVINGS = "to_savings", _("Put the excess into the member's savings")


class LoanProduct(models.Model):
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    # Ranges
    min_amount = models.BigIntegerField(_("minimum amount"))
    max_amount = models.BigIntegerField(_("maximum amount"))
    min_repayments = models.PositiveSmallIntegerField(_("minimum number of repayments"),
                                                      default=1)
    max_repayments = models.PositiveSmallIntegerField(_("maximum number of repayments"),
                                                      default=24)
    max_term_days = models.PositiveIntegerField(_("maximum term in days"), default=731)
    # Interest (Fineract vocabulary, see credit/schedule.py)
    interest_rate = models.DecimalField(_("interest rate, %"), max_digits=6, decimal_places=3)
    interest_rate_per = models.CharField(_("rate per"), max_length=8, default="year",
                                         choices=[("year", _("year")), ("month", _("month"))])
    interest_method = models.CharField(
        _("interest method"), max_length=20, default="declining_balance",
        choices=[("declining_balance", _("Declining balance")), ("flat", _("Flat"))])
    amortization = models.CharField(
        _("amortization"), max_length=20, default="equal_installments",
        choices=[("equal_installments", _("Equal instalments")),
                 ("equal_principal", _("Equal principal"))])
    interest_period = models.CharField(
        _("interest calculated"), max_length=20, default="same_as_repayment",
        choices=[("same_as_repayment", _("Per repayment period")), ("daily", _("Daily"))])
    days_in_year = models.CharField(_("days in year"), max_length=8, default="actual")
    days_in_month = models.CharField(_("days in month"), max_length=8, default="actual")
    repayment_every = models.PositiveSmallIntegerField(_("repayment every"), default=1)
    repayment_unit = models.CharField(
        _("repayment unit"), max_length=8, default="months",
        choices=[("days", _("days")), ("weeks", _("weeks")), ("months", _("months"))])
    allowed_patterns = models.JSONField(_("allowed schedules"), default=list)
    grace_on_principal = models.PositiveSmallIntegerField(_("grace on principal"), default=0)
    installment_multiples_of = models.PositiveIntegerField(_("instalment in multiples of"),
                                                           default=0)
    # Charges (percent of the principal, withheld at disbursement)
    application_fee_percent = models.DecimalField(_("application fee, %"), max_digits=5,
                                                  decimal_places=2, default=Decimal("0"))
    insurance_percent = models.DecimalField(_("insurance, %"), max_digits=5, decimal_places=2,
                                            default=Decimal("0"))
    compulsory_savings_percent = models.DecimalField(_("compulsory savings, %"), max_digits=5,
                                                     decimal_places=2, default=Decimal("0"))
    teg_includes_compulsory_savings = models.BooleanField(
        _("TEG counts compulsory savings"), default=False)
    # Arrears
    penalty_percent = models.DecimalField(_("penalty, % of an overdue instalment"),
                                          max_digits=5, decimal_places=2, default=Decimal("0"))
    penalty_grace_days = models.PositiveSmallIntegerField(_("days before a penalty"), default=0)
    arrears_tolerance = models.BigIntegerField(_("arrears tolerance (francs)"), default=0)
    allocation_order = models.CharField(_("repayment allocation order"), max_length=64,
                                        default="penalties,fees,interest,principal")
    overpayment = models.CharField(_("payment above the payoff"), max_length=16,
                                   choices=Overpayment.choices, default=Overpayment.REFUSE)
    # Eligibility
    min_membership_months = models.PositiveSmallIntegerField(_("months of membership"),
                                                             default=0)
    min_shares = models.PositiveIntegerField(_("shares held"), default=0)
    savings_before_credit_percent = models.DecimalField(
        _("savings before credit, % of the loan"), max_digits=5, decimal_places=2,
        default=Decimal("0"))
    # Borrower cycle: maximum amount for the 1st, 2nd, ... loan (the last applies after).
    cycle_max_amounts = models.JSONField(_("maximum per borrower cycle"), default=list,
                                         blank=True)
    # Appraisal
    max_installment_to_surplus_percent = models.DecimalField(
        _("instalment / monthly surplus, at most %"), max_digits=6, decimal_places=2,
        default=Decimal("70"))
    # Approval levels: [{"up_to": 500000, "role": "caisse_manager"}, {"up_to": null, ...}]
    approval_levels = models.JSONField(_("approval levels"), default=list)
    gl_account = models.CharField(_("loan account"), max_length=8, default="202")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="loan_product_code"),
            models.CheckConstraint(condition=Q(min_amount__gt=0) & Q(max_amount__gte=models.F(
                "min_amount")), name="loan_product_amount_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.allocation_order.split(","))


class LoanStatus(models.TextChoices):
    APPLIED = "applied", _("Application")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ACTIVE = "active", _("Active (disbursed)")
    CLOSED = "closed", _("Closed")
    WRITTEN_OFF = "written_off", _("Written off")


class RescheduleReason(models.TextChoices):
    CROP_FAILURE = "crop_failure", _("Crop failure")
    LATE_COTTON = "late_cotton_payment", _("Late cotton payment (CMDT)")
    ILLNESS = "illness", _("Illness")
    FLOOD = "flood", _("Flood")
    OTHER = "other", _("Other")


class SolidarityGroup(models.Model):
    """A women's group or solidarity group: members with joint liability, a leader, meetings."""

    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, default="women",
                            choices=[("women", _("Women's group")),
                                     ("solidarity", _("Solidarity group"))])
    leader = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    meeting_every_days = models.PositiveSmallIntegerField(_("meets every (days)"), default=14)
    first_meeting_on = models.DateField(_("first meeting"))
    meeting_place = models.CharField(_("meeting place"), max_length=200, blank=True)
    savings_account = models.ForeignKey("savings.SavingsAccount", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(SolidarityGroup, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, default="member")  # leader, treasurer, member
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "person"], condition=Q(left_on__isnull=True),
                                    name="one_active_group_membership"),
        ]


class Loan(models.Model):
    number = models.CharField(_("loan number"), max_length=32, unique=True)
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="+")
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="loans")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="loans")
    group = models.ForeignKey(SolidarityGroup, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="loans")
    status = models.CharField(_("status"), max_length=16, choices=LoanStatus.choices,
                              default=LoanStatus.APPLIED)
    principal = models.BigIntegerField(_("amount"))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    activity = models.CharField(_("activity"), max_length=32, blank=True)
    cycle = models.PositiveSmallIntegerField(_("borrower cycle"), default=1)
    # The settings the schedule is generated from (the `jigi loan schedule` JSON fields).
    terms = models.JSONField()
    pattern = models.CharField(max_length=16, choices=Pattern.choices, default=Pattern.REGULAR)
    teg_annual = models.DecimalField(max_digits=9, decimal_places=4, null=True)
    teg_period = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    teg_base = models.CharField(max_length=8, blank=True)
    usury_cap = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    upfront_fees = models.BigIntegerField(default=0)
    compulsory_savings = models.BigIntegerField(default=0)
    applied_on = models.DateField()
    expected_disbursement_on = models.DateField()
    approved_on = models.DateField(null=True, blank=True)
    disbursed_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    written_off_on = models.DateField(null=True, blank=True)
    loan_officer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    schedule_version = models.PositiveSmallIntegerField(default=1)
    restructured = models.BooleanField(default=False)
    gl_account = models.CharField(max_length=8, default="202")
    guarantee_account = models.ForeignKey("savings.SavingsAccount", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    # Running totals, moved only with the loan row locked.
    principal_outstanding = models.BigIntegerField(default=0)
    principal_paid = models.BigIntegerField(default=0)
    interest_paid = models.BigIntegerField(default=0)
    fees_paid = models.BigIntegerField(default=0)
    penalties_paid = models.BigIntegerField(default=0)
    interest_waived = models.BigIntegerField(default=0)
    written_off_amount = models.BigIntegerField(default=0)
    recovered = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["caisse", "status"]),
                   models.Index(fields=["person", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(condition=Q(principal_outstanding__gte=0),
                                   name="loan_outstanding_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class Installment(models.Model):
    """One due date of one schedule version. A rescheduling writes a new version; the old
    rows stay as history (what was owed and paid under the first agreement)."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    version = models.PositiveSmallIntegerField(default=1)
    number = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    principal = models.BigIntegerField()
    interest = models.BigIntegerField()
    fees = models.BigIntegerField(default=0)
    penalties = models.BigIntegerField(default=0)
    principal_paid = models.BigIntegerField(default=0)
    interest_paid = models.BigIntegerField(default=0)
    fees_paid = models.BigIntegerField(default=0)
    penalties_paid = models.BigIntegerField(default=0)
    interest_waived = models.BigIntegerField(default=0)
    penalised = models.BooleanField(default=False)
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["loan", "version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "version", "number"],
                                    name="one_installment_number"),
        ]
        indexes = [models.Index(fields=["due_on"], condition=Q(paid_on__isnull=True),
                                name="installment_unpaid_due")]

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees + self.penalties

    @property
    def paid(self) -> int:
        return self.principal_paid + self.interest_paid + self.fees_paid + self.penalties_paid

    @property
    def outstanding(self) -> int:
        return self.total - self.paid - self.interest_waived


class LoanTxKind(models.TextChoices):
    DISBURSEMENT = "disbursement", _("Disbursement")
    REPAYMENT = "repayment", _("Repayment")
    PAYOFF = "payoff", _("Payoff (early closure)")
    PREPAYMENT = "prepayment", _("Prepayment")
    GUARANTEE = "guarantee", _("Covered by guarantee savings")
    RESCHEDULE = "reschedule", _("Rescheduling")
    WRITE_OFF = "write_off", _("Write-off")
    RECOVERY = "recovery", _("Recovery after write-off")
    REVERSAL = "reversal", _("Reversal")


class LoanTransaction(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=16, choices=LoanTxKind.choices)
    amount = models.BigIntegerField()
    principal = models.BigIntegerField(default=0)
    interest = models.BigIntegerField(default=0)
    fees = models.BigIntegerField(default=0)
    penalties = models.BigIntegerField(default=0)
    excess_to_savings = models.BigIntegerField(default=0)
    # Per instalment: [{"number", "principal", "interest", "fees", "penalties", "waived"}]
    portions = models.JSONField(default=list)
    value_date = models.DateField()
    channel = models.CharField(max_length=16, default="cash")  # cash | savings | guarantee
    savings_account = models.ForeignKey("savings.SavingsAccount", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+",
                                        db_index=False)
    receipt = models.ForeignKey("savings.Receipt", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+", db_index=False)
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+",
                                      db_index=False)
    reversed = models.BooleanField(default=False)
    reversal_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="reversed_by")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+", db_index=False)
    idempotency_key = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="loan_tx_amount"),
            models.UniqueConstraint(fields=["created_by", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="loan_tx_idempotency_key"),
        ]

    @property
    def receipt_label(self) -> str:
        return str(self.receipt) if self.receipt_id else ""


class Appraisal(models.Model):
    """The repayment-capacity worksheet of one application (DOMAIN.md §1 over-indebtedness)."""

    loan = models.OneToOneField(Loan, on_delete=models.CASCADE, related_name="appraisal")
    # [{"activity": "cotton", "months": [12 ints]}]
    incomes = models.JSONField(default=list)
    household_expenses = models.JSONField(default=list)  # 12 ints
    other_debts = models.JSONField(default=list)  # 12 ints (other lenders' instalments)
    # Per instalment: {"number", "due_on", "total", "surplus", "ratio"} (ratio in % or null)
    ratios = models.JSONField(default=list)
    max_ratio = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    limit = models.DecimalField(max_digits=6, decimal_places=2)
    within_limit = models.BooleanField(default=True)
    override_reason = models.CharField(max_length=300, blank=True)
    poverty_answers = models.JSONField(default=dict, blank=True)
    poverty_score = models.PositiveSmallIntegerField(null=True, blank=True)
    appraised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.PROTECT, related_name="+")
    appraised_at = models.DateTimeField(auto_now=True)


class Decision(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="decisions")
    level = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=32)
    decision = models.CharField(max_length=16)  # approved | rejected
    note = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)


class Guarantor(models.Model):
    """A member guaranteeing the loan with her savings: a hold on her account until closure."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="guarantors")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    savings_account = models.ForeignKey("savings.SavingsAccount", on_delete=models.PROTECT,
                                        related_name="+")
    amount = models.BigIntegerField()
    hold = models.ForeignKey("savings.Hold", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    released_on = models.DateField(null=True, blank=True)


class Rescheduling(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="reschedulings")
    reason = models.CharField(max_length=32, choices=RescheduleReason.choices)
    note = models.CharField(max_length=300, blank=True)
    from_version = models.PositiveSmallIntegerField()
    to_version = models.PositiveSmallIntegerField()
    outstanding_principal = models.BigIntegerField()
    carried_interest = models.BigIntegerField(default=0)
    new_terms = models.JSONField()
    on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class CollectionSheet(models.Model):
    """One group meeting's collection, entered in one submission."""

    group = models.ForeignKey(SolidarityGroup, on_delete=models.PROTECT,
                              related_name="collection_sheets")
    meeting_on = models.DateField()
    lines = models.JSONField(default=list)  # per member: what was paid and the result
    total_repaid = models.BigIntegerField(default=0)
    total_saved = models.BigIntegerField(default=0)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submitted_by", "idempotency_key"],
                                    name="collection_sheet_key"),
        ]
