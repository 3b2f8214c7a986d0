"""Reads of the UTM coverage side: mutuals, packages, coverages and beneficiaries, the
contribution schedule and payments, standing orders, agreements, providers, conventions and
tariffs, and the eligibility check at the point of care.

Every `get_<thing>_for_user` returns 404 for what the user may not see. Health data (members,
coverages, contributions) is seen by the mutual's staff (manager, claims officers) and the
union administrator; clinic staff only check eligibility (coverage status, never the payments
or the claims history); a Kondo teller or an MTC organiser sees none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jigi.core import prepared
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.lookup import id_or_none, one_in
from jigi.health import eligibility as el
from jigi.health.cards import CardNumberError, normalise_card
from jigi.health.models import (
    Beneficiary,
    BenefitPackage,
    BenefitRule,
    BenefitUsage,
    Contribution,
    ContributionDue,
    Convention,
    Coverage,
    CoverageStatus,
    GroupAgreement,
    MutualProfile,
    Provider,
    ServiceGroup,
    StandingOrder,
    SuspensionPeriod,
    TariffItem,
)
from jigi.health.services._common import (
    CLINIC_ROLES,
    MUTUAL_STAFF_ROLES,
    today,
)
from jigi.orgs.models import Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import Person
from jigi.people.names import fold
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.selectors import age_on

HEALTH_ROLES = MUTUAL_STAFF_ROLES | CLINIC_ROLES


# --- mutuals and packages ---------------------------------------------------------------------


def mutuals_visible(user) -> QuerySet[Unit]:
    """The mutuals whose members and contributions the user sees, with their profile."""
    scope = user_scope(user)
    return (Unit.objects.filter(scope.unit_q(roles=MUTUAL_STAFF_ROLES), kind=UnitKind.MUTUAL)
            .select_related("organisation", "mutual_profile").order_by("code"))


def get_mutual_visible(user, pk: Any) -> Unit:
    return one_in(mutuals_visible(user), pk, code="mutual_not_found",
                  message=_("Mutual not found."))


def profile_of(mutual: Unit) -> MutualProfile | None:
    return MutualProfile.objects.filter(unit=mutual).first()


def packages_visible(user) -> QuerySet[BenefitPackage]:
    """Union-wide packages for the union's health staff, and the own packages of the mutuals
    the user works for."""
    scope = user_scope(user)
    if scope.is_superuser:
        qs = BenefitPackage.objects.all()
    else:
        orgs = {g.organisation_id for g in scope.grants if g.role in HEALTH_ROLES}
        qs = BenefitPackage.objects.filter(
            Q(mutual__isnull=True, organisation_id__in=orgs)
            | Q(mutual__in=Unit.objects.filter(scope.unit_q(roles=HEALTH_ROLES))))
    return qs.select_related("mutual").prefetch_related("rules").order_by("code", "pk")


def get_package_for_user(user, pk: Any) -> BenefitPackage:
    return one_in(packages_visible(user), pk, code="package_not_found",
                  message=_("Package not found."))


def packages_offered(mutual: Unit, on: date | None = None) -> QuerySet[BenefitPackage]:
    """What a mutual can enrol families under on `on`: the union's packages and its own."""
    on = on or today()
    return (BenefitPackage.objects.filter(
        Q(mutual__isnull=True) | Q(mutual=mutual), organisation_id=mutual.organisation_id,
        active=True, valid_from__lte=on).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)).prefetch_related("rules")
        .order_by("code"))


# --- coverages --------------------------------------------------------------------------------


def coverages_visible(user) -> QuerySet[Coverage]:
    scope = user_scope(user)
    return Coverage.objects.filter(scope.unit_q("mutual__", roles=MUTUAL_STAFF_ROLES))


def coverage_list(user, *, mutual: Unit | None = None, status: str = "", q: str = ""
                  ) -> QuerySet[Coverage]:
    """Coverages the user sees, newest first; `q` matches a policy number, a card number, or
    the start of the member's name."""
    qs = coverages_visible(user).select_related("member", "package", "mutual")
    if mutual is not None:
        qs = qs.filter(mutual=mutual)
    if status:
        qs = qs.filter(status=status)
    q = (q or "").strip()
    if q:
        try:
            card = normalise_card(q)
        except CardNumberError:
            card = None
        match = Q(number__iexact=q) | Q(member__search_name__startswith=fold(q))
        if card:
            match |= Q(beneficiaries__card_number=card)
        qs = qs.filter(match).distinct()
    return qs.order_by("-pk")


def get_coverage_for_user(user, pk: Any) -> Coverage:
    return one_in(coverages_visible(user).select_related("member", "package", "mutual",
                                                         "agreement", "household"),
                  pk, code="coverage_not_found", message=_("Coverage not found."))


def beneficiaries_of(coverage: Coverage, *, current_only: bool = False
                     ) -> QuerySet[Beneficiary]:
    qs = Beneficiary.objects.filter(coverage=coverage).select_related("person")
    if current_only:
        qs = qs.filter(until__isnull=True)
    return qs.order_by("pk")


def get_beneficiary_for_user(user, pk: Any) -> Beneficiary:
    return one_in(Beneficiary.objects.filter(coverage__in=coverages_visible(user))
                  .select_related("person", "coverage", "coverage__mutual", "coverage__package"),
                  pk, code="beneficiary_not_found", message=_("Beneficiary not found."))


def dues_of(coverage: Coverage) -> QuerySet[ContributionDue]:
    return ContributionDue.objects.filter(coverage=coverage).order_by("period_start")


def payments_of(coverage: Coverage) -> QuerySet[Contribution]:
    """Payments and reversal receipts, newest first (`reversed_by` set on a reversed one)."""
    return (Contribution.objects.filter(coverage=coverage)
            .select_related("reversed_by", "created_by").order_by("-paid_on", "-pk"))


def get_contribution_for_user(user, pk: Any) -> Contribution:
    return one_in(Contribution.objects.filter(coverage__in=coverages_visible(user))
                  .select_related("coverage", "coverage__mutual", "coverage__package"),
                  pk, code="contribution_not_found", message=_("Contribution not found."))


@dataclass(frozen=True)
class Quote:
    """What a family pays to be up to date through `through`: the card fee if unpaid and the
    dues of the periods begun by then."""

    through: date
    card_fee: int
    dues: int

    @property
    def total(self) -> int:
        return self.card_fee + self.dues


def contribution_quote(coverage: Coverage, *, through: date | None = None) -> Quote:
    from jigi.health.services.contributions import quote

    through = through or today()
    card, owed = quote(coverage, through)
    return Quote(through, card, owed)


def amount_owed(coverage: Coverage, on: date | None = None) -> int:
    """Dues of the scheduled periods begun by `on` not yet paid (the arrears)."""
    on = on or today()
    agg = ContributionDue.objects.filter(coverage=coverage, period_start__lte=on).aggregate(
        a=Sum("amount"), p=Sum("paid"))
    return (agg["a"] or 0) - (agg["p"] or 0)


def suspensions_of(coverage: Coverage) -> QuerySet[SuspensionPeriod]:
    return SuspensionPeriod.objects.filter(coverage=coverage).order_by("start")


def standing_orders_of(coverage: Coverage) -> QuerySet[StandingOrder]:
    return StandingOrder.objects.filter(coverage=coverage).select_related("account").order_by(
        "-pk")


def get_standing_order_for_user(user, pk: Any) -> StandingOrder:
    return one_in(StandingOrder.objects.filter(coverage__in=coverages_visible(user))
                  .select_related("coverage", "coverage__mutual", "account"),
                  pk, code="order_not_found", message=_("Standing order not found."))


def agreements_visible(user) -> QuerySet[GroupAgreement]:
    scope = user_scope(user)
    return (GroupAgreement.objects.filter(scope.unit_q("mutual__", roles=MUTUAL_STAFF_ROLES))
            .select_related("mutual", "package", "partner", "partner_unit").order_by("-pk"))


def get_agreement_for_user(user, pk: Any) -> GroupAgreement:
    return one_in(agreements_visible(user), pk, code="agreement_not_found",
                  message=_("Agreement not found."))


# --- providers, conventions, tariffs ----------------------------------------------------------


def providers_visible(user) -> QuerySet[Provider]:
    """The union's providers, for its health staff (clinic staff included)."""
    scope = user_scope(user)
    qs = Provider.objects.all()
    if not scope.is_superuser:
        orgs = {g.organisation_id for g in scope.grants if g.role in HEALTH_ROLES}
        qs = qs.filter(organisation_id__in=orgs)
    return qs.order_by("name", "pk")


def get_provider_for_user(user, pk: Any) -> Provider:
    return one_in(providers_visible(user).select_related("organisation"), pk,
                  code="provider_not_found", message=_("Provider not found."))


def providers_of_staff(user) -> QuerySet[Provider]:
    """The active providers a clinic staff user works at."""
    return Provider.objects.filter(staff=user, active=True).order_by("name")


def conventions_of(provider: Provider) -> QuerySet[Convention]:
    return (Convention.objects.filter(provider=provider).select_related("mutual")
            .order_by("-valid_from", "pk"))


def get_convention_for_user(user, pk: Any) -> Convention:
    return one_in(Convention.objects.filter(provider__in=providers_visible(user))
                  .select_related("provider", "provider__organisation", "mutual"),
                  pk, code="convention_not_found", message=_("Convention not found."))


@dataclass(frozen=True)
class Tariff:
    """The convention in force and its items by code (upper case)."""

    convention: Convention
    items: dict[str, TariffItem]

    @property
    def tolerance_pct(self) -> int:
        return self.convention.tolerance_pct

    def item(self, code: str) -> TariffItem | None:
        return self.items.get((code or "").strip().upper())


def convention_in_force(provider: Provider | int, mutual: Unit | int | None,
                        on_date: date) -> Convention | None:
    """The convention of `provider` in force on `on_date` for `mutual`: the mutual's own if
    it has one then, otherwise the union-wide one."""
    provider_id = getattr(provider, "pk", provider)
    mutual_id = getattr(mutual, "pk", mutual)
    rows = list(Convention.objects.filter(
        Q(mutual_id=mutual_id) | Q(mutual__isnull=True) if mutual_id else Q(mutual__isnull=True),
        provider_id=provider_id, valid_from__lte=on_date).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on_date)).order_by("-valid_from"))
    own = [c for c in rows if c.mutual_id is not None]
    return (own or rows or [None])[0]


def tariff_for(provider: Provider | int, mutual: Unit | int | None, on_date: date
               ) -> Tariff | None:
    """The tariff a claim of `provider` for a beneficiary of `mutual` is checked against on
    `on_date` (mutual-specific convention first, else union-wide), or None (no convention)."""
    convention = convention_in_force(provider, mutual, on_date)
    if convention is None:
        return None
    return Tariff(convention, {i.code.upper(): i for i in convention.items.all()})


# --- eligibility at the point of care ---------------------------------------------------------

REASON_TEXT = {
    el.NOT_A_BENEFICIARY: _("Not a beneficiary on this date."),
    el.ENDED: _("Coverage ended."),
    el.WAITING_PERIOD: _("Waiting period: covered from %(date)s."),
    el.SUSPENDED_ARREARS: _("Suspended for unpaid contributions: %(amount)s F CFA due."),
    el.AGE_LIMIT: _("Outside the age limit of the package."),
    el.SERVICE_NOT_COVERED: _("This service is not covered by the package."),
    el.CEILING_REACHED: _("The yearly ceiling of this service is reached."),
}


def reason_text(reason: el.Reason) -> str:
    text = REASON_TEXT.get(reason.code)
    if text is None:
        return reason.code
    if reason.code == el.WAITING_PERIOD:
        return str(text) % {"date": reason.until.isoformat() if reason.until else "?"}
    if reason.code == el.SUSPENDED_ARREARS:
        return str(text) % {"amount": f"{reason.amount or 0:,}".replace(",", "\u202f")}
    return str(text)


@dataclass(frozen=True)
class Match:
    """One beneficiary found by the check, and the decision for him."""

    beneficiary: Beneficiary
    age: int | None
    decision: el.Decision
    in_network: bool | None  # the provider has a convention for his mutual on the date


@dataclass(frozen=True)
class EligibilityAnswer:
    on: date
    group: str | None
    matches: list[Match]

    @property
    def covered(self) -> bool:
        return any(m.decision.covered for m in self.matches)

    @property
    def reasons(self) -> tuple[el.Reason, ...]:
        if not self.matches:
            return (el.Reason(el.NOT_A_BENEFICIARY),)
        return () if self.covered else self.matches[0].decision.reasons


def _invalid(field: str, message: Any) -> ApplicationError:
    return ApplicationError("invalid", _("Some fields are not valid."), {field: message},
                            status_code=422)


def eligibility_check(user, *, card: str | None = None, phone: str | None = None,
                      on: date | None = None, group: str | None = None,
                      provider: Provider | int | None = None) -> EligibilityAnswer:
    """Who is behind this card number (or phone: several beneficiaries may share the family's
    phone) and are they covered on `on` (today by default), for `group` when given: the
    reasons why not and the co-payment of each service group. A card with a wrong check digit
    is refused (422) before any lookup; an unknown card or one the user may not check gives no
    match (NOT_A_BENEFICIARY), which tells nothing about other mutuals. `provider` (an object
    or an id) is where the care happens: clinic staff must work there, and each match says
    whether it has a convention for the beneficiary's mutual on the date.

    Two statements prepared once per process (the clinic's counter is the hot path: p95 under
    50 ms with 8 clients at once): the beneficiary rows (by card, or every beneficiary whose
    phone it is or whose family's member's phone it is), then the facts of each."""
    on = on or today()
    if group is not None and group not in ServiceGroup.values:
        raise _invalid("group", _("Choose one of the allowed values."))
    if bool(card) == bool(phone):
        raise _invalid("card", _("Give a card number or a phone number."))
    scope = user_scope(user)
    if not scope.sees_health_data:
        raise Forbidden("forbidden", _("The eligibility check is for health staff."))
    if card:
        try:
            number = normalise_card(card)
        except CardNumberError as exc:
            message = (_("This card number has a typing error (check digit).")
                       if str(exc) == "check" else _("This is not a card number."))
            raise _invalid("card", message) from None
        return _by_card(user, number, on, group, getattr(provider, "pk", provider))
    try:
        number = normalize_mali_phone(phone or "")
    except PhoneError:
        raise _invalid("phone", _("Enter a Mali number: +223 and 8 digits.")) from None
    return _by_phone(user, number, on, group, getattr(provider, "pk", provider))


# --- the card's hot path: prepared statements ---------------------------------------------------

def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _c(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


_CARD_FIELDS = [
    (Beneficiary, "b", ["id", "relation", "since", "until", "card_number"]),
    (Person, "p", ["id", "first_name", "last_name", "sex", "birth_date", "birth_year"]),
    (Coverage, "c", ["id", "number", "status", "enrolled_on", "covered_from", "ended_on",
                     "organisation", "member"]),
    (Unit, "u", ["id", "code", "name", "path", "organisation"]),
    (BenefitPackage, "k", ["id", "code", "name", "waiting_days", "child_max_age"]),
]


def _card_sql() -> str:
    cols = ", ".join(f"{alias}.{_c(model, name)}" for model, alias, names in _CARD_FIELDS
                     for name in names)
    return (  # names from the models, the card number as a parameter
        f"SELECT {cols}, a.{_c(GroupAgreement, 'waiting_waived')} "  # noqa: S608
        f"FROM {_t(Beneficiary)} b "
        f"JOIN {_t(Person)} p ON p.{_c(Person, 'id')} = b.{_c(Beneficiary, 'person')} "
        f"JOIN {_t(Coverage)} c ON c.{_c(Coverage, 'id')} = b.{_c(Beneficiary, 'coverage')} "
        f"JOIN {_t(Unit)} u ON u.{_c(Unit, 'id')} = c.{_c(Coverage, 'mutual')} "
        f"JOIN {_t(BenefitPackage)} k ON k.{_c(BenefitPackage, 'id')} = "
        f"c.{_c(Coverage, 'package')} "
        f"LEFT JOIN {_t(GroupAgreement)} a ON a.{_c(GroupAgreement, 'id')} = "
        f"c.{_c(Coverage, 'agreement')} "
        f"WHERE b.{_c(Beneficiary, 'card_number')} = %s")


def _phone_sql() -> str:
    """The card statement's columns for every beneficiary reached by a phone: the person's own
    number, or the number of the member whose coverage they are on (children have none). Two
    branches so that each walks its own index (the person's phone, the coverage's member)."""
    card = _card_sql()
    head = card[:card.index(" WHERE ")]
    pid, merged, phone = _c(Person, "id"), _c(Person, "merged_into"), _c(Person, "phone")
    owner = (f"(SELECT m.{pid} FROM {_t(Person)} m "  # noqa: S608 (names from the models)
             f"WHERE m.{phone} = %s AND m.{merged} IS NULL)")
    names = [(alias, name) for _m, alias, ns in _CARD_FIELDS for name in ns]
    status = names.index(("c", "status")) + 1
    coverage, beneficiary = names.index(("c", "id")) + 1, names.index(("b", "id")) + 1
    return (  # names from the models, the phone as a parameter
        f"{head} WHERE b.{_c(Beneficiary, 'person')} IN {owner} UNION "
        f"{head} WHERE c.{_c(Coverage, 'member')} IN {owner} "
        f"ORDER BY {status}, {coverage}, {beneficiary} LIMIT 100")


def _branch(kind: str, text: str, ints: list[str], d1: str, d2: str, rest: str) -> str:
    """One SELECT of `_facts_sql`: kind, a text, six integers, two dates (NULLs typed, so
    that PostgreSQL agrees on the columns of the UNION)."""
    cols = [f"'{kind}'", text] + [f"CAST({v} AS BIGINT)" for v in ints] + [
        "CAST(NULL AS BIGINT)"] * (6 - len(ints)) + [d1, d2]
    return "SELECT " + ", ".join(cols) + " " + rest  # noqa: S608 (names from the models)


def _facts_sql() -> str:
    """Everything else a card's check needs, in one round trip: the package's rules ("r"), the
    coverage's suspensions on the date ("s"), this year's usage ("u"), the arrears ("o"), the
    providers the user works at ("l"), the provider named ("p") and its conventions in force
    for the mutual ("c"). Every value is a parameter."""
    R, S, U, D, V, P = (BenefitRule, SuspensionPeriod, BenefitUsage, ContributionDue,
                        Convention, Provider)
    no_day = "CAST(NULL AS DATE)"
    staff = connection.ops.quote_name(Provider.staff.through._meta.db_table)
    rule_ints = [f"r.{_c(R, n)}" for n in ("mutual_share_pct", "ceiling_per_event",
                                            "ceiling_per_year", "max_quantity", "min_age",
                                            "max_age")]
    s_start, s_end, s_cov = _c(S, "start"), _c(S, "end"), _c(S, "coverage")
    owed = f"SUM(d.{_c(D, 'amount')}) - SUM(d.{_c(D, 'paid')})"
    v_mutual, v_until = _c(V, "mutual"), _c(V, "valid_until")
    p_id = _c(P, "id")
    return " UNION ALL ".join([
        _branch("r", f"r.{_c(R, 'group')}", rule_ints, no_day, no_day,
                f"FROM {_t(R)} r WHERE r.{_c(R, 'package')} = %s"),
        _branch("s", f"s.{_c(S, 'reason')}", [], f"s.{s_start}", f"s.{s_end}",
                f"FROM {_t(S)} s WHERE s.{s_cov} = %s AND s.{s_start} <= %s "
                f"AND (s.{s_end} IS NULL OR s.{s_end} >= %s)"),
        _branch("u", f"g.{_c(U, 'group')}", [f"g.{_c(U, 'amount')}"], no_day, no_day,
                f"FROM {_t(U)} g WHERE g.{_c(U, 'beneficiary')} = %s "
                f"AND g.{_c(U, 'year')} = %s"),
        _branch("o", "NULL", [owed], no_day, no_day,
                f"FROM {_t(D)} d WHERE d.{_c(D, 'coverage')} = %s "
                f"AND d.{_c(D, 'period_start')} <= %s"),
        _branch("l", "NULL", ["x.provider_id"], no_day, no_day,
                f"FROM {staff} x JOIN {_t(P)} pr ON pr.{p_id} = x.provider_id "
                f"WHERE x.user_id = %s AND pr.{_c(P, 'active')} = %s"),
        _branch("p", "NULL", [f"pr.{p_id}", f"pr.{_c(P, 'organisation')}"], no_day, no_day,
                f"FROM {_t(P)} pr WHERE pr.{p_id} = %s"),
        _branch("c", "NULL", [f"v.{_c(V, 'id')}"], no_day, no_day,
                f"FROM {_t(V)} v WHERE v.{_c(V, 'provider')} = %s "
                f"AND (v.{v_mutual} = %s OR v.{v_mutual} IS NULL) "
                f"AND v.{_c(V, 'valid_from')} <= %s "
                f"AND (v.{v_until} IS NULL OR v.{v_until} >= %s)"),
    ])


def _day(value: Any) -> date | None:
    # SQLite gives dates as ISO text; PostgreSQL as dates.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _beneficiary_from(row: tuple) -> Beneficiary:
    """Unsaved-looking model instances carrying the row (what the screens and the API read:
    names, card, relation, the coverage's number, mutual and package)."""
    it = iter(row)
    values = {}
    for _model, alias, names in _CARD_FIELDS:
        values[alias] = {name: next(it) for name in names}
    waived = next(it)
    b, p, c, u, k = (values[a] for a in ("b", "p", "c", "u", "k"))
    mutual = Unit(pk=u["id"], code=u["code"], name=u["name"], path=u["path"],
                  organisation_id=u["organisation"], kind=UnitKind.MUTUAL)
    package = BenefitPackage(pk=k["id"], code=k["code"], name=k["name"],
                             waiting_days=k["waiting_days"], child_max_age=k["child_max_age"],
                             organisation_id=u["organisation"])
    coverage = Coverage(pk=c["id"], number=c["number"], status=c["status"],
                        enrolled_on=_day(c["enrolled_on"]),
                        covered_from=_day(c["covered_from"]), ended_on=_day(c["ended_on"]),
                        organisation_id=c["organisation"], member_id=c["member"],
                        mutual=mutual, package=package)
    coverage._waived = bool(waived)
    person = Person(pk=p["id"], first_name=p["first_name"], last_name=p["last_name"],
                    sex=p["sex"], birth_date=_day(p["birth_date"]), birth_year=p["birth_year"])
    return Beneficiary(pk=b["id"], relation=b["relation"], since=_day(b["since"]),
                       until=_day(b["until"]), card_number=b["card_number"], person=person,
                       coverage=coverage)


def _by_card(user, number: str, on: date, group: str | None, provider_id: Any
             ) -> EligibilityAnswer:
    with prepared.cursor() as cursor:
        row = cursor.execute(prepared.statement("health.card", _card_sql), [number]).fetchone()
        return _answer(cursor, user, [row] if row else [], on, group, provider_id)


def _by_phone(user, number: str, on: date, group: str | None, provider_id: Any
              ) -> EligibilityAnswer:
    with prepared.cursor() as cursor:
        rows = cursor.execute(prepared.statement("health.phone", _phone_sql),
                              [number, number]).fetchall()
        return _answer(cursor, user, rows, on, group, provider_id)


# Several beneficiaries may share a family's phone; the answer lists at most this many.
PHONE_MATCHES = 30


def _answer(cursor, user, rows: list[tuple], on: date, group: str | None, provider_id: Any
            ) -> EligibilityAnswer:
    """Decide each beneficiary row the user may check (one facts statement each; one for none,
    so that the provider named is checked even when no card matches)."""
    scope = user_scope(user)
    provider_id = id_or_none(provider_id) if provider_id is not None else None
    matches = []
    for row in rows or [None]:
        match = _decide_row(cursor, scope, user, row, on, group, provider_id)
        if match is not None:
            matches.append(match)
            if len(matches) == PHONE_MATCHES:
                break
    return EligibilityAnswer(on, group, matches)


def _decide_row(cursor, scope, user, row: tuple | None, on: date, group: str | None,
                provider_id: int | None) -> Match | None:
    day = connection.ops.adapt_datefield_value(on)
    b = _beneficiary_from(row) if row else None
    cov = b.coverage if b else None
    facts = cursor.execute(prepared.statement("health.card_facts", _facts_sql), [
        cov.package.pk if b else -1, cov.pk if b else -1, day, day, b.pk if b else -1,
        on.year, cov.pk if b else -1, day, user.pk or -1, True, provider_id or -1,
        provider_id or -1, cov.mutual.pk if b else -1, day, day]).fetchall()
    rules, suspensions, usage, linked, conventions = {}, [], {}, set(), []
    owed, provider_org = 0, None
    for kind, text, n1, n2, n3, n4, n5, n6, d1, d2 in facts:
        if kind == "r":
            rules[text] = el.Rule(text, n1, n2, n3, n4, n5, n6)
        elif kind == "s":
            suspensions.append(el.Suspension(_day(d1), _day(d2), text))
        elif kind == "u":
            usage[text] = n1
        elif kind == "o":
            owed = n1 or 0
        elif kind == "l":
            linked.add(n1)
        elif kind == "p":
            provider_org = n2
        elif kind == "c":
            conventions.append(n1)
    health_orgs = {g.organisation_id for g in scope.grants if g.role in HEALTH_ROLES}
    if provider_id is not None and (provider_org is None or not (
            scope.is_superuser or provider_org in health_orgs)):
        raise NotFound("provider_not_found", _("Provider not found."))
    allowed = scope.is_superuser
    if not allowed:
        staff = scope.has_role(*MUTUAL_STAFF_ROLES)
        clinic_orgs = {g.organisation_id for g in scope.grants if g.role in CLINIC_ROLES}
        if clinic_orgs:
            if provider_id is not None and provider_id not in linked and not staff:
                raise Forbidden("not_your_provider",
                                _("You check cards only for the providers you work at."))
            if not linked and not staff:
                raise Forbidden("no_provider", _("You are not linked to any provider: ask "
                                                 "the union to link you."))
        if b is not None:
            allowed = (staff and scope.covers_unit(cov.mutual, roles=MUTUAL_STAFF_ROLES)) or (
                bool(linked) and cov.organisation_id in clinic_orgs)
    if b is None or not allowed:
        return None
    facts_ = el.Facts(
        on=on, relation=b.relation, since=b.since, until=b.until, age=age_on(b.person, on),
        age_at_since=age_on(b.person, b.since), enrolled_on=cov.enrolled_on,
        covered_from=cov.covered_from,
        ended_on=cov.ended_on if cov.status == CoverageStatus.ENDED else None,
        waiting_days=cov.package.waiting_days, waiting_waived=cov._waived,
        child_max_age=cov.package.child_max_age, rules=rules, suspensions=tuple(suspensions),
        amount_due=owed if any(s.reason == "arrears" for s in suspensions) else 0, usage=usage)
    in_network = bool(conventions) if provider_id is not None else None
    return Match(b, facts_.age, el.decide(facts_, group), in_network)
