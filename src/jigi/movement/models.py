"""MTC, the workers' movement: members in four groups, dues, rights cases, campaigns.

Vocabulary follows CiviCRM where it has a word (membership type and status with grace,
CiviCase with activities on a timeline, campaigns, petitions with confirmed signatures) and
openIMIS's grievance module for cases (categories, resolution deadlines, confidential flag).

- A member is a person of the one registry (people.Person) with an MTC membership
  (people.Membership, held at a section: an orgs.Unit of kind "section") and one
  MemberProfile; the profile carries one record of her group (TeacherRecord,
  DomesticWorkerRecord, ArtisanRecord, YouthRecord).
- Dues accrue per period (DuesCharge) whether or not the member pays: informal workers pay
  irregularly, so arrears grow and the member falls into grace then arrears, but her
  membership never expires by itself (only an officer ends it).
- Money is whole francs CFA. Every charge run, payment, waiver and reversal is posted to the
  movement's book (ledger chart MOVEMENT) in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jigi.orgs.models import MemberGroup

# ---------------------------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------------------------


class Standing(models.TextChoices):
    """Where a member stands with her dues (computed by movement.standing from her charges).

    CiviCRM's New/Current/Grace/Expired, without Expired: an irregular payer stays a member
    "in arrears" until an officer decides otherwise (people.Membership.status)."""

    NEW = "new", _("New")
    CURRENT = "current", _("Up to date")
    GRACE = "grace", _("In grace period")
    ARREARS = "arrears", _("In arrears")
    EXEMPT = "exempt", _("Exempt from dues")


class AreaKind(models.TextChoices):
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class MemberProfile(models.Model):
    """What MTC knows of one of its members beyond the registry: group, section, standing."""

    membership = models.OneToOneField("people.Membership", on_delete=models.PROTECT,
                                      related_name="movement_profile")
    # Denormalised from the membership for the section lists and indicators.
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    section = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("group"), max_length=16, choices=MemberGroup.choices)
    # Where she lives and works (Bamako is urban; a rural commune is rural), and whether she
    # came from the countryside (most domestic workers): the gender dashboard's rural women.
    area_kind = models.CharField(_("area"), max_length=8, choices=AreaKind.choices,
                                 default=AreaKind.URBAN)
    rural_origin = models.BooleanField(_("comes from a rural area"), default=False)
    home_village = models.CharField(_("home village"), max_length=100, blank=True)
    standing = models.CharField(_("standing"), max_length=8, choices=Standing.choices,
                                default=Standing.NEW)
    # First day of the oldest unpaid (and not waived) charge; None when nothing is owed.
    owing_since = models.DateField(_("owing since"), null=True, blank=True)
    arrears = models.BigIntegerField(_("arrears"), default=0)  # sum of open charges, francs
    advance = models.BigIntegerField(_("paid in advance"), default=0)  # held on account 419
    dues_exempt = models.BooleanField(_("exempt from dues"), default=False)
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                      on_delete=models.PROTECT, related_name="+")
    # Optimistic lock counter for concurrent payment / waiver on one member.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("MTC member")
        indexes = [
            models.Index(fields=["section", "group"]),
            models.Index(fields=["group", "standing"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(arrears__gte=0) & Q(advance__gte=0),
                                   name="movement_profile_money_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.membership.number} {self.person}"


class TeacherStatus(models.TextChoices):
    STATE_CONTRACT = "state_contract", _("State contract")
    LOCAL_CONTRACT = "local_contract", _("Local authority contract")
    COMMUNITY = "community", _("Community school")
    VOLUNTEER = "volunteer", _("Volunteer")


class PayBy(models.TextChoices):
    STATE = "state", _("The State")
    LOCAL_AUTHORITY = "local_authority", _("The commune or local authority")
    COMMUNITY = "community", _("The community or parents")
    PROMOTER = "promoter", _("The school's promoter")
    NOBODY = "nobody", _("Nobody")


class TeacherRecord(models.Model):
    profile = models.OneToOneField(MemberProfile, on_delete=models.CASCADE,
                                   related_name="teacher")
    school = models.CharField(_("school"), max_length=200)
    school_place = models.CharField(_("school's place"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=TeacherStatus.choices)
    monthly_pay = models.BigIntegerField(_("monthly pay"), default=0)
    paid_by = models.CharField(_("paid by"), max_length=16, choices=PayBy.choices)
    pay_arrears = models.BigIntegerField(_("pay owed to the teacher"), default=0)
    pay_arrears_months = models.PositiveSmallIntegerField(_("months of pay owed"), default=0)
    updated_at = models.DateTimeField(auto_now=True)


class DomesticWorkerRecord(models.Model):
    """A domestic worker's situation (décret 96-178: declared, 10 h a day, two half-days of
    rest a week). Whether she is a minor comes from the registry's birth date or year."""

    profile = models.OneToOneField(MemberProfile, on_delete=models.CASCADE,
                                   related_name="domestic")
    employer_name = models.CharField(_("employer household"), max_length=200)
    employer_phone = models.CharField(_("employer's phone"), max_length=16, blank=True)
    district = models.CharField(_("district (commune, quarter)"), max_length=100)
    start_date = models.DateField(_("started on"), null=True, blank=True)
    live_in = models.BooleanField(_("lives in the employer's home"), default=False)
    monthly_pay = models.BigIntegerField(_("monthly pay"), default=0)
    daily_hours = models.PositiveSmallIntegerField(_("hours worked a day"), default=0)
    weekly_rest_half_days = models.PositiveSmallIntegerField(_("half-days of rest a week"),
                                                             default=0)
    written_contract = models.BooleanField(_("written contract"), default=False)
    declared = models.BooleanField(_("declared (social security)"), default=False)
    updated_at = models.DateTimeField(auto_now=True)


class ArtisanRecord(models.Model):
    profile = models.OneToOneField(MemberProfile, on_delete=models.CASCADE,
                                   related_name="artisan")
    trade = models.CharField(_("trade"), max_length=100)
    workshop = models.CharField(_("workshop"), max_length=200, blank=True)
    workshop_place = models.CharField(_("workshop's place"), max_length=100, blank=True)
    apprentices = models.PositiveSmallIntegerField(_("apprentices"), default=0)
    monthly_income = models.BigIntegerField(_("usual monthly income"), default=0)
    updated_at = models.DateTimeField(auto_now=True)


class Schooling(models.TextChoices):
    NONE = "none", _("Never went to school")
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")
    VOCATIONAL = "vocational", _("Vocational training")
    HIGHER = "higher", _("Higher education")


class ComputerAccess(models.TextChoices):
    NONE = "none", _("None")
    SHARED = "shared", _("Shared (cyber-café, centre)")
    OWN = "own", _("Own computer or smartphone")


class YouthRecord(models.Model):
    profile = models.OneToOneField(MemberProfile, on_delete=models.CASCADE,
                                   related_name="youth")
    schooling = models.CharField(_("schooling"), max_length=12, choices=Schooling.choices)
    in_school = models.BooleanField(_("still in school"), default=False)
    skills = models.CharField(_("skills"), max_length=300, blank=True)
    computer_access = models.CharField(_("computer access"), max_length=8,
                                       choices=ComputerAccess.choices,
                                       default=ComputerAccess.NONE)
    seeking_work = models.BooleanField(_("looking for work"), default=False)
    updated_at = models.DateTimeField(auto_now=True)


# ---------------------------------------------------------------------------------------------
# Dues
# ---------------------------------------------------------------------------------------------


class DuesFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class DuesRate(models.Model):
    """The dues of a group for periods starting from `valid_from` (a dated setting: a new rate
    is a new row, old charges keep the rate they were made at)."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    group = models.CharField(_("group"), max_length=16, choices=MemberGroup.choices)
    amount = models.BigIntegerField(_("amount per period"))
    frequency = models.CharField(_("frequency"), max_length=10, choices=DuesFrequency.choices,
                                 default=DuesFrequency.MONTHLY)
    valid_from = models.DateField(_("valid from"))
    # Months without paying before "grace" turns into "arrears".
    grace_months = models.PositiveSmallIntegerField(_("grace months"), default=3)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("dues rate")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "group", "valid_from"],
                                    name="movement_rate_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="movement_rate_nonneg"),
        ]


class DuesCharge(models.Model):
    """One period's dues of one member. `paid` + `waived` never exceed `amount`; the charge is
    open while they fall short. Charges are made by the accrual run (close of business or
    `jigi movement accrue`), posted 411/756 in one entry per section and run."""

    profile = models.ForeignKey(MemberProfile, on_delete=models.PROTECT, related_name="charges")
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.BigIntegerField()
    paid = models.BigIntegerField(default=0)
    waived = models.BigIntegerField(default=0)
    rate = models.ForeignKey(DuesRate, on_delete=models.PROTECT, related_name="+")
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT,
                                      related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "period_start"],
                                    name="movement_charge_period"),
            models.CheckConstraint(
                condition=Q(paid__gte=0) & Q(waived__gte=0)
                & Q(amount__gte=models.F("paid") + models.F("waived")),
                name="movement_charge_range"),
        ]
        indexes = [models.Index(fields=["profile", "period_start"])]

    @property
    def open_amount(self) -> int:
        return self.amount - self.paid - self.waived


class PaymentChannel(models.TextChoices):
    CASH = "cash", _("Cash")
    MOBILE_MONEY = "mobile_money", _("Mobile money")
    BANK = "bank", _("Bank or Kondo savings transfer")


class DuesPayment(models.Model):
    """Dues received from a member, with its receipt (gapless per movement and year) and its
    entry: cash/mobile money/bank to 411 for what pays open charges (oldest first), to 419 for
    what is paid in advance. A correction is a reversal (a second DuesPayment with
    `reverses` set and a negative amount, its entry the mirror of the first)."""

    profile = models.ForeignKey(MemberProfile, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("paid on"))
    amount = models.BigIntegerField(_("amount"))
    channel = models.CharField(_("channel"), max_length=14, choices=PaymentChannel.choices)
    receipt_number = models.CharField(_("receipt"), max_length=32)
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT,
                                      related_name="+")
    advance_part = models.BigIntegerField(default=0)  # of `amount`, what went to 419
    external_ref = models.CharField(max_length=64, blank=True, default="")
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    idempotency_key = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["receipt_number"], name="movement_receipt"),
            models.UniqueConstraint(fields=["created_by", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="movement_payment_idem"),
        ]


class DuesAllocation(models.Model):
    """How much of a payment (or, negative, of its reversal) went to which charge."""

    payment = models.ForeignKey(DuesPayment, on_delete=models.PROTECT, related_name="allocations")
    charge = models.ForeignKey(DuesCharge, on_delete=models.PROTECT, related_name="allocations")
    amount = models.BigIntegerField()


class WaiverStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class DuesWaiver(models.Model):
    """A request to forgive part of a member's arrears (illness, no work, a minor...), made by
    an organiser and decided by a movement administrator who is not the requester; approval
    posts 658/411 and spreads the amount over the oldest open charges."""

    profile = models.ForeignKey(MemberProfile, on_delete=models.PROTECT, related_name="waivers")
    amount = models.BigIntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(max_length=10, choices=WaiverStatus.choices,
                              default=WaiverStatus.REQUESTED)
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decision_note = models.CharField(max_length=300, blank=True, default="")
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------


class CaseCategory(models.TextChoices):
    UNPAID_WAGES = "unpaid_wages", _("Unpaid wages")
    DISMISSAL = "dismissal", _("Dismissal without notice")
    VIOLENCE = "violence", _("Violence or abuse")
    CHILD_LABOUR = "child_labour", _("Child labour")
    NO_CONTRACT = "no_contract", _("No contract")
    NO_REST_DAY = "no_rest_day", _("No rest day")
    EXCESSIVE_HOURS = "excessive_hours", _("Excessive hours")
    BELOW_SMIG = "below_smig", _("Pay below the SMIG")
    SEXUAL_HARASSMENT = "sexual_harassment", _("Sexual harassment")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class IntakeChannel(models.TextChoices):
    IN_PERSON = "in_person", _("In person with an organiser")
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS from the member")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    REFERRED = "referred", _("Referred")
    CLOSED = "closed", _("Closed")


class CaseOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    WAGES_RECOVERED = "wages_recovered", _("Wages recovered")
    REFERRED = "referred", _("Referred to another body")
    NO_RESULT = "no_result", _("Closed without result")


class CaseDeadline(models.Model):
    """How fast a category must be handled (openIMIS grievance resolution times): the first
    action within `first_action_days`, the case closed within `resolution_days`. Seeded by
    `jigi movement setup`; an administrator may change them for new cases."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    category = models.CharField(_("category"), max_length=20, choices=CaseCategory.choices)
    first_action_days = models.PositiveSmallIntegerField(_("days to first action"))
    resolution_days = models.PositiveSmallIntegerField(_("days to resolution"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "category"],
                                    name="movement_deadline_unique"),
        ]


class Case(models.Model):
    """A rights violation brought to MTC (CiviCase). Its existence, number, category,
    section, status and deadline are visible to the movement's staff; when `confidential`,
    its details (summary, employer, timeline, documents, the person) only to the case workers
    assigned to it (CaseAssignment)."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    section = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("case number"), max_length=32, unique=True)  # MTC-2026-000123
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey(MemberProfile, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="cases")
    category = models.CharField(_("category"), max_length=20, choices=CaseCategory.choices)
    other_categories = models.JSONField(_("other categories"), default=list, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    urgent_reason = models.CharField(max_length=200, blank=True, default="")
    confidential = models.BooleanField(_("confidential"), default=True)
    intake_channel = models.CharField(_("received by"), max_length=10,
                                      choices=IntakeChannel.choices)
    summary = models.TextField(_("what happened"))
    employer_name = models.CharField(_("employer"), max_length=200, blank=True)
    employer_phone = models.CharField(_("employer's phone"), max_length=16, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=CaseStatus.choices,
                              default=CaseStatus.OPEN)
    opened_on = models.DateField(_("opened on"))
    first_action_due = models.DateField(_("first action due"))
    resolution_due = models.DateField(_("resolution due"))
    first_action_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=CaseOutcome.choices,
                               blank=True, default="")
    wages_recovered = models.BigIntegerField(_("wages recovered"), default=0)
    outcome_note = models.TextField(_("outcome note"), blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case")
        indexes = [
            models.Index(fields=["organisation", "status", "resolution_due"]),
            models.Index(fields=["section", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(wages_recovered__gte=0),
                                   name="movement_case_wages_nonneg"),
        ]

    def __str__(self) -> str:
        return self.number


class CaseAssignment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    lead = models.BooleanField(default=False)
    assigned_at = models.DateTimeField(auto_now_add=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                    related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], condition=Q(ended_at=None),
                                    name="movement_assignment_live"),
        ]


class ActionKind(models.TextChoices):
    INTAKE = "intake", _("Intake")
    INTERVIEW = "interview", _("Interview with the member")
    CALL = "call", _("Phone call")
    MEDIATION = "mediation", _("Mediation with the employer")
    LABOUR_INSPECTION = "labour_inspection", _("Referral to the labour inspection")
    UNION = "union", _("Referral to a union")
    LEGAL_AID = "legal_aid", _("Referral to legal aid")
    HEALTH_CARE = "health_care", _("Health care through a UTM mutual")
    NOTE = "note", _("Note")
    SMS = "sms", _("SMS to the member")
    CLOSURE = "closure", _("Closure")
    REOPENING = "reopening", _("Reopening")


class CaseAction(models.Model):
    """One step on a case's timeline; never edited (a mistake is corrected by a later note)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(_("action"), max_length=20, choices=ActionKind.choices)
    happened_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True, default="")
    amount_recovered = models.BigIntegerField(_("wages recovered"), default=0)
    next_step = models.CharField(_("next step"), max_length=200, blank=True, default="")
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["happened_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_recovered__gte=0),
                                   name="movement_action_amount_nonneg"),
        ]


class CaseDocument(models.Model):
    """A scanned letter, photo or contract; kept in the database (small files, one backup)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.PROTECT, related_name="+")


class AlertKind(models.TextChoices):
    URGENT = "urgent", _("Urgent case")
    FIRST_ACTION_OVERDUE = "first_action_overdue", _("No action yet, deadline passed")
    RESOLUTION_OVERDUE = "resolution_overdue", _("Resolution deadline passed")


class CaseAlert(models.Model):
    """An alert for the movement's case workers and administrators, acknowledged by a person:
    urgent once per case (at intake); overdue once per case, kind and deadline (the daily
    check), so a reopened case, which gets a new resolution deadline, is told of it again."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    # The deadline an overdue alert is about; null for an urgent alert.
    due_on = models.DateField(null=True, blank=True)
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], condition=Q(due_on__isnull=True),
                                    name="movement_alert_once"),
            models.UniqueConstraint(fields=["case", "kind", "due_on"],
                                    condition=Q(due_on__isnull=False),
                                    name="movement_alert_once_per_deadline"),
        ]


class CaseLink(models.Model):
    """A case's link to what Kondo or UTM holds of the person (savings, loans, coverage),
    allowed only by the person's live consent to MTC for that scope."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links")
    consent = models.ForeignKey("people.Consent", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    scope = models.CharField(max_length=16)  # people.ConsentScope
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")


# ---------------------------------------------------------------------------------------------
# Campaigns and petitions
# ---------------------------------------------------------------------------------------------


class PartnerKind(models.TextChoices):
    MUTUAL_UNION = "mutual_union", _("Union of health mutuals")
    UNION = "union", _("Trade union")
    ASSOCIATION = "association", _("Association or NGO")
    PUBLIC = "public", _("Public body")
    OTHER = "other", _("Other")


class Partner(models.Model):
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")  # whose partner list
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=PartnerKind.choices)
    # When the partner is itself on Jigi (UTM).
    jigi_organisation = models.ForeignKey("orgs.Organisation", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"],
                                    name="movement_partner_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    WON = "won", _("Goal reached")
    ENDED = "ended", _("Ended")


class Campaign(models.Model):
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    code = models.CharField(_("code"), max_length=24)
    title = models.CharField(_("title"), max_length=200)
    goal = models.TextField(_("goal"))
    groups = models.JSONField(_("groups concerned"), default=list, blank=True)  # MemberGroup
    partners = models.ManyToManyField(Partner, blank=True, related_name="campaigns")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=CampaignStatus.choices,
                              default=CampaignStatus.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"],
                                    name="movement_campaign_code"),
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due on"))
    reached_on = models.DateField(_("reached on"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]


class CampaignActionKind(models.TextChoices):
    MEETING = "meeting", _("Meeting or talk")
    ADVOCACY = "advocacy", _("Advocacy with authorities")
    MEDIA = "media", _("Radio, press or social media")
    MARCH = "march", _("March or rally")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class CampaignAction(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(_("kind"), max_length=10, choices=CampaignActionKind.choices)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, default="")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    women = models.PositiveIntegerField(_("women taking part"), default=0)
    men = models.PositiveIntegerField(_("men taking part"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["held_on", "pk"]


class CampaignMessage(models.Model):
    """An SMS sent to the campaign's members (its groups, optionally one section) who agreed
    to SMS; `key` makes a second click of the same form send nothing twice."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="messages")
    text = models.CharField(_("message"), max_length=300)
    section = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    key = models.CharField(max_length=64, unique=True)
    queued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # no phone, or no SMS consent
    sent_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        ordering = ["-sent_at", "-pk"]


class Petition(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="petitions")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    target = models.PositiveIntegerField(_("signatures sought"), default=0)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"), null=True, blank=True)

    def __str__(self) -> str:
        return self.title


class SignatureStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the SMS code")
    CONFIRMED = "confirmed", _("Confirmed")


class Signature(models.Model):
    """One phone, one signature per petition. The signer confirms with a six-digit code sent by
    SMS (channels.OutboundMessage); only a hash of the code is kept, with a try counter."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="signatures")
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=16)  # E.164
    sex = models.CharField(_("sex"), max_length=1, choices=[("F", _("Female")), ("M", _("Male"))])
    region = models.CharField(_("region"), max_length=64, blank=True)
    commune = models.CharField(_("commune"), max_length=100, blank=True)
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    status = models.CharField(max_length=10, choices=SignatureStatus.choices,
                              default=SignatureStatus.PENDING)
    code_hash = models.CharField(max_length=64)
    code_sent_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "phone"], name="movement_signature_once"),
        ]
        indexes = [models.Index(fields=["petition", "status"])]


# ---------------------------------------------------------------------------------------------
# Decent-work indicators over time
# ---------------------------------------------------------------------------------------------


class IndicatorSnapshot(models.Model):
    """The decent-work indicators of one month, kept so they can be followed over time (the
    records themselves hold only the present). `data` is movement.decent_work's result."""

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    month = models.DateField()  # first day of the month
    data = models.JSONField()
    smig = models.BigIntegerField()  # the SMIG in force that month
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "month"],
                                    name="movement_snapshot_month"),
        ]


class LegalSetting(models.Model):
    """A dated legal figure (SMIG per month, domestic workers' maximum daily hours and weekly
    rest in half-days): the value in force on a day is the latest `valid_from` not after it."""

    name = models.CharField(max_length=32)  # "smig_month", "domestic_max_hours", ...
    value = models.BigIntegerField()
    valid_from = models.DateField()
    source = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "valid_from"], name="movement_setting_date"),
        ]
