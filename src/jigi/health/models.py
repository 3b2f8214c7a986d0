"""UTM mutual health insurance: mutuals, packages, coverage, contributions, providers, claims,
payment batches, the reinsurance service between mutuals, prevention sessions.

Vocabulary follows openIMIS where it has a word (family/insuree -> Coverage/Beneficiary,
product -> BenefitPackage, policy -> Coverage, premium -> Contribution, health facility ->
Provider, price list -> Convention + TariffItem, claim with items/services -> Claim + ClaimLine)
and French mutual practice where it does not (garanties, ticket modérateur, délai de stage).
Amounts are whole francs CFA (BigIntegerField). Persons live in the one registry (people.Person);
a mutual is an orgs.Unit of kind "mutual" with its own Book (MUTUAL chart).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AreaKind(models.TextChoices):
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class MutualProfile(models.Model):
    """What a mutual is beyond its unit: area, governance, the population it aims to cover."""

    unit = models.OneToOneField("orgs.Unit", on_delete=models.PROTECT, related_name="mutual_profile")
    area_kind = models.CharField(_("area"), max_length=8, choices=AreaKind.choices,
                                 default=AreaKind.RURAL)
    area = models.CharField(_("area covered"), max_length=200, blank=True)
    target_population = models.PositiveIntegerField(_("target population"), default=0)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    approval_ref = models.CharField(_("approval reference"), max_length=64, blank=True)
    last_general_assembly = models.DateField(_("last general assembly"), null=True, blank=True)
    # [{"person_id": 12, "office": "president", "since": "2025-01-15"}, ...]
    board = models.JSONField(_("board"), default=list, blank=True)

    class Meta:
        verbose_name = _("mutual")


class ContributionBasis(models.TextChoices):
    PER_PERSON = "per_person", _("Per beneficiary")
    PER_FAMILY = "per_family", _("Per family")


class ContributionFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    SEASONAL = "seasonal", _("Seasonal (after harvest)")
    YEARLY = "yearly", _("Yearly")


class ServiceGroup(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    DRUGS = "drugs", _("Essential drugs")
    LAB = "lab", _("Laboratory")
    ANTENATAL = "antenatal", _("Ante/post-natal care")
    DELIVERY = "delivery", _("Simple delivery")
    DELIVERY_COMPLICATED = "delivery_complicated", _("Complicated delivery")
    HOSPITALISATION = "hospitalisation", _("Hospitalisation")
    SURGERY = "surgery", _("Surgery")
    TRANSPORT = "transport", _("Transport (evacuation)")


class BenefitPackage(models.Model):
    """A package of guarantees (garanties) a mutual sells; mutual=None is a union template."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    mutual = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="benefit_packages")
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    card_fee = models.BigIntegerField(_("membership card fee"), default=0)
    contribution = models.BigIntegerField(_("contribution per period"))
    contribution_basis = models.CharField(_("contribution basis"), max_length=12,
                                          choices=ContributionBasis.choices,
                                          default=ContributionBasis.PER_PERSON)
    frequency = models.CharField(_("payment frequency"), max_length=10,
                                 choices=ContributionFrequency.choices,
                                 default=ContributionFrequency.MONTHLY)
    # Seasonal schedules: the months (1-12) in which a contribution falls due.
    season_months = models.JSONField(_("seasonal due months"), default=list, blank=True)
    child_max_age = models.PositiveSmallIntegerField(_("children covered up to age"), default=18)
    max_beneficiaries = models.PositiveSmallIntegerField(_("maximum beneficiaries per family"),
                                                         null=True, blank=True)
    other_dependants = models.BooleanField(_("other dependants allowed"), default=False)
    waiting_days = models.PositiveSmallIntegerField(_("waiting period after enrolment, days"),
                                                    default=90)
    waiting_days_lapse = models.PositiveSmallIntegerField(_("waiting period after a lapse, days"),
                                                          default=30)
    grace_days = models.PositiveSmallIntegerField(_("grace before arrears suspend coverage, days"),
                                                  default=60)
    exclusions = models.JSONField(_("excluded items"), default=list, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("benefit package")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "mutual", "code"],
                                    name="health_package_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BenefitRule(models.Model):
    """One service group of a package: what the mutual pays and its limits."""

    package = models.ForeignKey(BenefitPackage, on_delete=models.CASCADE, related_name="rules")
    group = models.CharField(_("service group"), max_length=24, choices=ServiceGroup.choices)
    mutual_share_pct = models.PositiveSmallIntegerField(_("share paid by the mutual, %"))
    ceiling_per_event = models.BigIntegerField(_("ceiling per event"), null=True, blank=True)
    ceiling_per_year = models.BigIntegerField(_("ceiling per beneficiary per year"), null=True,
                                              blank=True)
    max_quantity = models.PositiveIntegerField(_("quantity limit per line"), null=True, blank=True)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "group"], name="health_rule_group"),
            models.CheckConstraint(condition=Q(mutual_share_pct__lte=100),
                                   name="health_rule_share_pct"),
        ]


class GroupAgreement(models.Model):
    """Group enrolment: e.g. all domestic workers of an MTC section join a mutual together."""

    mutual = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    package = models.ForeignKey(BenefitPackage, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    partner_unit = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    name = models.CharField(_("name"), max_length=200)
    signed_on = models.DateField(_("signed on"))
    # Who pays the contributions of the enrolled members.
    payer = models.CharField(_("payer"), max_length=8, default="member",
                             choices=[("member", _("Each member")), ("partner", _("The partner"))])
    waiting_waived = models.BooleanField(_("waiting period waived"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")


class CoverageStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended (arrears)")
    ENDED = "ended", _("Ended")


class Coverage(models.Model):
    """A family's policy with a mutual under one package: the member (adhérent) who pays and
    the beneficiaries it covers."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    mutual = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="coverages")
    package = models.ForeignKey(BenefitPackage, on_delete=models.PROTECT, related_name="coverages")
    member = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="health_coverages")
    membership = models.ForeignKey("people.Membership", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("people.Household", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(GroupAgreement, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="coverages")
    number = models.CharField(_("policy number"), max_length=32)
    status = models.CharField(_("status"), max_length=10, choices=CoverageStatus.choices,
                              default=CoverageStatus.ACTIVE)
    enrolled_on = models.DateField(_("enrolled on"))
    # Care is covered from this date (enrolment + waiting period, or after a lapse).
    covered_from = models.DateField(_("covered from"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # Contributions are paid up to and including this date (None: nothing paid yet).
    paid_through = models.DateField(_("paid through"), null=True, blank=True)
    suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    card_fee_paid = models.BooleanField(_("card fee paid"), default=False)
    renewal_due = models.DateField(_("renewal due"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("coverage")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="health_coverage_number"),
        ]
        indexes = [models.Index(fields=["mutual", "status"])]

    def __str__(self) -> str:
        return self.number


class Beneficiary(models.Model):
    """A person covered by a Coverage: the member himself, spouses, children, dependants."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="beneficiaries")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT,
                               related_name="health_beneficiaries")
    relation = models.CharField(_("relation"), max_length=8)  # people.Relation values
    card_number = models.CharField(_("card number"), max_length=32)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    photo = models.FileField(_("photo"), upload_to="health/photos/", null=True, blank=True)

    class Meta:
        verbose_name = _("beneficiary")
        constraints = [
            models.UniqueConstraint(fields=["card_number"], name="health_card_number"),
        ]
        indexes = [models.Index(fields=["person", "until"])]


class SuspensionPeriod(models.Model):
    """Care between start and end (inclusive; open end = still suspended) is not covered."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="suspensions")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=16, default="arrears")


class ContributionDue(models.Model):
    """One period's contribution of a coverage (the schedule), paid oldest-first."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="dues")
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.BigIntegerField()
    paid = models.BigIntegerField(default=0)
    # The part of `paid` already income (701); the rest is an advance (412) until the period
    # begins (health.dues: accounting split).
    recognised = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["coverage", "period_start"], name="health_due_period"),
            models.CheckConstraint(condition=Q(paid__lte=models.F("amount")) & Q(paid__gte=0),
                                   name="health_due_paid_range"),
            models.CheckConstraint(
                condition=Q(recognised__lte=models.F("paid")) & Q(recognised__gte=0),
                name="health_due_recognised_range"),
        ]
        indexes = [models.Index(fields=["coverage", "period_start"])]


class Channel(models.TextChoices):
    CASH = "cash", _("Cash at the mutual")
    SAVINGS = "savings", _("Transfer from Kondo savings")
    MOBILE_MONEY = "mobile_money", _("Mobile money")
    PARTNER = "partner", _("Paid by the group partner")


class Contribution(models.Model):
    """A payment received by a mutual: card fee and/or contributions, with its ledger entry."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="payments")
    mutual = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField(_("paid on"))
    amount = models.BigIntegerField(_("amount"))
    card_fee = models.BigIntegerField(_("card fee part"), default=0)
    channel = models.CharField(_("channel"), max_length=14, choices=Channel.choices)
    receipt_number = models.CharField(_("receipt"), max_length=32)
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT,
                                      related_name="+")
    # The Kondo side of a savings transfer (savings.SavingsTransaction), if any.
    savings_transaction = models.ForeignKey("savings.SavingsTransaction", null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    external_ref = models.CharField(max_length=64, blank=True, default="")
    reversed_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="reverses")
    idempotency_key = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mutual", "receipt_number"], name="health_receipt"),
            models.UniqueConstraint(fields=["created_by", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="health_contribution_idem"),
        ]


class StandingOrder(models.Model):
    """A member's consented monthly transfer from a Kondo savings account to his mutual."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="standing_orders")
    account = models.ForeignKey("savings.SavingsAccount", on_delete=models.PROTECT,
                                related_name="+")
    consent = models.ForeignKey("people.Consent", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("amount"))
    day_of_month = models.PositiveSmallIntegerField(_("day of month"), default=5)
    active = models.BooleanField(default=True)
    last_run_on = models.DateField(null=True, blank=True)
    last_result = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")


class ProviderKind(models.TextChoices):
    CSCOM = "cscom", _("Community health centre (CSCom)")
    CSREF = "csref", _("Referral health centre (CSRef)")
    HOSPITAL = "hospital", _("Hospital")
    PHARMACY = "pharmacy", _("Pharmacy")
    CLINIC = "clinic", _("Private clinic")


class Provider(models.Model):
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=ProviderKind.choices)
    region = models.CharField(_("region"), max_length=100, blank=True)
    cercle = models.CharField(_("cercle"), max_length=100, blank=True)
    commune = models.CharField(_("commune"), max_length=100, blank=True)
    village = models.CharField(_("village or quarter"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Clinic staff who may check eligibility and enter claims for this provider.
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="providers")

    class Meta:
        verbose_name = _("health provider")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="health_provider_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Convention(models.Model):
    """An agreement with a provider (for one mutual, or union-wide when mutual is None)."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="conventions")
    mutual = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    reference = models.CharField(_("reference"), max_length=32)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # Price claimed above tariff by more than this is flagged for review, not silently cut.
    tolerance_pct = models.PositiveSmallIntegerField(_("review tolerance above tariff, %"),
                                                     default=50)


class TariffItem(models.Model):
    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=24)
    label = models.CharField(_("label"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, default="act",
                            choices=[("act", _("Medical act")), ("drug", _("Drug"))])
    group = models.CharField(_("service group"), max_length=24, choices=ServiceGroup.choices)
    price = models.BigIntegerField(_("agreed price"))
    max_quantity = models.PositiveIntegerField(_("quantity limit"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["convention", "code"], name="health_tariff_code"),
        ]


class ClaimStatus(models.TextChoices):
    ENTERED = "entered", _("Entered")
    REVIEW = "review", _("To review")
    VALUED = "valued", _("Checked and valued")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")


class Claim(models.Model):
    """A care sheet (feuille de soins) sent by a provider for one beneficiary."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    mutual = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="claims")
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="claims")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="claims")
    number = models.CharField(_("claim number"), max_length=32)
    care_date = models.DateField(_("date of care"))
    discharge_date = models.DateField(_("discharge date"), null=True, blank=True)
    diagnosis = models.CharField(_("diagnosis (ICD-10)"), max_length=8, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ClaimStatus.choices,
                              default=ClaimStatus.ENTERED)
    claimed = models.BigIntegerField(_("claimed"), default=0)
    allowed = models.BigIntegerField(_("allowed"), default=0)
    mutual_share = models.BigIntegerField(_("paid by the mutual"), default=0)
    copay = models.BigIntegerField(_("co-payment"), default=0)
    batch = models.ForeignKey("PaymentBatch", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="claims")
    entered_at = models.DateTimeField(auto_now_add=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        verbose_name = _("claim")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="health_claim_number"),
            models.UniqueConstraint(fields=["entered_by", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="health_claim_idem"),
        ]
        indexes = [
            models.Index(fields=["mutual", "status"]),
            models.Index(fields=["beneficiary", "care_date"]),
            models.Index(fields=["provider", "status"]),
        ]


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    item_code = models.CharField(_("item"), max_length=24)
    tariff_item = models.ForeignKey(TariffItem, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    group = models.CharField(_("service group"), max_length=24, blank=True)
    quantity = models.IntegerField(_("quantity"))
    unit_price = models.BigIntegerField(_("unit price claimed"))
    claimed = models.BigIntegerField(default=0)
    # What the checks (or a reviewer) allowed: allowed = allowed_quantity x allowed_unit_price.
    allowed_quantity = models.IntegerField(_("quantity allowed"), default=0)
    allowed_unit_price = models.BigIntegerField(_("unit price allowed"), default=0)
    allowed = models.BigIntegerField(default=0)
    mutual_share = models.BigIntegerField(default=0)
    copay = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, default="")  # accepted|reduced|rejected|flagged
    reasons = models.JSONField(default=list)  # coded reasons from health.valuation

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["claim", "line_no"], name="health_claim_line_no"),
        ]


class ClaimEvent(models.Model):
    """The claim's status history: who moved it, when, why."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                           related_name="+")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    note = models.CharField(max_length=500, blank=True)


class BenefitUsage(models.Model):
    """What a beneficiary has consumed of a group's yearly ceiling (kept by valuation)."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="usage")
    year = models.PositiveSmallIntegerField()
    group = models.CharField(max_length=24)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["beneficiary", "year", "group"],
                                    name="health_usage_unique"),
        ]


class PaymentBatch(models.Model):
    """Approved claims of one provider paid together (third-party payment)."""

    mutual = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="batches")
    number = models.CharField(_("batch number"), max_length=32)
    period_end = models.DateField(_("claims approved up to"))
    total = models.BigIntegerField(_("total"), default=0)
    status = models.CharField(max_length=10, default="open",
                              choices=[("open", _("Prepared")), ("approved", _("Approved")),
                                       ("paid", _("Paid")), ("cancelled", _("Cancelled"))])
    # Approval posts 601/401 (the liability); payment posts 401/57 or 52; cancelling an
    # approved batch reverses the approval entry.
    approval_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    payment_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField(null=True, blank=True)
    # The mutual's account the provider was paid from: 57 cash or 52 bank.
    paid_from = models.CharField(_("paid from"), max_length=4, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True,
                                     default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mutual", "number"], name="health_batch_number"),
        ]


class ReinsuranceTreaty(models.Model):
    """UTM's general reinsurance service for one mutual (terms: see health/reinsurance.py)."""

    mutual = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="treaties")
    reference = models.CharField(_("reference"), max_length=32)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    # The terms as the pure module's treaty dataclass takes them (validated by the service).
    terms = models.JSONField(_("terms"))
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")


class ReinsuranceStatement(models.Model):
    """A quarterly (quarter 1-4) or annual (quarter 0) settlement between a mutual and the pool."""

    treaty = models.ForeignKey(ReinsuranceTreaty, on_delete=models.PROTECT,
                               related_name="statements")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    figures = models.JSONField()  # premiums ceded, recoveries, balance... from the pure module
    balance = models.BigIntegerField()  # > 0: the mutual owes the pool
    mutual_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    pool_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["treaty", "year", "quarter"],
                                    name="health_statement_period"),
        ]


class PreventionSession(models.Model):
    """A prevention or health-education session (causerie) run by a mutual or the union."""

    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(_("topic"), max_length=200)
    place = models.CharField(_("place"), max_length=200)
    held_on = models.DateField(_("date"))
    facilitator = models.CharField(_("facilitator"), max_length=200)
    attendees = models.ManyToManyField("people.Person", blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
