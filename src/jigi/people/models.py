from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class Literacy(models.TextChoices):
    NONE = "none", _("Cannot read")
    BASIC = "basic", _("Reads a little")
    LITERATE_LOCAL = "local", _("Reads a national language")
    LITERATE_FRENCH = "french", _("Reads French")


class Person(models.Model):
    """One human being, whichever organisations they belong to.

    Identity lives here once; what each organisation knows of the person lives in that
    organisation's own tables and crosses over only with a recorded consent.
    """

    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("family name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birth_year_estimated = models.BooleanField(_("year of birth estimated"), default=False)
    phone = models.CharField(_("phone"), max_length=16, blank=True, db_index=True)  # E.164 +223XXXXXXXX
    nina = models.CharField(_("NINA"), max_length=20, null=True, blank=True, unique=True)
    village = models.CharField(_("village or quarter"), max_length=100, blank=True)
    commune = models.CharField(_("commune"), max_length=100, blank=True)
    cercle = models.CharField(_("cercle"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    literacy = models.CharField(
        _("literacy"), max_length=8, choices=Literacy.choices, default=Literacy.NONE
    )
    language = models.CharField(_("preferred language"), max_length=8, default="bm")
    # Accent-free, lower-case "first last" for search; and a phonetic key for duplicate checks.
    search_name = models.CharField(max_length=210, db_index=True, editable=False, default="")
    name_key = models.CharField(max_length=64, editable=False, default="")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        verbose_name = _("person")
        indexes = [
            # Duplicate check at registration: same family-name key, birth year within +/-2:
            # one index range, whatever the size of the registry.
            models.Index(fields=["name_key", "birth_year"], name="person_namekey_year_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Household(models.Model):
    name = models.CharField(_("name"), max_length=200)
    village = models.CharField(_("village or quarter"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")

    def __str__(self) -> str:
        return self.name


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    OTHER = "other", _("Other dependant")


class HouseholdMember(models.Model):
    """A person's place in a household. Several spouses are allowed: polygamy is legal in Mali."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="household_links")
    relation = models.CharField(_("relation"), max_length=8, choices=Relation.choices)
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "person"], name="household_member_unique"
            ),
        ]


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PENDING = "pending", _("Pending")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")


class Membership(models.Model):
    """A person's membership of one organisation, held at one unit (caisse, mutual, section)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="memberships")
    number = models.CharField(_("member number"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="membership_unique_number"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status"]),
            # Search by member number across organisations (the unique constraint leads with
            # the organisation, so it cannot serve "which membership has number X").
            models.Index(fields=["number"], name="membership_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.person}"


class ConsentScope(models.TextChoices):
    IDENTITY = "identity", _("Identity and contact details")
    SAVINGS = "savings", _("Savings and shares")
    CREDIT = "credit", _("Loans")
    HEALTH = "health", _("Health coverage and claims")
    MOVEMENT = "movement", _("Movement membership and cases")


class Consent(models.Model):
    """The person allows `granted_to` to see one category of what another organisation holds."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    granted_to = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("granted to")
    )
    scope = models.CharField(_("what"), max_length=16, choices=ConsentScope.choices)
    purpose = models.CharField(_("purpose"), max_length=200)
    given_at = models.DateTimeField(_("given at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        indexes = [models.Index(fields=["person", "granted_to", "scope"])]


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To check")
    CONFIRMED = "confirmed", _("Confirmed duplicate")
    DISMISSED = "dismissed", _("Different persons")
    MERGED = "merged", _("Merged")


class DuplicateCandidate(models.Model):
    """A pair flagged at registration as possibly one person. Never merged without a human."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    other = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(default=list)  # ["phone", "nina", "name_birth_place"]
    score = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "other"], name="duplicate_pair_unique"),
        ]
        indexes = [models.Index(fields=["status", "person"]),
                   models.Index(fields=["other", "status"])]
