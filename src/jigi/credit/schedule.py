"""Loan repayment schedules, computed as Apache Fineract's cumulative schedule generator does.

Pure: imports nothing from Django. Takes a frozen `LoanTerms`, returns a frozen `Schedule` of
`Decimal` amounts (whole francs for XOF, `currency_digits` = 0; other digit counts work too so
that schedules can be compared with systems in other currencies).

What is reproduced (docs/credit-schedule.md lists each rule with the Fineract method it follows):
declining balance or flat interest; equal instalments (PMT) or equal principal; a fixed principal
percentage per instalment with the remainder in the last (balloon); repayments every N days,
weeks or months with an optional first repayment date; an annual or monthly rate; interest per
day or per repayment period; days in year actual/360/364/365 and days in month actual/30; grace
on principal, grace on interest payment (deferred and collected at the first paying period) and
interest-free periods; currency rounding (digits, in-multiples-of) and instalment in-multiples-of;
the last instalment absorbs the residue so that the principal parts sum exactly to the principal.

Seasonal patterns (`jigi.credit.seasonal`) replace the regular calendar by planned dates; their
interest is then computed per actual day of each period (there is no Fineract equivalent).

Money values follow Fineract's `Money.of`: rounded half-even to `currency_digits`, and, when the
currency has no decimals and a positive in-multiples-of, to the nearest multiple (halfway up).
Intermediate rates use a 19-digit half-even `MathContext` (MoneyHelper's precision).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum

from jigi.credit.calendar_math import add_months, adjust_to_seed, days360, months_between
from jigi.credit.schedule_errors import ScheduleError
from jigi.credit.schedule_errors import gettext_noop as _
from jigi.credit.seasonal import SeasonalPattern, SeasonalPlan, plan_seasonal

__all__ = [
    "Amortization",
    "DaysInMonth",
    "DaysInYear",
    "Fee",
    "FeeBasis",
    "FeeType",
    "Installment",
    "InterestMethod",
    "InterestPeriod",
    "LoanTerms",
    "RatePer",
    "RepaymentUnit",
    "Schedule",
    "ScheduleError",
    "generate_schedule",
]

# Fineract's MoneyHelper MathContext: 19 significant digits, rounding mode from the tenant's
# "rounding-mode" configuration whose default (6) is HALF_EVEN.
MC = Context(prec=19, rounding=ROUND_HALF_EVEN)
# BigDecimal arithmetic without a MathContext is exact; 100 digits is exact for any loan here.
EXACT = Context(prec=100, rounding=ROUND_HALF_EVEN)
HUNDRED = Decimal(100)
ZERO = Decimal(0)
MAX_PRINCIPAL = Decimal(10) ** 13


class InterestMethod(StrEnum):
    DECLINING_BALANCE = "declining_balance"
    FLAT = "flat"


class Amortization(StrEnum):
    EQUAL_INSTALLMENTS = "equal_installments"
    EQUAL_PRINCIPAL = "equal_principal"


class InterestPeriod(StrEnum):
    DAILY = "daily"
    SAME_AS_REPAYMENT = "same_as_repayment"


class RepaymentUnit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class RatePer(StrEnum):
    YEAR = "year"
    MONTH = "month"


class DaysInYear(StrEnum):
    ACTUAL = "actual"
    D360 = "360"
    D364 = "364"
    D365 = "365"


class DaysInMonth(StrEnum):
    ACTUAL = "actual"
    D30 = "30"


class FeeType(StrEnum):
    UPFRONT_FLAT = "upfront_flat"  # withheld at disbursement
    UPFRONT_PERCENT = "upfront_percent"  # % of the principal, withheld at disbursement
    PER_INSTALLMENT_FLAT = "per_installment_flat"
    PER_INSTALLMENT_PERCENT = "per_installment_percent"  # % of the instalment's `basis`


class FeeBasis(StrEnum):
    PRINCIPAL = "principal"
    INTEREST = "interest"
    PRINCIPAL_AND_INTEREST = "principal_and_interest"


@dataclass(frozen=True, slots=True)
class Fee:
    """A charge: application fee, insurance, per-instalment commission.

    Upfront fees are withheld from the amount disbursed (they enter the TEG, not the
    instalments); per-instalment fees are added to each instalment, like Fineract's
    instalment-fee charges.
    """

    name: str
    type: FeeType
    amount: Decimal  # francs for *_flat, percent for *_percent
    basis: FeeBasis = FeeBasis.PRINCIPAL


@dataclass(frozen=True, kw_only=True)
class LoanTerms:
    """Every setting of one schedule, with Fineract's meaning (see docs/credit-schedule.md)."""

    principal: Decimal
    interest_rate: Decimal  # percent, per `interest_rate_per`
    repayments: int
    disbursed_on: date
    repayment_every: int = 1
    repayment_unit: RepaymentUnit = RepaymentUnit.MONTHS
    interest_rate_per: RatePer = RatePer.YEAR
    interest_method: InterestMethod = InterestMethod.DECLINING_BALANCE
    amortization: Amortization = Amortization.EQUAL_INSTALLMENTS
    fixed_principal_percent: Decimal | None = None
    interest_period: InterestPeriod = InterestPeriod.SAME_AS_REPAYMENT
    days_in_year: DaysInYear = DaysInYear.ACTUAL
    days_in_month: DaysInMonth = DaysInMonth.ACTUAL
    first_repayment_on: date | None = None
    grace_on_principal: int = 0
    grace_on_interest_payment: int = 0
    grace_on_interest_charged: int = 0
    currency_digits: int = 0
    currency_multiples_of: int = 0
    installment_multiples_of: int = 0
    fees: tuple[Fee, ...] = ()
    seasonal: SeasonalPattern | None = None
    # Fineract's "allow partial period interest calculation" (same-as-repayment interest on a
    # broken first period counts the fraction of the period).
    allow_partial_period_interest: bool = False
    # Compulsory (blocked) savings, percent of the principal; only the TEG uses it.
    compulsory_savings_percent: Decimal = ZERO
    teg_includes_compulsory_savings: bool = False

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def annual_rate(self) -> Decimal:
        """Nominal annual rate in percent (a monthly rate x 12, as Fineract's AprCalculator)."""
        if self.interest_rate_per is RatePer.MONTH:
            return self.interest_rate * 12
        return self.interest_rate


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due_on: date
    principal: Decimal
    interest: Decimal
    fees: Decimal
    total: Decimal
    balance: Decimal  # principal outstanding after this instalment


@dataclass(frozen=True)
class Schedule:
    terms: LoanTerms
    installments: tuple[Installment, ...]
    upfront_fees: Decimal  # withheld at disbursement
    compulsory_savings: Decimal  # blocked at disbursement, released as the loan is repaid
    net_disbursed: Decimal = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "net_disbursed", self.terms.principal - self.upfront_fees)

    @property
    def total_principal(self) -> Decimal:
        return sum((i.principal for i in self.installments), ZERO)

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.installments), ZERO)

    @property
    def total_fees(self) -> Decimal:
        return sum((i.fees for i in self.installments), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((i.total for i in self.installments), ZERO)


# --------------------------------------------------------------------------- validation


def _validate(t: LoanTerms) -> None:
    if not 0 <= t.currency_digits <= 6:
        raise ScheduleError("currency_digits", _("must be between 0 and 6"))
    if t.currency_multiples_of < 0:
        raise ScheduleError("currency_multiples_of", _("must be 0 (none) or positive"))
    if t.installment_multiples_of < 0:
        raise ScheduleError("installment_multiples_of", _("must be 0 (none) or positive"))
    if not t.principal.is_finite() or t.principal <= 0:
        raise ScheduleError("principal", _("must be a positive amount"))
    if t.principal >= MAX_PRINCIPAL:
        raise ScheduleError("principal", _("is too large"))
    if not _has_digits(t.principal, t.currency_digits):
        raise ScheduleError(
            "principal",
            _("must have at most %(digits)s digits after the point"),
            digits=t.currency_digits,
        )
    multiple = t.currency_multiples_of
    if t.currency_digits == 0 and multiple > 0 and t.principal % multiple:
        raise ScheduleError(
            "principal",
            _("must be a multiple of %(multiple)s (currency rounding)"),
            multiple=multiple,
        )
    if not t.interest_rate.is_finite() or t.interest_rate < 0:
        raise ScheduleError("interest_rate", _("must be zero or positive"))
    if t.annual_rate > 1000:
        raise ScheduleError(
            "interest_rate", _("is not a plausible rate (above 1000 percent a year)")
        )
    if not 1 <= t.repayments <= 600:
        raise ScheduleError("repayments", _("must be between 1 and 600"))
    if not 1 <= t.repayment_every <= 366:
        raise ScheduleError("repayment_every", _("must be between 1 and 366"))
    if t.first_repayment_on is not None and t.first_repayment_on <= t.disbursed_on:
        raise ScheduleError("first_repayment_on", _("must be after the disbursement date"))
    for name in ("grace_on_principal", "grace_on_interest_payment", "grace_on_interest_charged"):
        value = getattr(t, name)
        if value < 0:
            raise ScheduleError(name, _("must be zero or positive"))
        if value >= t.repayments:
            raise ScheduleError(name, _("must leave at least one full instalment"))
    flat = t.interest_method is InterestMethod.FLAT
    if flat and t.grace_on_interest_payment + t.grace_on_interest_charged >= t.repayments:
        # Fineract's flat generator divides the interest by the periods that pay it.
        raise ScheduleError(
            "grace_on_interest_payment", _("flat interest needs at least one period that pays it")
        )
    if t.fixed_principal_percent is not None:
        if not t.fixed_principal_percent.is_finite() or not 0 < t.fixed_principal_percent <= 100:
            raise ScheduleError("fixed_principal_percent", _("must be above 0 and at most 100"))
        if not flat and t.amortization is Amortization.EQUAL_INSTALLMENTS:
            raise ScheduleError(
                "fixed_principal_percent",
                _(
                    "applies to equal-principal amortization or flat interest, not to equal "
                    "instalments"
                ),
            )
    for fee in t.fees:
        if not fee.name.strip():
            raise ScheduleError("fees", _("every fee needs a name"))
        if not fee.amount.is_finite() or fee.amount < 0:
            raise ScheduleError(
                "fees", _("%(fee)s: the amount must be zero or positive"), fee=fee.name
            )
        if fee.type in (FeeType.UPFRONT_PERCENT, FeeType.PER_INSTALLMENT_PERCENT):
            if fee.amount > 100:
                raise ScheduleError(
                    "fees", _("%(fee)s: a percentage must be at most 100"), fee=fee.name
                )
        elif not _has_digits(fee.amount, t.currency_digits):
            raise ScheduleError(
                "fees",
                _("%(fee)s: at most %(digits)s digits after the point"),
                fee=fee.name,
                digits=t.currency_digits,
            )
    savings = t.compulsory_savings_percent
    if not savings.is_finite() or not 0 <= savings <= 100:
        raise ScheduleError("compulsory_savings_percent", _("must be between 0 and 100"))
    if t.seasonal is not None:
        for name in (
            "grace_on_principal",
            "grace_on_interest_payment",
            "grace_on_interest_charged",
        ):
            if getattr(t, name):
                raise ScheduleError(name, _("the seasonal pattern sets the grace; leave it at 0"))
        if t.fixed_principal_percent is not None:
            raise ScheduleError(
                "fixed_principal_percent", _("the seasonal pattern sets the principal parts")
            )


def _has_digits(value: Decimal, digits: int) -> bool:
    return value == value.quantize(Decimal(1).scaleb(-digits), context=EXACT)


# --------------------------------------------------------------------------- money rounding


class _Money:
    """Fineract's `Money.of` for one currency (digits, in-multiples-of)."""

    __slots__ = ("quantum", "multiple")

    def __init__(self, digits: int, multiple: int) -> None:
        self.quantum = Decimal(1).scaleb(-digits)
        # Money's constructor applies in-multiples-of only to currencies without decimals.
        self.multiple = Decimal(multiple) if digits == 0 and multiple > 0 else ZERO

    def of(self, value: Decimal) -> Decimal:
        multiple = self.multiple
        if not multiple:
            return value.quantize(self.quantum, ROUND_HALF_EVEN, EXACT)
        if value > 0:
            ratio = EXACT.divide(value, multiple)
            floor = ratio.to_integral_value(ROUND_FLOOR) * multiple
            ceiling = ratio.to_integral_value(ROUND_CEILING) * multiple
            # Money.roundToMultiplesOf(double): the nearer multiple, halfway goes up.
            value = floor if ceiling - value > value - floor else ceiling
        return value.quantize(self.quantum, rounding=ROUND_HALF_EVEN, context=EXACT)

    def retain_scale(self, amount: Decimal, factor: Decimal) -> Decimal:
        """`Money.multiplyRetainScale`: amount x factor (MathContext), then Money.of."""
        if factor == 1:
            return amount
        scaled = MC.multiply(amount, factor).quantize(self.quantum, ROUND_HALF_EVEN, EXACT)
        # Money.of re-applies the scale (a no-op now) and the in-multiples-of, if any.
        return self.of(scaled) if self.multiple else scaled


def round_to_multiple(value: Decimal, multiple: int) -> Decimal:
    """`Money.roundToMultiplesOf(BigDecimal, Integer)`: half-even to a multiple."""
    step = Decimal(multiple)
    return EXACT.divide(value, step).to_integral_value(ROUND_HALF_EVEN) * step


def _fee_amounts(
    terms: LoanTerms, money: _Money
) -> tuple[Decimal, Callable[[Decimal, Decimal], Decimal] | None]:
    """Upfront total, and a function giving an instalment's fees from its principal and
    interest (None when the product has no per-instalment fee)."""
    upfront = ZERO
    per_installment: list[Fee] = []
    for fee in terms.fees:
        if fee.type is FeeType.UPFRONT_FLAT:
            upfront += money.of(fee.amount)
        elif fee.type is FeeType.UPFRONT_PERCENT:
            upfront += money.of(MC.divide(EXACT.multiply(terms.principal, fee.amount), HUNDRED))
        else:
            per_installment.append(fee)

    def installment_fees(principal: Decimal, interest: Decimal) -> Decimal:
        # Fineract's cumulativeFeeChargesDueWithin: each charge is added through Money.of.
        total = ZERO
        for fee in per_installment:
            if fee.type is FeeType.PER_INSTALLMENT_FLAT:
                total = money.of(total + fee.amount)
            else:
                if fee.basis is FeeBasis.PRINCIPAL:
                    base = principal
                elif fee.basis is FeeBasis.INTEREST:
                    base = interest
                else:
                    base = principal + interest
                total = money.of(total + MC.divide(EXACT.multiply(base, fee.amount), HUNDRED))
        return total

    return upfront, (installment_fees if per_installment else None)


# --------------------------------------------------------------------------- Fineract cumulative


class _Cumulative:
    """One run of Fineract's AbstractCumulativeLoanScheduleGenerator for plain terms.

    Plain: a single disbursement, no interest recalculation, no holidays or working-day
    rescheduling, no term variations, no down payment (none of which Jigi's products use).
    """

    def __init__(self, terms: LoanTerms) -> None:
        self.t = terms
        self.money = _Money(terms.currency_digits, terms.currency_multiples_of)
        self.annual = terms.annual_rate
        self.n = terms.repayments
        self.unit = terms.repayment_unit
        self.every = terms.repayment_every
        self.seed = terms.first_repayment_on or terms.disbursed_on
        self.daily = terms.interest_period is InterestPeriod.DAILY
        self.diy: int | None = (
            None if terms.days_in_year is DaysInYear.ACTUAL else int(terms.days_in_year)
        )
        self.gp = terms.grace_on_principal
        self.gi = terms.grace_on_interest_payment
        self.gc = terms.grace_on_interest_charged
        self.periods_in_year = self._periods_in_one_year()
        # annual / periods-in-year / 100 with the MathContext, as Fineract divides; the daily
        # method's "one day of year" rate is the same expression.
        self.rate_per_period_unit = MC.divide(
            MC.divide(self.annual, Decimal(self.periods_in_year)), HUNDRED
        )
        self.one_day_rate = self.rate_per_period_unit
        self.same_as_repayment_rate = EXACT.multiply(self.rate_per_period_unit, Decimal(self.every))
        # Same-as-repayment interest without partial periods: one rate for every period
        # (None = compute per period). A zero rate is constant too but falsy: recomputed, fine.
        self.constant_rate: Decimal | None = (
            None
            if self.daily or terms.allow_partial_period_interest
            else self.same_as_repayment_rate
        )
        self.principal = terms.principal
        self.emi: Decimal | None = None
        self.fixed_principal: Decimal | None = None
        self.total_interest_due = ZERO
        self.total_interest_no_grace = ZERO
        self.flat_per_installment = ZERO
        self.flat_averaged_interest = ZERO
        self.flat_interest_after_grace = ZERO
        self.flat_principal = ZERO

    # ---- dates (DefaultScheduledDateGenerator)

    def _period_date(self, start: date, count: int) -> date:
        if self.unit is RepaymentUnit.DAYS:
            return start + timedelta(days=count)
        if self.unit is RepaymentUnit.WEEKS:
            return start + timedelta(weeks=count)
        return add_months(start, count)

    def due_date(self, k: int) -> date:
        """Due date of repayment k (1-based), as generateNextRepaymentDate chains them.

        Fineract adds one period to the previous due date, then (monthly) puts back the seed's
        day when a short month clamped it. That chain equals adding k periods to the start in
        one step (the seed's day, clamped to each month), which avoids walking the chain.
        """
        first = self.t.first_repayment_on
        if first is None:
            return self._period_date(self.t.disbursed_on, k * self.every)
        return self._period_date(first, (k - 1) * self.every)

    def ideal_disbursement(self, first_due: date) -> date:
        if self.unit is RepaymentUnit.MONTHS:
            return add_months(first_due, -self.every)
        return self._period_date(first_due, -self.every)

    # ---- rates (LoanApplicationTerms)

    def _periods_in_one_year(self) -> int:
        """calculatePeriodsInOneYear."""
        default = {RepaymentUnit.DAYS: 365, RepaymentUnit.WEEKS: 52, RepaymentUnit.MONTHS: 12}
        periods = default[self.unit]
        if self.unit is RepaymentUnit.DAYS and self.diy is not None:
            periods = self.diy
        if self.daily:
            periods = self.diy if self.diy is not None else 365
        return periods

    def periods_between(self, start: date, end: date) -> Decimal:
        """calculatePeriodsBetweenDates: whole periods plus a day fraction (a Java double)."""
        days = (end - start).days
        if self.unit is RepaymentUnit.DAYS:
            return Decimal(repr(float(days)))
        if self.unit is RepaymentUnit.WEEKS:
            weeks = days // 7 if days >= 0 else -((-days) // 7)
            left = (end - (start + timedelta(weeks=weeks))).days
            return EXACT.add(Decimal(weeks), Decimal(repr(left / 7)))
        months = months_between(start, end)
        after = adjust_to_seed(add_months(start, months), self.seed)
        next_after = adjust_to_seed(add_months(start, months + 1), self.seed)
        left = (end - after).days
        return EXACT.add(Decimal(months), Decimal(repr(left / (next_after - after).days)))

    def periodic_rate(self, start: date, end: date, *, for_pmt: bool) -> Decimal:
        """periodicInterestRate: the fraction of the balance charged for start..end."""
        if self.daily:
            if self.unit is RepaymentUnit.MONTHS and (
                for_pmt or self.t.days_in_month is DaysInMonth.D30
            ):
                # 30-day months; the EMI always uses them (pmtForInstallment passes DAYS_30).
                frequency = Decimal(self.every) if for_pmt else self.periods_between(start, end)
                return MC.multiply(self.one_day_rate, MC.multiply(frequency, Decimal(30)))
            return MC.multiply(self.one_day_rate, Decimal((end - start).days))
        if self.t.allow_partial_period_interest and not for_pmt:
            return EXACT.multiply(self.rate_per_period_unit, self.periods_between(start, end))
        return self.same_as_repayment_rate

    def remaining_principal_periods(self, elapsed: int) -> int:
        return self.n - elapsed - max(0, self.gp - elapsed)

    def remaining_interest_periods(self, elapsed: int) -> int:
        return self.n - elapsed - max(0, self.gi - elapsed) - self.gc

    # ---- amortization set-up

    def pmt(self, balance: Decimal, period_number: int) -> Decimal:
        """pmtForInstallment + paymentPerPeriod: Excel PMT in doubles, as Fineract does."""
        start = self.t.disbursed_on.replace(day=1)
        end = self._period_date(start, self.every)
        rate = float(self.periodic_rate(start, end, for_pmt=True))
        remaining = float(self.remaining_principal_periods(period_number - 1))
        principal = float(-balance)
        if rate == 0:
            payment = -1 * (0.0 + principal) / remaining
        else:
            r1 = rate + 1
            payment = (
                (0.0 + principal * math.pow(r1, remaining))
                * rate
                / (1.0 * (1 - math.pow(r1, remaining)))
            )
        emi = Decimal(repr(payment))
        if self.t.installment_multiples_of:
            emi = round_to_multiple(emi, self.t.installment_multiples_of)
        return self.money.of(emi)

    def setup(self, loan_end: date) -> None:
        t = self.t
        money = self.money
        if t.interest_method is InterestMethod.FLAT:
            # calculateTotalInterestCharged (flat): the whole term's interest, less the
            # interest-free periods' share.
            if self.daily:
                term = Decimal((loan_end - t.disbursed_on).days)
            elif t.allow_partial_period_interest:
                term = self.periods_between(t.disbursed_on, loan_end)
            else:
                term = Decimal(self.n * self.every)  # Fineract's loan term frequency
            rate = EXACT.multiply(self.rate_per_period_unit, term)
            self.total_interest_no_grace = money.retain_scale(self.principal, rate)
            self.flat_per_installment = self._divide(self.total_interest_no_grace, self.n)
            free = money.retain_scale(self.flat_per_installment, Decimal(self.gc))
            self.total_interest_due = self.total_interest_no_grace - free
            # The averaged interest of a paying period (equal instalments) and the principal
            # of a paying period are the same every period: computed once here (Fineract
            # recomputes them each period from the same inputs).
            per = self.flat_per_installment
            free_by_multiply = per if self.gc == 1 else money.of(MC.multiply(per, Decimal(self.gc)))
            self.flat_averaged_interest = self._divide(
                self.total_interest_no_grace - free_by_multiply, self.remaining_interest_periods(0)
            )
            self.flat_interest_after_grace = self._divide(
                self.total_interest_due, self.remaining_interest_periods(self.gi)
            )
            if t.fixed_principal_percent is not None:
                self.flat_principal = self._percent_of_principal()
            else:
                self.flat_principal = self._divide(
                    self.principal, self.remaining_principal_periods(0)
                )
        if t.amortization is Amortization.EQUAL_INSTALLMENTS:
            if t.interest_method is InterestMethod.DECLINING_BALANCE:
                self.emi = self.pmt(self.principal, max(1, self.gp + 1))
                if self.emi <= 0:
                    # Fineract would loop on an instalment rounded to nothing; refuse instead.
                    multiple = t.installment_multiples_of
                    raise ScheduleError(
                        "installment_multiples_of" if multiple else "principal",
                        _("the instalment rounds to zero: lend more or round to a smaller amount"),
                    )
        elif t.fixed_principal_percent is not None:
            # calculateEqualPrincipalDueForInstallment: the percentage wins over the division.
            self.fixed_principal = self._percent_of_principal()
        else:
            self.fixed_principal = self._divide(self.principal, self.remaining_principal_periods(0))

    def _divide(self, amount: Decimal, by: int) -> Decimal:
        """Money.dividedBy(long or BigDecimal, mc): dividing by one returns the amount as is."""
        if by == 1:
            return amount
        return self.money.of(MC.divide(amount, Decimal(by)))

    def _percent_of_principal(self) -> Decimal:
        assert self.t.fixed_principal_percent is not None
        return self.money.of(
            MC.divide(EXACT.multiply(self.principal, self.t.fixed_principal_percent), HUNDRED)
        )

    # ---- per period

    def adjust_principal_if_last(self, principal: Decimal, cumulative: Decimal, p: int) -> Decimal:
        remaining = self.principal - cumulative
        if remaining < 0:
            return principal + remaining
        if p == self.n:
            return principal + remaining
        return principal

    def declining(
        self,
        p: int,
        start: date,
        end: date,
        brought_forward: Decimal,
        outstanding: Decimal,
        cumulative_principal: Decimal,
    ) -> tuple[Decimal, Decimal, Decimal]:
        """CumulativeDecliningBalanceInterestLoanScheduleGenerator.calculatePrincipalInterest..."""
        rate = self.constant_rate or self.periodic_rate(start, end, for_pmt=False)
        money = self.money
        if money.multiple:
            before = money.retain_scale(outstanding, rate)
        else:  # the same, inlined: this is the hot path of every schedule
            before = MC.multiply(outstanding, rate).quantize(money.quantum, ROUND_HALF_EVEN, EXACT)
        after = ZERO if p <= self.gi or p <= self.gc else before
        if after > 0:
            interest = brought_forward + after
            deferred = ZERO
        elif p <= self.gc:
            interest = ZERO
            deferred = brought_forward
        else:
            interest = ZERO
            deferred = brought_forward + before
        # The period's own interest (without what was deferred from earlier periods).
        own = interest - brought_forward if interest > 0 else deferred - brought_forward
        if p <= self.gp:
            principal = ZERO
        elif self.emi is not None:  # equal instalments
            principal = self.emi - own
        else:
            assert self.fixed_principal is not None  # equal principal (or its percentage)
            principal = self.fixed_principal
        # adjustPrincipalIfLastRepaymentPeriod
        remaining = self.principal - cumulative_principal - principal
        if remaining < 0 or p == self.n:
            principal += remaining
        return principal, interest, deferred

    def flat_interest(self, p: int, brought_forward: Decimal) -> tuple[Decimal, Decimal]:
        per = self.flat_per_installment
        if self.t.amortization is Amortization.EQUAL_PRINCIPAL:
            # calculateTotalFlatInterestForPeriod: deferred interest is paid in one go.
            if p <= self.gi:
                return ZERO, brought_forward + per
            if p <= self.gc:
                return ZERO, brought_forward
            if p == self.gi + 1:
                return brought_forward + per, ZERO
            return per, brought_forward
        # calculateTotalFlatInterestForInstallmentAveragingOutGracePeriods: the total less the
        # interest-free share, spread over the paying periods; once a grace on payment is over
        # (the last grace period before p is then gi), the interest due over what remains.
        if p <= self.gi or p <= self.gc:
            return ZERO, brought_forward
        if self.gi > 0:
            return self.flat_interest_after_grace, brought_forward
        return self.flat_averaged_interest, brought_forward

    def flat(
        self,
        p: int,
        brought_forward: Decimal,
        cumulative_principal: Decimal,
        cumulative_interest: Decimal,
    ) -> tuple[Decimal, Decimal, Decimal]:
        """CumulativeFlatInterestLoanScheduleGenerator.calculatePrincipalInterest..."""
        money = self.money
        interest, deferred = self.flat_interest(p, brought_forward)
        # calculateTotalPrincipalPerPeriodWithoutGrace
        principal = ZERO if p <= self.gp else self.flat_principal
        multiple = self.t.installment_multiples_of
        if multiple:
            # Round principal and interest to the multiple, keep the exact interest: the
            # instalment total becomes a multiple (Fineract's "417 + 13 - 12.5" comment).
            rounded_principal = money.of(round_to_multiple(principal, multiple))
            rounded_interest = money.of(round_to_multiple(interest, multiple))
            principal = money.of(rounded_principal + rounded_interest) - interest
        principal = self.adjust_principal_if_last(principal, cumulative_principal + principal, p)
        # adjustInterestIfLastRepaymentPeriod
        cumulative = cumulative_interest + interest
        remaining = self.total_interest_due - cumulative
        if remaining < 0 or p == self.n:
            interest = interest + remaining
        # Fineract doubles a negative result here; it cannot arise: the cut above keeps the
        # cumulative interest at or under the total, so interest + remaining >= 0.
        assert interest >= 0
        return principal, interest, deferred

    def run(self) -> tuple[Installment, ...]:
        t = self.t
        dues = [self.due_date(k) for k in range(1, self.n + 1)]
        self.setup(loan_end=dues[-1])
        first_due = dues[0]
        ideal = self.ideal_disbursement(first_due)
        _upfront, installment_fees = _fee_amounts(t, self.money)
        outstanding = self.principal
        cumulative_principal = ZERO
        cumulative_interest = ZERO
        deferred = ZERO
        reduce = ZERO
        start = t.disbursed_on
        rows: list[Installment] = []
        declining = t.interest_method is InterestMethod.DECLINING_BALANCE
        # Fineract loops "while the balance is not zero"; adjustPrincipalIfLastRepaymentPeriod
        # makes period N repay whatever remains, so the loop never runs past N, and it stops
        # earlier when a rounded-up instalment has repaid everything.
        for p, due in enumerate(dues, start=1):  # pragma: no branch (N always breaks)
            interest_start = start
            if (start < ideal or start < first_due) and start == t.disbursed_on:
                # calculateInterestStartDateForPeriod: the first period's interest runs from
                # the "ideal disbursement date" (first due date minus one period).
                interest_start = ideal
            effective_cumulative = cumulative_principal - reduce
            if declining:
                principal, interest, deferred_next = self.declining(
                    p, interest_start, due, deferred, outstanding, effective_cumulative
                )
            else:
                principal, interest, deferred_next = self.flat(
                    p, deferred, effective_cumulative, cumulative_interest
                )
            deferred = deferred_next
            # updatePrincipalPortionBasedOnPreviousEarlyPayments: a non-positive principal
            # (interest above the instalment) is carried and taken from later principal.
            if principal > reduce:
                principal -= reduce
                reduce = ZERO
            else:
                reduce -= principal
                principal = ZERO
            # Money.minus: both are already currency amounts (and multiples), so is the result.
            # adjustPrincipalIfLastRepaymentPeriod has capped the principal at the balance, so
            # Fineract's clamp of a negative balance (for interest recalculation) never fires.
            outstanding -= principal
            assert outstanding >= 0
            fees = installment_fees(principal, interest) if installment_fees else ZERO
            rows.append(
                Installment(
                    p, due, principal, interest, fees, principal + interest + fees, outstanding
                )
            )
            cumulative_principal += principal
            cumulative_interest += interest
            start = due
            if outstanding == 0:
                break
        if deferred > 0:
            # Interest still deferred by the grace goes to the last instalment.
            last = rows[-1]
            rows[-1] = Installment(
                number=last.number,
                due_on=last.due_on,
                principal=last.principal,
                interest=last.interest + deferred,
                fees=last.fees,
                total=last.total + deferred,
                balance=last.balance,
            )
        return tuple(rows)


# --------------------------------------------------------------------------- dated (seasonal)


def _dated_installments(terms: LoanTerms, plan: SeasonalPlan) -> tuple[Installment, ...]:
    """Instalments on planned dates: interest per actual day of each period.

    Interest of a period = base x annual rate x days / days-in-year, where the base is the
    outstanding principal (declining balance) or the original principal (flat), days are actual
    (or 30/360 when days in month is 30) and days-in-year is 365 for "actual" (as Fineract's
    cumulative generator) or the product's 360/364/365. The principal follows the plan's
    weights by cumulative rounding (parts never negative, their sum exactly the principal);
    with an instalment multiple, a principal-bearing instalment's principal + interest is
    rounded to it; the last instalment takes whatever principal remains.
    """
    money = _Money(terms.currency_digits, terms.currency_multiples_of)
    _upfront, installment_fees = _fee_amounts(terms, money)
    principal = terms.principal
    per_year = Decimal(365 if terms.days_in_year is DaysInYear.ACTUAL else int(terms.days_in_year))
    daily_rate = MC.divide(MC.divide(terms.annual_rate, HUNDRED), per_year)
    count_days: Callable[[date, date], int]
    if terms.days_in_month is DaysInMonth.D30:
        count_days = days360
    else:

        def count_days(a: date, b: date) -> int:
            return (b - a).days

    dates = plan.dates
    if plan.fixed_principal is not None:
        for amount in plan.fixed_principal:
            if money.of(amount) != amount:
                raise ScheduleError(
                    "seasonal.installments",
                    _("%(amount)s is not a valid amount for this currency's rounding"),
                    amount=str(amount),
                )
        targets: list[Decimal] = []
        running = ZERO
        for amount in plan.fixed_principal:
            running += amount
            targets.append(running)
    else:
        total_weight = sum((d.weight for d in dates), ZERO)
        targets = []
        running_weight = ZERO
        for d in dates:
            running_weight += d.weight
            targets.append(
                money.of(MC.divide(EXACT.multiply(principal, running_weight), total_weight))
            )
        targets[-1] = principal
    declining = terms.interest_method is InterestMethod.DECLINING_BALANCE
    multiple = terms.installment_multiples_of
    outstanding = principal
    paid = ZERO
    previous = terms.disbursed_on
    rows: list[Installment] = []
    last_index = len(dates) - 1
    for index, planned in enumerate(dates):
        days = Decimal(count_days(previous, planned.due_on))
        base = outstanding if declining else principal
        interest = money.retain_scale(base, MC.multiply(daily_rate, days)) if days else ZERO
        if index == last_index:
            part = outstanding
        elif planned.weight == 0 and plan.fixed_principal is None:
            part = ZERO  # interest only (growth months, months without surplus)
        else:
            part = max(ZERO, min(outstanding, targets[index] - paid))
            if multiple and part > 0 and plan.fixed_principal is None:
                adjusted = money.of(round_to_multiple(part + interest, multiple)) - interest
                if 0 < adjusted <= outstanding:
                    part = adjusted
        outstanding -= part
        paid += part
        fees = installment_fees(part, interest) if installment_fees else ZERO
        rows.append(
            Installment(
                number=index + 1,
                due_on=planned.due_on,
                principal=part,
                interest=interest,
                fees=fees,
                total=part + interest + fees,
                balance=outstanding,
            )
        )
        previous = planned.due_on
    return tuple(rows)


# --------------------------------------------------------------------------- entry point


def generate_schedule(terms: LoanTerms) -> Schedule:
    """The repayment schedule of `terms`; raises ScheduleError for impossible settings."""
    money = _Money(terms.currency_digits, terms.currency_multiples_of)
    upfront, _per_installment = _fee_amounts(terms, money)
    if upfront >= terms.principal:
        raise ScheduleError("fees", _("upfront fees would take the whole principal"))
    if terms.seasonal is not None:
        plan = plan_seasonal(
            terms.seasonal,
            disbursed_on=terms.disbursed_on,
            first_repayment_on=terms.first_repayment_on,
            repayments=terms.repayments,
            repayment_every=terms.repayment_every,
            repayment_unit=terms.repayment_unit.value,
            principal=terms.principal,
        )
        installments = _dated_installments(terms, plan)
    else:
        installments = _Cumulative(terms).run()
    savings = money.of(
        MC.divide(EXACT.multiply(terms.principal, terms.compulsory_savings_percent), HUNDRED)
    )
    return Schedule(
        terms=terms, installments=installments, upfront_fees=upfront, compulsory_savings=savings
    )
