from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    SFD = "sfd", _("Savings and credit cooperative")
    MUTUAL_UNION = "mutual_union", _("Union of health mutuals")
    MOVEMENT = "movement", _("Workers' movement")


class Organisation(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)  # KONDO, UTM, MTC
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=OrgKind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    NETWORK = "network", _("Network")
    REGION = "region", _("Region")
    CAISSE = "caisse", _("Caisse")
    UNION = "union", _("Union")
    MUTUAL = "mutual", _("Mutual")
    MOVEMENT = "movement", _("Movement")
    SECTION = "section", _("Section")


class MemberGroup(models.TextChoices):
    TEACHERS = "teachers", _("Teachers without contract")
    DOMESTIC = "domestic", _("Domestic workers")
    ARTISANS = "artisans", _("Artisans")
    YOUTH = "youth", _("Young people")


class Unit(models.Model):
    """A node of an organisation's tree: network > region > caisse, union > mutual, movement > section.

    `path` is the materialised chain of ancestor ids ("/1/4/17/") so that "this unit and all
    below it" is one indexed prefix query, whatever the depth.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(_("region"), max_length=64, blank=True)
    cercle = models.CharField(_("cercle"), max_length=64, blank=True)
    commune = models.CharField(_("commune"), max_length=64, blank=True)
    urban = models.BooleanField(_("urban"), default=False)
    member_group = models.CharField(
        _("member group"), max_length=16, choices=MemberGroup.choices, blank=True
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organisation", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="unit_unique_code")
        ]
        verbose_name = _("unit")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Role(models.TextChoices):
    # Kondo Jigima
    TELLER = "teller", _("Teller")
    LOAN_OFFICER = "loan_officer", _("Loan officer")
    CAISSE_MANAGER = "caisse_manager", _("Caisse manager")
    NETWORK_AUDITOR = "network_auditor", _("Network auditor")
    NETWORK_ADMIN = "network_admin", _("Network administrator")
    # UTM
    MUTUAL_MANAGER = "mutual_manager", _("Mutual manager")
    CLAIMS_OFFICER = "claims_officer", _("Claims officer")
    CLINIC_STAFF = "clinic_staff", _("Clinic staff")
    UNION_ADMIN = "union_admin", _("Union administrator")
    # MTC
    ORGANISER = "organiser", _("Organiser")
    CASE_WORKER = "case_worker", _("Case worker")
    MOVEMENT_ADMIN = "movement_admin", _("Movement administrator")


# What a role may do. Scoping by organisation and unit is separate (see orgs.scoping).
READ_ONLY_ROLES = {Role.NETWORK_AUDITOR}
HEALTH_ROLES = {Role.MUTUAL_MANAGER, Role.CLAIMS_OFFICER, Role.CLINIC_STAFF, Role.UNION_ADMIN}
MOVEMENT_ROLES = {Role.ORGANISER, Role.CASE_WORKER, Role.MOVEMENT_ADMIN}
ROLE_ORG_KIND = {
    Role.TELLER: OrgKind.SFD,
    Role.LOAN_OFFICER: OrgKind.SFD,
    Role.CAISSE_MANAGER: OrgKind.SFD,
    Role.NETWORK_AUDITOR: OrgKind.SFD,
    Role.NETWORK_ADMIN: OrgKind.SFD,
    Role.MUTUAL_MANAGER: OrgKind.MUTUAL_UNION,
    Role.CLAIMS_OFFICER: OrgKind.MUTUAL_UNION,
    Role.CLINIC_STAFF: OrgKind.MUTUAL_UNION,
    Role.UNION_ADMIN: OrgKind.MUTUAL_UNION,
    Role.ORGANISER: OrgKind.MOVEMENT,
    Role.CASE_WORKER: OrgKind.MOVEMENT,
    Role.MOVEMENT_ADMIN: OrgKind.MOVEMENT,
}


class StaffRole(models.Model):
    """A staff user's role in one organisation, optionally limited to one unit and its subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("staff role")

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.unit or self.organisation}"


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 of the key is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
