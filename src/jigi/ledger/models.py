from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


class Side(models.TextChoices):
    DEBIT = "D", _("Debit")
    CREDIT = "C", _("Credit")


class Account(models.Model):
    """An account of an organisation's chart (RCSFD for Kondo, a mutual's chart for UTM)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="accounts"
    )
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Only leaf accounts take postings; headings (class 2, 25) only sum.
    postable = models.BooleanField(default=True)

    class Meta:
        ordering = ["organisation", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="account_unique_code")
        ]
        verbose_name = _("account")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Book(models.Model):
    """A set of books: one per accounting unit (a caisse, a mutual, the network head office)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="books"
    )
    unit = models.OneToOneField(
        "orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="book"
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("book")

    def __str__(self) -> str:
        return self.name


class JournalEntry(models.Model):
    """A balanced posting. Never updated or deleted once written; corrected by a reversal."""

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="entries")
    year = models.PositiveSmallIntegerField()  # of the posting date; numbers restart each year
    number = models.PositiveBigIntegerField(_("number"))  # gapless per book and year
    value_date = models.DateField(_("value date"), db_index=True)
    posting_date = models.DateField(_("posting date"))
    description = models.CharField(_("description"), max_length=255)
    source_type = models.CharField(max_length=64, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["book", "value_date", "pk"]
        verbose_name = _("journal entry")
        constraints = [
            models.UniqueConstraint(
                fields=["book", "year", "number"], name="entry_unique_number"
            ),
        ]
        indexes = [models.Index(fields=["source_type", "source_id"])]

    def __str__(self) -> str:
        return f"{self.book.code}/{self.year}/{self.number}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    # Denormalised from the entry so balances and statements need no join.
    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="+")
    value_date = models.DateField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    side = models.CharField(max_length=1, choices=Side.choices)
    amount = models.BigIntegerField()
    # Optional sub-ledger reference (a savings account, a loan) for statements and reconciliation.
    subledger = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="line_amount_positive"),
            models.CheckConstraint(condition=Q(side__in=["D", "C"]), name="line_side_valid"),
        ]
        indexes = [
            models.Index(fields=["book", "account", "value_date"]),
            models.Index(fields=["subledger", "value_date"]),
        ]


class AccountBalance(models.Model):
    """Running debit and credit totals per book and account, kept by the posting service.

    Lets a trial balance over millions of lines read a few hundred rows; `ledger_verify`
    recomputes it from the lines to prove it never drifts.
    """

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    debit = models.BigIntegerField(default=0)
    credit = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["book", "account"], name="balance_unique_book_account")
        ]


class ClosedPeriod(models.Model):
    """A month of one book that takes no more postings (value date inside it)."""

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="closed_periods")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    closed_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["book", "year", "month"], name="closed_period_unique")
        ]
