"""What each role sees first on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from jigi.orgs.models import Organisation, Role, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.models import Membership, MembershipStatus


@dataclass
class Dashboard:
    roles: list[str]
    organisations: list[Organisation]
    units: list[Unit]
    unit_count: int
    active_members: int
    women_members: int
    tiles: list[tuple[str, str, str]] = field(default_factory=list)  # (icon, label, url name)


def dashboard_for_user(user) -> Dashboard:
    scope = user_scope(user)
    units = scope.units().select_related("organisation").order_by("organisation__code", "code")
    members = Membership.objects.filter(
        scope.unit_q("unit__"), status=MembershipStatus.ACTIVE
    ).aggregate(n=Count("id"), women=Count("id", filter=Q(person__sex="F")))
    orgs = list(Organisation.objects.filter(pk__in=scope.organisation_ids)) if not scope.is_superuser \
        else list(Organisation.objects.all())
    return Dashboard(
        roles=[str(Role(r).label) for r in sorted(scope.roles)]
        or ([str(_("System administrator"))] if scope.is_superuser else []),
        organisations=orgs,
        units=list(units[:12]),
        unit_count=units.count(),
        active_members=members["n"] or 0,
        women_members=members["women"] or 0,
        tiles=_tiles(scope),
    )


# What each role does first: (icon, label, url name), in the order shown.
ROLE_TILES = {
    "teller": [("🗄️", _("My cash drawer"), "web:savings_drawer"),
               ("💰", _("Savings counter"), "web:savings_counter"),
               ("💵", _("Loans to disburse"), "web:credit_queue"),
               ("💳", _("Loans"), "web:credit_loans"),
               ("🔎", _("Find a person"), "web:person_search"),
               ("➕", _("Register a person"), "web:person_register")],
    "caisse_manager": [("⏳", _("Approvals and counter"), "web:savings_counter"),
                       ("🏛️", _("Loan approvals"), "web:credit_queue"),
                       ("👥", _("Groups"), "web:credit_groups"),
                       ("📒", _("Ledger"), "web:ledger_books"),
                       ("🕵️", _("Audit trail"), "web:audit")],
    "loan_officer": [("📝", _("New loan application"), "web:credit_apply_start"),
                     ("💳", _("Loans"), "web:credit_loans"),
                     ("👥", _("Groups"), "web:credit_groups"),
                     ("🔎", _("Find a person"), "web:person_search"),
                     ("➕", _("Register a person"), "web:person_register")],
    "network_auditor": [("📒", _("Ledger"), "web:ledger_books"),
                        ("🕵️", _("Audit trail"), "web:audit"),
                        ("🔎", _("Find a person"), "web:person_search")],
    "network_admin": [("⚙️", _("Savings products"), "web:savings_products"),
                      ("⚙️", _("Loan products"), "web:credit_products"),
                      ("📒", _("Ledger"), "web:ledger_books")],
    "mutual_manager": [("🏥", _("Health mutuals"), "web:health_home"),
                       ("⚖️", _("Claims to review and approve"), "web:health_queue"),
                       ("💸", _("Pay the providers"), "web:health_batches"),
                       ("🪪", _("Check a card"), "web:health_eligibility")],
    "claims_officer": [("⚖️", _("Claims to review and approve"), "web:health_queue"),
                       ("📝", _("Enter a care sheet"), "web:health_claim_new"),
                       ("🪪", _("Check a card"), "web:health_eligibility")],
    "clinic_staff": [("🪪", _("Check a card"), "web:health_eligibility"),
                     ("📝", _("Enter a care sheet"), "web:health_claim_new"),
                     ("📄", _("Claims"), "web:health_claims")],
    "union_admin": [("🏥", _("Health mutuals"), "web:health_home"),
                    ("🛡️", _("Reinsurance"), "web:health_reinsurance"),
                    ("⚖️", _("Claims to review and approve"), "web:health_queue")],
}
DEFAULT_TILES = [("🔎", _("Find a person"), "web:person_search"),
                 ("➕", _("Register a person"), "web:person_register"),
                 ("📒", _("Ledger"), "web:ledger_books")]


def _tiles(scope) -> list[tuple[str, str, str]]:
    seen: dict[str, tuple[str, str, str]] = {}
    for role in sorted(scope.roles):
        for tile in ROLE_TILES.get(role, []):
            seen.setdefault(tile[2], tile)
    return list(seen.values()) or DEFAULT_TILES
