"""UTM's general reinsurance service between mutuals: treaties and settlement statements.

The union administrator signs a treaty with each mutual (terms validated by
health.reinsurance, the pure module that computes everything). After each calendar quarter,
and after the year, a settlement statement is computed from the mutual's real contributions
and approved claims (selectors_claims.reinsurance_inputs) and posted on both sides:

    the mutual's book   premiums ceded   602 D / 451 C     recoveries due   452 D / 703 C
    the pool's book     premiums         453 D / 706 C     recoveries       606 D / 453 C
    (the union's head-office book; 453 carries the mutual's code as sub-ledger)

A statement is computed once per (treaty, year, quarter): asking again returns it. The annual
statement (quarter 0) carries the stop-loss and posts only what the quarterly statements did
not: the year's premiums and recoveries minus what was posted for the quarters, so the
quarters plus the year always equal the year's figures, even if a late correction changed a
quarter's data. Once the year is settled, no quarter of it can be.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import Conflict, Forbidden, NotFound
from jigi.health import reinsurance as rs
from jigi.health.models import ReinsuranceStatement, ReinsuranceTreaty
from jigi.health.selectors_claims import (
    HEALTH_ROLE_VALUES,
    UNION_ROLES,
    reinsurance_inputs,
    treaty_terms_of,
)
from jigi.health.services.claims import invalid
from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Unit, UnitKind
from jigi.orgs.scoping import user_scope

# The mutual's side and the pool's side (ledger/charts.py MUTUAL).
PREMIUMS_CEDED, OWED_TO_UNION, RECOVERIES_DUE, RECOVERIES_INCOME = "602", "451", "452", "703"
POOL_MUTUALS, POOL_PREMIUMS, POOL_CLAIMS = "453", "706", "606"


def _require_union_admin(user, mutual: Unit) -> None:
    scope = user_scope(user)
    if mutual.kind != UnitKind.MUTUAL or not scope.covers_unit(mutual,
                                                               roles=HEALTH_ROLE_VALUES):
        raise NotFound("mutual_not_found", _("Mutual not found."))
    if not scope.covers_unit(mutual, write=True, roles=UNION_ROLES):
        raise Forbidden("forbidden",
                        _("Only the union administrator manages reinsurance treaties."))


def _terms_error(exc: rs.ReinsuranceError) -> Exception:
    return invalid({f"terms.{exc.field}": exc.message})


def treaty_create(*, acting_user, mutual: Unit, reference: Any, valid_from: Any,
                  valid_until: Any, terms: Any) -> ReinsuranceTreaty:
    """Sign a treaty between the union's pool and a mutual. The terms are those of
    health.reinsurance.Treaty (cession, excess of loss, stop-loss), whole numbers; they are
    stored normalised. Two active treaties of one mutual may not overlap (409)."""
    _require_union_admin(acting_user, mutual)
    errors: dict[str, Any] = {}
    ref = reference.strip() if isinstance(reference, str) else ""
    if not ref or len(ref) > 32 or not ref.isprintable():
        errors["reference"] = _("Enter the treaty's reference (up to 32 characters).")
    for name, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if not isinstance(value, date):
            errors[name] = _("Enter a valid date (YYYY-MM-DD).")
    if not errors and valid_until < valid_from:
        errors["valid_until"] = _("The treaty ends before it starts.")
    if not isinstance(terms, dict):
        errors["terms"] = _("Give the treaty's terms.")
    if errors:
        raise invalid(errors)
    try:
        treaty = rs.treaty_from_terms(terms, valid_from=valid_from, valid_to=valid_until)
    except rs.ReinsuranceError as exc:
        raise _terms_error(exc) from None
    with transaction.atomic():
        # One treaty at a time per mutual: the mutual's row serialises concurrent signings.
        list(Unit.objects.select_for_update(no_key=True).filter(pk=mutual.pk).values_list("pk"))
        if ReinsuranceTreaty.objects.filter(mutual=mutual, active=True,
                                            valid_from__lte=valid_until,
                                            valid_until__gte=valid_from).exists():
            raise Conflict("treaty_overlap",
                           _("This mutual already has a treaty for part of these dates."),
                           {"valid_from": _("Overlaps another treaty.")})
        row = ReinsuranceTreaty.objects.create(
            mutual=mutual, reference=ref, valid_from=valid_from, valid_until=valid_until,
            terms=rs.treaty_terms(treaty), created_by=acting_user)
        audit_log(actor=acting_user, event_type="health.treaty_created", subject=row,
                  unit=mutual, after={"reference": ref, "valid_from": valid_from.isoformat(),
                                      "valid_until": valid_until.isoformat(),
                                      "terms": row.terms})
    return row


def treaty_end(*, acting_user, treaty: ReinsuranceTreaty, on: Any) -> ReinsuranceTreaty:
    """End a treaty early (the day given is its last): its settled statements stay."""
    _require_union_admin(acting_user, treaty.mutual)
    if not isinstance(on, date) or not treaty.valid_from <= on <= treaty.valid_until:
        raise invalid({"on": _("A date within the treaty's validity.")})
    with transaction.atomic():
        locked = ReinsuranceTreaty.objects.select_for_update().get(pk=treaty.pk)
        before = locked.valid_until
        locked.valid_until = on
        locked.save(update_fields=["valid_until"])
        audit_log(actor=acting_user, event_type="health.treaty_ended", subject=locked,
                  unit=locked.mutual, before={"valid_until": before.isoformat()},
                  after={"valid_until": on.isoformat()})
    return locked


def _union_of(mutual: Unit) -> Unit:
    parent = mutual.parent
    if parent is not None and parent.kind == UnitKind.UNION:
        return parent
    union = Unit.objects.filter(organisation_id=mutual.organisation_id,
                                kind=UnitKind.UNION).order_by("pk").first()
    if union is None:
        raise Conflict("no_union", _("The union has no head-office unit."))
    return union


def _book(unit: Unit) -> Book:
    book = Book.objects.select_related("organisation", "unit").filter(unit=unit).first()
    if book is None:
        raise Conflict("no_book", _("%(unit)s has no book of accounts.") % {"unit": unit.name})
    return book


def _pair(debit: str, credit: str, amount: int, subledger: str) -> list[LineSpec]:
    """Two lines moving `amount`; a negative amount (a year that corrects its quarters down)
    swaps the sides rather than posting a negative line."""
    if amount == 0:
        return []
    if amount < 0:
        debit, credit, amount = credit, debit, -amount
    return [LineSpec(debit, "D", amount, subledger), LineSpec(credit, "C", amount, subledger)]


def _quarter_end(year: int, quarter: int) -> date:
    if quarter == 0 or quarter == 4:
        return date(year, 12, 31)
    month = 3 * quarter + 1
    return date.fromordinal(date(year, month, 1).toordinal() - 1)


def statement_settle(*, acting_user, treaty: ReinsuranceTreaty, year: Any, quarter: Any
                     ) -> ReinsuranceStatement:
    """Compute, store and post a treaty's settlement statement for a quarter (1-4) or the
    year (0), once the period has ended. Idempotent per (treaty, year, quarter)."""
    mutual = treaty.mutual
    _require_union_admin(acting_user, mutual)
    errors: dict[str, Any] = {}
    if type(year) is not int or not 1900 <= year <= 2999:
        errors["year"] = _("Enter a year.")
    if type(quarter) is not int or not 0 <= quarter <= 4:
        errors["quarter"] = _("A quarter from 1 to 4, or 0 for the year.")
    if errors:
        raise invalid(errors)
    end = _quarter_end(year, quarter)
    start = date(year, 1, 1) if quarter == 0 else date(year, 3 * quarter - 2, 1)
    if end >= timezone.localdate():
        raise Conflict("period_not_ended",
                       _("A statement is drawn up once its period has ended."),
                       {"quarter": _("This period has not ended yet.")})
    if end < treaty.valid_from or start > treaty.valid_until:
        raise invalid({"year": _("The treaty was not in force in this period.")})
    existing = ReinsuranceStatement.objects.filter(treaty=treaty, year=year,
                                                   quarter=quarter).first()
    if existing is not None:
        return existing
    try:
        terms = treaty_terms_of(treaty)
    except rs.ReinsuranceError as exc:
        raise _terms_error(exc) from None
    try:
        with transaction.atomic():
            # Statements of one treaty are drawn up one at a time (the annual one reads the
            # quarters').
            list(ReinsuranceTreaty.objects.select_for_update().filter(pk=treaty.pk)
                 .values_list("pk"))
            return _settle(acting_user, treaty, terms, year, quarter)
    except IntegrityError:
        # Drawn up meanwhile by another request: it is the answer.
        existing = ReinsuranceStatement.objects.filter(treaty=treaty, year=year,
                                                       quarter=quarter).first()
        if existing is None:
            raise
        return existing


def _settle(user, treaty: ReinsuranceTreaty, terms: rs.Treaty, year: int, quarter: int
            ) -> ReinsuranceStatement:
    mutual = treaty.mutual
    quarters = list(ReinsuranceStatement.objects.filter(treaty=treaty, year=year))
    if quarter and any(s.quarter == 0 for s in quarters):
        raise Conflict("year_settled",
                       _("The year is settled already; its quarters can no longer be."))
    data = reinsurance_inputs(mutual, year)
    try:
        settlement = rs.settle(terms, year, contributions=data.contributions,
                               claims=data.claims, exposures=data.exposures)
    except rs.ReinsuranceError as exc:
        raise _terms_error(exc) from None
    st = settlement.annual if quarter == 0 else settlement.quarters[quarter - 1]
    premiums, recoveries = st.premiums, st.recoveries
    if quarter == 0:
        premiums -= sum(s.figures.get("posted_premiums", 0) for s in quarters)
        recoveries -= sum(s.figures.get("posted_recoveries", 0) for s in quarters)
    on = timezone.localdate()
    period = f"T{quarter} {year}" if quarter else f"{year}"
    code = mutual.code
    mutual_lines = (_pair(PREMIUMS_CEDED, OWED_TO_UNION, premiums, treaty.reference)
                    + _pair(RECOVERIES_DUE, RECOVERIES_INCOME, recoveries, treaty.reference))
    pool_lines = (_pair(POOL_MUTUALS, POOL_PREMIUMS, premiums, code)
                  + _pair(POOL_CLAIMS, POOL_MUTUALS, recoveries, code))
    source = f"{treaty.reference}/{year}/{quarter}"
    mutual_entry = pool_entry = None
    if mutual_lines:
        mutual_entry = entry_post(
            book=_book(mutual), lines=mutual_lines, value_date=on, acting_user=user,
            description=f"Réassurance UTM {treaty.reference} {period}",
            source_type="health.reinsurance", source_id=source, audit=False)
        pool_entry = entry_post(
            book=_book(_union_of(mutual)), lines=pool_lines, value_date=on, acting_user=user,
            description=f"Réassurance {mutual.code} {treaty.reference} {period}",
            source_type="health.reinsurance", source_id=source, audit=False)
    in_period = [r for r in settlement.recoveries
                 if quarter == 0 or (r.paid_on.month - 1) // 3 + 1 == quarter]
    figures = st.figures() | {
        "posted_premiums": premiums, "posted_recoveries": recoveries,
        "recovered_claims": [{"claim_id": r.claim_id, "event_id": r.event_id,
                              "approved_on": r.paid_on.isoformat(), "amount": r.amount,
                              "recovery": r.recovery} for r in in_period],
    }
    statement = ReinsuranceStatement.objects.create(
        treaty=treaty, year=year, quarter=quarter, figures=figures, balance=st.balance,
        mutual_entry=mutual_entry, pool_entry=pool_entry, created_by=user)
    audit_log(actor=user, event_type="health.reinsurance_statement", subject=statement,
              unit=mutual, after={"treaty": treaty.reference, "year": year,
                                  "quarter": quarter, "premiums": st.premiums,
                                  "recoveries": st.recoveries, "balance": st.balance,
                                  "posted_premiums": premiums,
                                  "posted_recoveries": recoveries})
    return statement
