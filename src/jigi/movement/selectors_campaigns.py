"""Reads of MTC campaigns, partners and petitions, scoped to the user.

Every MTC staff member (organiser, case worker, administrator) reads the movement's campaigns;
organisers and administrators write them (services/campaigns.py). Anyone else gets a 404.
The public signing page reads a petition through `get_public_petition`, which shows only the
petition itself and its confirmed total, never a signer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.cleaning import today
from jigi.core.errors import Forbidden, NotFound
from jigi.core.lookup import one_in
from jigi.movement.models import (
    Campaign,
    CampaignAction,
    CampaignStatus,
    Milestone,
    Partner,
    Petition,
    Signature,
    SignatureStatus,
)
from jigi.movement.services._common import ORGANISER_ROLES, STAFF_ROLES
from jigi.orgs.scoping import user_scope


def staff_organisation_ids(user, roles: set[str] = STAFF_ROLES) -> set[int] | None:
    """The movements where the user holds one of `roles` (None: all, for a superuser)."""
    scope = user_scope(user)
    if scope.is_superuser:
        return None
    return {g.organisation_id for g in scope.grants if g.role in roles}


def can_write(user, organisation_id: int) -> bool:
    ids = staff_organisation_ids(user, ORGANISER_ROLES)
    return ids is None or organisation_id in ids


def require_reader(user, organisation_id: int) -> None:
    ids = staff_organisation_ids(user)
    if ids is not None and organisation_id not in ids:
        raise NotFound("not_found", _("Not found."))


def require_writer(user, organisation_id: int) -> None:
    """404 outside the movement, 403 for MTC staff who read but may not write (case workers)."""
    require_reader(user, organisation_id)
    if not can_write(user, organisation_id):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))


def _org_filter(user, prefix: str = "") -> Q:
    ids = staff_organisation_ids(user)
    return Q() if ids is None else Q(**{f"{prefix}organisation_id__in": ids})


def partners_for_user(user) -> QuerySet[Partner]:
    return Partner.objects.filter(_org_filter(user)).order_by("name", "pk")


def campaigns_for_user(user) -> QuerySet[Campaign]:
    return Campaign.objects.filter(_org_filter(user)).order_by("-starts_on", "-pk")


def get_campaign_for_user(user, pk: Any) -> Campaign:
    return one_in(campaigns_for_user(user), pk, code="campaign_not_found",
                  message=_("Campaign not found."))


def get_partner_for_user(user, pk: Any) -> Partner:
    return one_in(partners_for_user(user), pk, code="partner_not_found",
                  message=_("Partner not found."))


def get_milestone_for_user(user, pk: Any) -> Milestone:
    return one_in(Milestone.objects.filter(_org_filter(user, "campaign__"))
                  .select_related("campaign"), pk, code="milestone_not_found",
                  message=_("Milestone not found."))


def petitions_for_user(user) -> QuerySet[Petition]:
    return (Petition.objects.filter(_org_filter(user, "campaign__")).select_related("campaign")
            .order_by("-opens_on", "-pk"))


def get_petition_for_user(user, pk: Any) -> Petition:
    return one_in(petitions_for_user(user), pk, code="petition_not_found",
                  message=_("Petition not found."))


def get_public_petition(pk: Any) -> Petition:
    """A petition that has opened, for the public page (no login). One not yet open is as
    unknown as one that does not exist."""
    return one_in(Petition.objects.select_related("campaign").filter(opens_on__lte=today()),
                  pk, code="petition_not_found", message=_("Petition not found."))


def petition_is_open(petition: Petition, on: date | None = None) -> bool:
    on = on or today()
    return (petition.opens_on <= on and (petition.closes_on is None or on <= petition.closes_on)
            and petition.campaign.status != CampaignStatus.ENDED)


def campaign_detail(campaign: Campaign) -> dict[str, Any]:
    """What the campaign page shows: partners, milestones, actions (with their totals), and
    each petition with its counts."""
    actions = list(CampaignAction.objects.filter(campaign=campaign).select_related("partner"))
    petitions = list(campaign.petitions.order_by("opens_on", "pk"))
    return {
        "partners": list(campaign.partners.order_by("name")),
        "milestones": list(campaign.milestones.all()),
        "actions": actions,
        "women": sum(a.women for a in actions),
        "men": sum(a.men for a in actions),
        "petitions": [(p, petition_counts(p)) for p in petitions],
    }


@dataclass(frozen=True)
class PetitionCounts:
    """Confirmed signatures only (a pending one has not proved its phone), except `pending`."""

    confirmed: int
    pending: int
    target: int
    progress_pct: int | None  # of the target, capped at 100; None without a target
    women: int
    men: int
    by_region: list[tuple[str, int]]
    by_commune: list[tuple[str, str, int]]  # region, commune, count
    by_day: list[tuple[date, int]]


def petition_counts(petition: Petition) -> PetitionCounts:
    sigs = Signature.objects.filter(petition=petition)
    confirmed = sigs.filter(status=SignatureStatus.CONFIRMED)
    by_status = dict(sigs.values_list("status").annotate(n=Count("pk")).order_by())
    by_sex = dict(confirmed.values_list("sex").annotate(n=Count("pk")).order_by())
    by_region = [(r or "", n) for r, n in confirmed.values_list("region").annotate(
        n=Count("pk")).order_by("-n", "region")]
    by_commune = [(r or "", c or "", n) for r, c, n in confirmed.values_list(
        "region", "commune").annotate(n=Count("pk")).order_by("region", "-n", "commune")]
    by_day = list(confirmed.annotate(day=TruncDate("confirmed_at")).values_list("day")
                  .annotate(n=Count("pk")).order_by("day"))
    n = by_status.get(SignatureStatus.CONFIRMED, 0)
    target = petition.target
    return PetitionCounts(
        confirmed=n, pending=by_status.get(SignatureStatus.PENDING, 0), target=target,
        progress_pct=min(100, n * 100 // target) if target else None,
        women=by_sex.get("F", 0), men=by_sex.get("M", 0),
        by_region=by_region, by_commune=by_commune, by_day=by_day)


def confirmed_total(petition: Petition) -> int:
    return Signature.objects.filter(petition=petition, status=SignatureStatus.CONFIRMED).count()


def pending_signatures(petition: Petition, limit: int = 200) -> list[Signature]:
    """For the organiser collecting at a meeting: who still has to type her code. Only the
    signatures staff took: someone signing on the public page was promised her phone is
    never shown, and she confirms there herself."""
    return list(Signature.objects.filter(petition=petition, status=SignatureStatus.PENDING,
                                         collected_by__isnull=False)
                .order_by("-code_sent_at", "-pk")[:limit])


def _cell(value: str) -> str:
    """A spreadsheet must not run a signer's name as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def petition_csv(petition: Petition) -> str:
    """The confirmed signatures for the partners: name, sex, region, commune, date. No phone
    number ever leaves Jigi this way."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "sex", "region", "commune", "confirmed_on"])
    rows = (Signature.objects.filter(petition=petition, status=SignatureStatus.CONFIRMED)
            .order_by("confirmed_at", "pk")
            .values_list("name", "sex", "region", "commune", "confirmed_at"))
    for name, sex, region, commune, confirmed_at in rows.iterator(chunk_size=2000):
        writer.writerow([_cell(name), sex, _cell(region), _cell(commune),
                         timezone.localtime(confirmed_at).date().isoformat()
                         if confirmed_at else ""])
    return out.getvalue()
