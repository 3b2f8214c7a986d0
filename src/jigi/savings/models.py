from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ShareProduct(models.Model):
    """Member shares (parts sociales) of a network: holding `min_shares` makes a member."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    name = models.CharField(_("name"), max_length=100)
    nominal_value = models.BigIntegerField(_("nominal value"))
    min_shares = models.PositiveIntegerField(_("minimum shares for membership"), default=1)
    max_shares = models.PositiveIntegerField(_("maximum shares per member"), default=100)
    entry_fee = models.BigIntegerField(_("entry fee (droit d'adhésion)"), default=0)
    # Redemption outside an exit only when the general assembly allowed it.
    redemption_allowed = models.BooleanField(_("redemption allowed without exit"), default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(nominal_value__gt=0), name="share_nominal_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ShareAccount(models.Model):
    product = models.ForeignKey(ShareProduct, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="share_accounts")
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    shares = models.PositiveIntegerField(default=0)
    entry_fee_paid = models.BooleanField(default=False)
    opened_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "person"], name="one_share_account"),
        ]


class ProductKind(models.TextChoices):
    VOLUNTARY = "voluntary", _("Voluntary savings")
    GUARANTEE = "guarantee", _("Compulsory guarantee savings")
    TERM = "term", _("Term deposit")
    GROUP = "group", _("Group savings")


class PostingFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


# The GL account (RCSFD) holding each kind of deposit.
KIND_GL = {
    ProductKind.VOLUNTARY: "251",
    ProductKind.TERM: "252",
    ProductKind.GROUP: "253",
    ProductKind.GUARANTEE: "2545",
}


class InterestRounding(models.TextChoices):
    # The period's exact interest is rounded once, when posted, to whole francs.
    DOWN = "down", _("Down to the franc (never pay a franc not earned)")
    HALF_UP = "half_up", _("To the nearest franc, half up")


class SavingsProduct(models.Model):
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=ProductKind.choices)
    interest_rate = models.DecimalField(_("interest rate, % a year"), max_digits=5,
                                        decimal_places=2, default=Decimal("0"))
    min_balance_for_interest = models.BigIntegerField(_("minimum balance earning interest"),
                                                      default=0)
    interest_posting = models.CharField(_("interest posting"), max_length=16,
                                        choices=PostingFrequency.choices,
                                        default=PostingFrequency.YEARLY)
    days_in_year = models.PositiveSmallIntegerField(_("days in year"), default=365)
    interest_rounding = models.CharField(_("interest rounding"), max_length=8,
                                         choices=InterestRounding.choices,
                                         default=InterestRounding.DOWN)
    min_balance = models.BigIntegerField(_("minimum balance"), default=0)
    withdrawal_fee = models.BigIntegerField(_("withdrawal fee"), default=0)
    dormancy_months = models.PositiveSmallIntegerField(_("months without activity to dormancy"),
                                                       default=12)
    # Tellers' operations above this amount wait for a manager (maker-checker).
    approval_threshold = models.BigIntegerField(_("approval needed above"), default=500_000)
    # xgettext:no-python-format
    guarantee_percent = models.DecimalField(_("guarantee, % of the loan"), max_digits=5,
                                            decimal_places=2, default=Decimal("0"))
    term_months = models.PositiveSmallIntegerField(_("term in months"), default=0)
    # Term deposits: the rate by term and amount, [{"months": 12, "amount": 1000000,
    # "rate": "5.50"}, ...]; the slab with the longest term and largest amount the deposit
    # reaches applies (empty: `interest_rate`).
    rate_slabs = models.JSONField(_("rate by term and amount"), default=list, blank=True)
    early_withdrawal_penalty_percent = models.DecimalField(
        # xgettext:no-python-format
        _("early withdrawal penalty, % of interest"), max_digits=5, decimal_places=2,
        default=Decimal("0"))
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="savings_product_code"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def gl_account(self) -> str:
        return KIND_GL[ProductKind(self.kind)]

    @property
    def rate_slabs_text(self) -> str:
        from jigi.savings.rules import slabs_text

        return slabs_text(self.rate_slabs)


class ProductOverride(models.Model):
    """A caisse's own value for some settings of a network product (empty = network value)."""

    product = models.ForeignKey(SavingsProduct, on_delete=models.CASCADE,
                                related_name="overrides")
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    interest_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    min_balance_for_interest = models.BigIntegerField(null=True, blank=True)
    min_balance = models.BigIntegerField(null=True, blank=True)
    withdrawal_fee = models.BigIntegerField(null=True, blank=True)
    approval_threshold = models.BigIntegerField(null=True, blank=True)
    dormancy_months = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "caisse"], name="one_override_per_caisse"),
        ]


# The settings a caisse may set for itself; everything else is the network's.
OVERRIDABLE = ("interest_rate", "min_balance_for_interest", "min_balance", "withdrawal_fee",
               "approval_threshold", "dormancy_months")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    BLOCKED = "blocked", _("Blocked")
    CLOSED = "closed", _("Closed")


class SavingsAccount(models.Model):
    number = models.CharField(_("account number"), max_length=32, unique=True)
    product = models.ForeignKey(SavingsProduct, on_delete=models.PROTECT, related_name="+")
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT,
                               related_name="savings_accounts")
    # A person's account, or a group's (women's or solidarity group) with signatories.
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="savings_accounts")
    group_name = models.CharField(_("group name"), max_length=200, blank=True)
    signatures_required = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(_("status"), max_length=16, choices=AccountStatus.choices,
                              default=AccountStatus.ACTIVE)
    balance = models.BigIntegerField(_("balance"), default=0)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(null=True, blank=True)
    last_activity_on = models.DateField(null=True, blank=True)
    block_reason = models.CharField(max_length=200, blank=True)
    maturity_on = models.DateField(null=True, blank=True)  # term deposits
    renew_at_maturity = models.BooleanField(default=False)
    loan_reference = models.CharField(max_length=64, blank=True)  # guarantee savings

    class Meta:
        indexes = [models.Index(fields=["caisse", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="savings_balance_not_negative"),
            models.CheckConstraint(condition=Q(person__isnull=False) | ~Q(group_name=""),
                                   name="savings_owner_required"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def holder_name(self) -> str:
        return self.person.full_name if self.person_id else self.group_name


class Signatory(models.Model):
    account = models.ForeignKey(SavingsAccount, on_delete=models.CASCADE,
                                related_name="signatories")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32, default="member")  # president, treasurer, member

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "person"], name="one_signatory_row"),
        ]


class Hold(models.Model):
    """An amount set aside on an account (a loan being appraised, a disputed deposit), or with
    `blocks_account` a stop on every debit (a court's opposition), until released."""

    account = models.ForeignKey(SavingsAccount, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField(_("amount"), default=0)
    reason = models.CharField(_("reason"), max_length=200)
    blocks_account = models.BooleanField(_("blocks every debit"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) | Q(blocks_account=True, amount=0),
                                   name="hold_positive"),
        ]


class TxKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    TRANSFER = "transfer", _("Transfer")
    FEE = "fee", _("Fee")
    INTEREST = "interest", _("Interest")
    REVERSAL = "reversal", _("Reversal")
    LOAN_COVER = "loan_cover", _("Applied to a loan")
    LOAN_IN = "loan_in", _("Loan disbursed")
    LOAN_REPAYMENT = "loan_repayment", _("Loan repayment")


class Direction(models.TextChoices):
    """Which way the operation moves the member's balance (a reversal goes the other way)."""

    CREDIT = "C", _("In")
    DEBIT = "D", _("Out")


class TxStatus(models.TextChoices):
    POSTED = "posted", _("Posted")
    PENDING = "pending", _("Awaiting approval")
    REJECTED = "rejected", _("Rejected")
    REVERSED = "reversed", _("Reversed")


# Statuses whose rows moved money (a reversed operation did, and its reversal row undoes it).
MONEY_STATUSES = (TxStatus.POSTED, TxStatus.REVERSED)


class SavingsTransaction(models.Model):
    """One movement of one account. A transfer is two rows sharing one journal entry; a
    reversal is a new row (kind reversal, the other direction) pointing at the original."""

    # Indexes are chosen for the hot paths (statements and interest by account and date,
    # drawers, reversals); every extra index slows each deposit and the demo's bulk load, so
    # FKs only read through their row (creator, approver, counterpart) get none.
    account = models.ForeignKey(SavingsAccount, on_delete=models.PROTECT,
                                related_name="transactions", db_index=False)
    kind = models.CharField(max_length=16, choices=TxKind.choices)
    direction = models.CharField(max_length=1, choices=Direction.choices)
    amount = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=TxStatus.choices, default=TxStatus.POSTED)
    balance_after = models.BigIntegerField(null=True, blank=True)
    value_date = models.DateField()
    receipt_year = models.PositiveSmallIntegerField(null=True, blank=True)
    receipt_number = models.PositiveIntegerField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    cash = models.BooleanField(default=False)
    drawer = models.ForeignKey("DrawerSession", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="transactions")
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    reversal_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="reversed_by")
    # A withdrawal's fee points at its withdrawal, so reversing one reverses both.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    reason = models.CharField(max_length=200, blank=True)  # reversal or rejection
    counterpart = models.ForeignKey(SavingsAccount, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+", db_index=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+", db_index=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    # The API caller's Idempotency-Key: the database refuses a second row for the same key.
    idempotency_key = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["account", "value_date"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="savings_tx_amount_positive"),
            models.UniqueConstraint(fields=["created_by", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="savings_tx_idempotency_key"),
        ]

    @property
    def signed_amount(self) -> int:
        return self.amount if self.direction == Direction.CREDIT else -self.amount

    @property
    def receipt_label(self) -> str:
        return f"{self.receipt_year}-{self.receipt_number:06d}" if self.receipt_number else ""


class Receipt(models.Model):
    """A numbered receipt, gapless per caisse and year, for what a member paid or received."""

    # (caisse, year, number) is unique: that index serves the caisse too.
    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    amount = models.BigIntegerField()
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                  related_name="+", db_index=False)
    person = models.ForeignKey("people.Person", null=True, on_delete=models.PROTECT,
                               related_name="+", db_index=False)
    account_number = models.CharField(max_length=32, blank=True)
    balance_after = models.BigIntegerField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caisse", "year", "number"], name="receipt_gapless"),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.number:06d}"


class ShareTransaction(models.Model):
    account = models.ForeignKey(ShareAccount, on_delete=models.PROTECT,
                                related_name="transactions")
    kind = models.CharField(max_length=16)  # purchase, redemption
    shares = models.PositiveIntegerField()
    amount = models.BigIntegerField()
    entry_fee = models.BigIntegerField(default=0)
    value_date = models.DateField()
    receipt = models.ForeignKey(Receipt, null=True, on_delete=models.PROTECT, related_name="+")
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT,
                                      related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")


class DrawerStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


# XOF notes and coins in circulation (BCEAO).
DENOMINATIONS = [10000, 5000, 2000, 1000, 500, 250, 200, 100, 50, 25, 10, 5]


class DrawerSession(models.Model):
    """A teller's cash drawer for one business day: vault allocation, moves, counted close."""

    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    teller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    business_date = models.DateField()
    status = models.CharField(max_length=8, choices=DrawerStatus.choices,
                              default=DrawerStatus.OPEN)
    opening_amount = models.BigIntegerField()
    cash_in = models.BigIntegerField(default=0)
    cash_out = models.BigIntegerField(default=0)
    counted_amount = models.BigIntegerField(null=True, blank=True)
    count_detail = models.JSONField(null=True, blank=True)
    difference = models.BigIntegerField(null=True, blank=True)  # counted - expected
    flagged = models.BooleanField(default=False)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    # A flagged difference stays on the manager's list until acknowledged.
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["teller"], condition=Q(status="open"),
                                    name="one_open_drawer_per_teller"),
        ]

    @property
    def expected(self) -> int:
        return self.opening_amount + self.cash_in - self.cash_out


class CaisseDay(models.Model):
    """A caisse's business day: opened by its first drawer, closed by the manager once every
    drawer is counted and closed."""

    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caisse", "business_date"], name="one_day_row"),
        ]

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class InterestPosting(models.Model):
    """One interest run for a caisse, product and period end: makes the run idempotent."""

    caisse = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(SavingsProduct, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    accounts = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, on_delete=models.PROTECT,
                                      related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caisse", "product", "period_end"],
                                    name="interest_once_per_period"),
        ]

