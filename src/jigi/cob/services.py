"""Close of business (COB): the daily batch of a network, caisse by caisse.

    cob_start(*, organisation, through, acting_user, first=None, mode="inprocess") -> CobRun
    cob_execute(*, run, progress=None) -> CobRun          (in-process, or Celery: jigi.cob.tasks)
    partition_close(*, caisse, on, run_id=None) -> bool   (one caisse, one business date)

A partition is one caisse for one business date. Everything it does commits in ONE
transaction together with its `PartitionDay` row: that row's presence means the whole day of
that caisse is done, its absence that nothing of it was committed. So a second run skips it
(idempotent) and a run killed mid-way resumes at the first caisse without its row (nothing
lost, nothing doubled). The steps of a partition, all set-based (a handful of statements per
caisse, never one per loan):

1. penalties on instalments late beyond the product's grace days (once per instalment);
2. the risk state of every active loan (`LoanRisk`): days past due, overdue amount, band,
   classification account, provision base and amount, accrued interest;
3. three balance-adjustment entries at most, aggregated per caisse and account: accrued
   interest (27 / 7021), classification (202/203 <-> 292/293/294), provisions (664 / 299 / 764);
4. savings: the interest posting of the periods ending that day, term deposits reaching
   maturity, dormancy (the savings services, run inside the partition's transaction);
5. the reminders queue (instalments due in COB_REMINDER_DAYS days).

The workers' movement (MTC) closes its days as one partition, its root unit
(`jigi cob --network MTC`): the members' dues charged and their standing refreshed.

The union of health mutuals (UTM) closes its days the same way, one partition per mutual
(`jigi cob --network UTM`): the standing orders from Kondo savings that fall due, the
contribution schedule with suspensions for arrears and reinstatements, and advances (412) of
begun periods recognised as income (701) — the health services, inside the partition's
transaction (a refused standing order rolls back to its own savepoint and is recorded).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.cob import rules, sql
from jigi.cob.models import BusinessDate, CobRun, PartitionDay, RunStatus
from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Conflict
from jigi.credit.models import LoanProduct
from jigi.health.services import arrears_run, standing_orders_run
from jigi.ledger.models import Book, ClosedPeriod
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Organisation, OrgKind, Role, StaffRole, Unit, UnitKind
from jigi.savings.interest import is_period_end
from jigi.savings.models import ProductKind, ProductOverride, SavingsProduct
from jigi.savings.rules import add_months
from jigi.savings.services import (
    accounts_mark_dormant,
    interest_post_caisse,
    term_deposits_mature,
)

Progress = Callable[..., None]

# The unit a partition closes, per kind of organisation.
# The movement (MTC) keeps one book at its root unit: one partition a day.
PARTITION_KIND = {OrgKind.SFD: UnitKind.CAISSE, OrgKind.MUTUAL_UNION: UnitKind.MUTUAL,
                  OrgKind.MOVEMENT: UnitKind.MOVEMENT}
# The role close of business acts with, per kind of organisation.
_SYSTEM_ROLE = {OrgKind.SFD: Role.NETWORK_ADMIN, OrgKind.MUTUAL_UNION: Role.UNION_ADMIN,
                OrgKind.MOVEMENT: Role.MOVEMENT_ADMIN}


def reminder_days() -> int:
    return int(settings.JIGI.get("COB_REMINDER_DAYS", 3))


def stale_after_seconds() -> int:
    return int(settings.JIGI.get("COB_STALE_SECONDS", 120))


def group_size() -> int:
    """Caisses closed per transaction in-process (`partitions_close`)."""
    return max(1, int(settings.JIGI.get("COB_GROUP_SIZE", 10)))


# --- one partition -------------------------------------------------------------------------


def _partition_transaction():
    """One transaction for the whole partition-day; the savings batch steps (interest run,
    maturity, dormancy) join it (`savings.services._common.batch_transaction`)."""
    return transaction.atomic(durable=True)


def system_user(organisation: Organisation):
    """The user close of business acts as (audit rows, savings services): a network
    administrator that cannot log in."""
    User = get_user_model()
    username = f"cob-{organisation.code.lower()}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(username=username, is_active=False,
                                   first_name=str(_("Close of business")))
        user.set_unusable_password()
        user.save(update_fields=["password"])
    role = _SYSTEM_ROLE.get(organisation.kind, Role.NETWORK_ADMIN)
    if not StaffRole.objects.filter(user=user, organisation=organisation, unit=None,
                                    role=role, revoked_at__isnull=True).exists():
        StaffRole.objects.create(user=user, organisation=organisation, unit=None, role=role)
    return user


def _lines(items: list[rules.Line]) -> list[LineSpec]:
    return [LineSpec(x.account, x.side, x.amount, x.subledger) for x in items]


@dataclass(frozen=True)
class Context:
    """What every partition of a network needs, read once per run (or per worker process)."""

    organisation_id: int
    user: Any
    products: tuple[LoanProduct, ...]
    books: dict[int, Book]
    min_dormancy_months: int  # 0: no product goes dormant
    accounts: dict[int, str]  # id -> code of 27, 292-294, 299


def partition_context(organisation: Organisation) -> Context:
    kinds = [ProductKind.VOLUNTARY, ProductKind.GROUP]
    months = [m for m in SavingsProduct.objects.filter(
        organisation=organisation, kind__in=kinds).values_list("dormancy_months", flat=True) if m]
    months += [m for m in ProductOverride.objects.filter(
        product__organisation=organisation, product__kind__in=kinds).values_list(
        "dormancy_months", flat=True) if m]
    return Context(
        organisation_id=organisation.pk, user=system_user(organisation),
        products=tuple(LoanProduct.objects.filter(organisation=organisation)),
        books={b.unit_id: b for b in Book.objects.select_related("organisation").filter(
            unit__organisation=organisation, unit__kind__in=PARTITION_KIND.values())},
        min_dormancy_months=min(months, default=0),
        accounts=sql.adjusted_accounts(organisation.pk))


def partition_close(*, caisse: Unit, on: date, ctx: Context, run_id: int | None = None) -> bool:
    """Close business date `on` for one caisse. False (nothing done) when already closed."""
    return partitions_close(caisses=[caisse], on=on, ctx=ctx, run_id=run_id) == 1


def partitions_close(*, caisses: list[Unit], on: date, ctx: Context,
                     run_id: int | None = None) -> int:
    """Close business date `on` for several caisses in ONE transaction; returns how many were
    closed (those already closed are skipped, checked inside the transaction).

    Each caisse's partition is exactly what it is alone (its statements, entries, savings
    steps, reminders and its own PartitionDay row); the group only shares the commit. A crash
    rolls back the group in progress and the next run resumes at its first caisse without a
    row. On PostgreSQL a commit waits for the WAL flush (about 10 ms here, a tenth of a
    day's time when every caisse committed alone)."""
    closed = 0
    with _partition_transaction():
        done = set(PartitionDay.objects.filter(caisse__in=caisses, business_date=on)
                   .values_list("caisse_id", flat=True))
        for caisse in caisses:
            if caisse.pk not in done:
                _partition_steps(caisse, on, ctx, run_id)
                closed += 1
    return closed


def _partition_steps(caisse: Unit, on: date, ctx: Context, run_id: int | None) -> None:
    started = time.perf_counter()
    if caisse.kind == UnitKind.MUTUAL:
        _close_partition(caisse, on, ctx, run_id, started, _mutual_steps(caisse, on, ctx))
        return
    if caisse.kind == UnitKind.MOVEMENT:
        _close_partition(caisse, on, ctx, run_id, started, _movement_steps(caisse, on, ctx))
        return
    book = ctx.books[caisse.pk]
    user = ctx.user
    penalised = sql.penalties_charge(caisse.pk, on)
    sql.risk_refresh(caisse.pk, on)
    target = sql.risk_totals(caisse.pk)
    current = sql.ledger_state(book.pk, ctx.accounts)
    source = f"{caisse.code}:{on.isoformat()}"
    entries = 0
    for lines, label in (
            (rules.accrual_lines(target["accrued"], current["accrued"]),
             "COB %s: intérêts courus (27)"),
            (rules.classification_lines(target["classified"], current["classified"]),
             "COB %s: créances en souffrance (29)"),
            (rules.provision_lines(target["provision"], current["provision"]),
             "COB %s: provisions (299)")):
        if lines:
            entry_post(book=book, lines=_lines(lines), value_date=on, posting_date=on,
                       description=label % on.strftime("%d/%m/%Y"), acting_user=user,
                       source_type="cob", source_id=source, audit=False)
            entries += 1
    savings = _savings_steps(caisse, on, ctx)
    reminders = sql.reminders_queue(caisse.pk, on, reminder_days())
    summary = {"loans": target["loans"], "late": target["late"], "penalised": penalised,
               "entries": entries, "reminders": reminders,
               "outstanding": target["outstanding"], "accrued": target["accrued"],
               "provision": target["provision"],
               "souffrance": sum(target["classified"].values()), **savings}
    _close_partition(caisse, on, ctx, run_id, started, summary)


def _close_partition(unit: Unit, on: date, ctx: Context, run_id: int | None, started: float,
                     summary: dict[str, Any]) -> None:
    part = PartitionDay.objects.create(
        run_id=run_id, caisse=unit, business_date=on, summary=summary,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        duration_ms=int((time.perf_counter() - started) * 1000))
    audit_log(actor=ctx.user, event_type="cob.partition_closed", subject=part,
              after={"business_date": on.isoformat(), **summary}, unit=unit)


def _mutual_steps(mutual: Unit, on: date, ctx: Context) -> dict[str, Any]:
    """A mutual's day: standing orders due, then the schedule, arrears and recognition (the
    orders first, so that a member paid by his order that morning is not suspended)."""
    orders = standing_orders_run(on=on, mutual=mutual, acting_user=ctx.user)
    day = arrears_run(mutual=mutual, on=on, acting_user=ctx.user)
    return {"standing_orders_paid": sum(o.ok for o in orders),
            "standing_orders_failed": sum(not o.ok for o in orders),
            "coverages": day.checked, "suspended": len(day.suspended),
            "reinstated": len(day.reinstated), "recognised": day.recognised}


def _movement_steps(root: Unit, on: date, ctx: Context) -> dict[str, Any]:
    """The movement's day: its members' dues charged up to the day (movement.services.dues,
    inside the partition's transaction), their standing refreshed."""
    from jigi.movement.services.cases import cases_check_overdue
    from jigi.movement.services.dues import dues_accrue

    run = dues_accrue(organisation=root.organisation, as_of=on, acting_user=ctx.user)
    alerts = cases_check_overdue(organisation=root.organisation, today=on)
    return {"dues_charges": run.charges, "dues_amount": run.amount,
            "advance_used": run.advance_used, "members_changed": run.members,
            **{f"alerts_{kind}": n for kind, n in alerts.items()}}


def _savings_steps(caisse: Unit, on: date, ctx: Context) -> dict[str, int]:
    """The savings services, each called only when the caisse has something for it that day
    (one cheap query decides; the services themselves cost a few ORM queries each)."""
    out = {"savings_interest": 0, "term_renewed": 0, "term_paid_out": 0, "dormant": 0}
    user = ctx.user
    if is_period_end("monthly", on):
        out["savings_interest"] = interest_post_caisse(caisse=caisse, period_end=on,
                                                       acting_user=user).total
    dormant_before = add_months(on, -ctx.min_dormancy_months) \
        if ctx.min_dormancy_months else None
    maturing, dormant = sql.savings_due(caisse.pk, on, dormant_before)
    if maturing:
        matured = term_deposits_mature(caisse=caisse, as_of=on, acting_user=user)
        out["term_renewed"], out["term_paid_out"] = matured["renewed"], matured["paid_out"]
    if dormant:
        out["dormant"] = accounts_mark_dormant(caisse=caisse, as_of=on, acting_user=user)
    return out


# --- runs ------------------------------------------------------------------------------------


def caisses_of(organisation: Organisation) -> list[Unit]:
    """The partitions of a network: its caisses (Kondo) or its mutuals (UTM)."""
    kind = PARTITION_KIND.get(organisation.kind, UnitKind.CAISSE)
    return list(Unit.objects.filter(organisation=organisation, kind=kind,
                                    book__isnull=False).order_by("code"))


def _refuse(code: str, message, field: str = "through", status: int = 422) -> ApplicationError:
    return ApplicationError(code, message, {field: message}, status_code=status)


def business_date_advance(organisation: Organisation) -> date | None:
    """Move the network's last closed date over every day all its caisses have closed (also
    repairs a run killed between its last partition and this update)."""
    n = len(caisses_of(organisation))
    with transaction.atomic():
        bd, _created = BusinessDate.objects.select_for_update().get_or_create(
            organisation=organisation)
        day = bd.last_closed
        while n:
            nxt = (day + timedelta(days=1)) if day else PartitionDay.objects.filter(
                caisse__organisation=organisation).order_by("business_date").values_list(
                "business_date", flat=True).first()
            if nxt is None or PartitionDay.objects.filter(
                    caisse__organisation=organisation, business_date=nxt).count() < n:
                break
            day = nxt
        if day != bd.last_closed:
            bd.last_closed = day
            bd.save(update_fields=["last_closed", "updated_at"])
    return day


def _alive(run: CobRun) -> bool:
    """Is the process of a `running` run still there? Same host: ask the OS; elsewhere (a
    Celery coordinator on another machine): its heartbeat is recent."""
    if run.host == socket.gethostname() and run.pid:
        try:
            os.kill(run.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        if run.pid != os.getpid():
            return True
    beat = run.heartbeat_at or run.started_at
    return (timezone.now() - beat).total_seconds() < stale_after_seconds()


def cob_start(*, organisation: Organisation, through: date, acting_user=None,
              first: date | None = None, mode: str = "inprocess") -> CobRun:
    """Check and register a run closing every day after the last closed one up to `through`
    (the first run ever closes `first`..`through`, `through` alone by default).

    Refused with nothing changed: a date after today, a date before the last closed day, a day
    in a month closed in the books of one of the caisses, another run of the network in
    progress. `through` equal to the last closed day: a run with nothing to do."""
    today = timezone.localdate()
    if through > today:
        raise _refuse("cob_date_in_future",
                      _("The business date %(date)s is in the future.")
                      % {"date": through.strftime("%d/%m/%Y")})
    last = business_date_advance(organisation)
    if last is not None and through < last:
        raise _refuse("cob_date_before_last_closed",
                      _("The business date %(date)s is before the last closed day "
                        "(%(last)s).") % {"date": through.strftime("%d/%m/%Y"),
                                          "last": last.strftime("%d/%m/%Y")})
    start = last + timedelta(days=1) if last else (first or through)
    if start > through and last is None:
        raise _refuse("invalid", _("The first date is after the last one."), "first")
    caisses = caisses_of(organisation)
    if not caisses:
        raise _refuse("cob_no_caisses", _("This network has no caisse to close."))
    months = {(d.year, d.month) for d in _days(start, through)}
    closed = ClosedPeriod.objects.filter(book__unit__in=caisses).values_list(
        "book__code", "year", "month")
    hit = sorted((y, m, code) for code, y, m in closed if (y, m) in months)
    if hit:
        y, m, code = hit[0]
        raise _refuse("cob_period_closed",
                      _("The period %(month)02d/%(year)d is closed in book %(book)s: close of "
                        "business cannot post there.") % {"month": m, "year": y, "book": code},
                      status=409)
    days = len(_days(start, through))
    try:
        with transaction.atomic():
            running = CobRun.objects.select_for_update().filter(
                organisation=organisation, status=RunStatus.RUNNING).first()
            if running is not None:
                if _alive(running):
                    raise Conflict("cob_running", _(
                        "Close of business is already running for this network (started "
                        "%(at)s, through %(through)s). Wait for it to finish.") % {
                        "at": timezone.localtime(running.started_at).strftime("%d/%m/%Y %H:%M"),
                        "through": running.through.strftime("%d/%m/%Y")})
                running.status = RunStatus.INTERRUPTED
                running.finished_at = running.heartbeat_at or timezone.now()
                running.error = str(_("Interrupted; resumed by run %(id)s.")) % {"id": "…"}
                running.save(update_fields=["status", "finished_at", "error"])
            run = CobRun.objects.create(
                organisation=organisation, first_date=start, through=through, mode=mode,
                partitions_total=days * len(caisses), started_by=acting_user,
                host=socket.gethostname(), pid=os.getpid(), heartbeat_at=timezone.now(),
                current_date=start if days else None)
            if running is not None:
                running.error = str(_("Interrupted; resumed by run %(id)s.")) % {"id": run.pk}
                running.save(update_fields=["error"])
    except IntegrityError:  # a concurrent start won the partial unique index
        raise Conflict("cob_running", _("Close of business is already running for this "
                                        "network. Wait for it to finish.")) from None
    return run


def _days(start: date, through: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((through - start).days + 1)]


def run_progress(run: CobRun) -> int:
    """Partitions of the run's dates closed so far (by this run or one it resumed)."""
    return PartitionDay.objects.filter(caisse__organisation_id=run.organisation_id,
                                       business_date__gte=run.first_date,
                                       business_date__lte=run.through).count()


def _beat(run: CobRun, **fields: Any) -> None:
    fields["heartbeat_at"] = timezone.now()
    CobRun.objects.filter(pk=run.pk).update(**fields)


def _finish(run: CobRun, status: str, error: str = "") -> CobRun:
    done = run_progress(run)
    CobRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now(),
                                            error=error[:4000], partitions_done=done)
    run.refresh_from_db()
    return run


def sqlite_tune() -> None:
    """SQLite's default page cache is 2 MB: a caisse's instalments do not fit, and every
    statement reads its pages again from the OS. For this connection only: a 256 MB cache and
    reads through mmap (pages shared with the OS cache, so resident memory stays bounded by
    the database file)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")
            cursor.execute("PRAGMA mmap_size = 1073741824")


def cob_execute(*, run: CobRun, progress: Progress | None = None) -> CobRun:
    """Close the run's days in order, every caisse of a day before the next day, in this
    process. Each partition commits on its own; a failure stops the run (status failed,
    what was committed stays committed and the next run resumes after it)."""
    progress = progress or (lambda *a, **k: None)
    organisation = run.organisation
    caisses = caisses_of(organisation)
    ctx = partition_context(organisation)
    sqlite_tune()
    try:
        for day in _days(run.first_date, run.through):
            done = set(PartitionDay.objects.filter(
                caisse__in=caisses, business_date=day).values_list("caisse_id", flat=True))
            progress("day", day=day, total=len(caisses), done=len(done))
            _beat(run, current_date=day, partitions_done=run_progress(run))
            last_beat = time.monotonic()
            todo = [c for c in caisses if c.pk not in done]
            size = group_size()
            for k in range(0, len(todo), size):
                group = todo[k:k + size]
                partitions_close(caisses=group, on=day, ctx=ctx, run_id=run.pk)
                for caisse in group:
                    progress("partition", day=day, caisse=caisse.code)
                if time.monotonic() - last_beat > 0.5:
                    _beat(run, partitions_done=run_progress(run))
                    last_beat = time.monotonic()
            business_date_advance(organisation)
            if organisation.kind == OrgKind.SFD:
                # The day's reminders become SMS for the borrowers who asked for them; the
                # channels' sender (`jigi sms send` or its Celery task) delivers them.
                from jigi.channels.services import reminders_from_cob

                reminders_from_cob(queued_for=day)
    except BaseException as exc:
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    return _finish(run, RunStatus.DONE)


def cob_run(*, organisation: Organisation, through: date, acting_user=None,
            first: date | None = None, progress: Progress | None = None) -> CobRun:
    """cob_start + cob_execute in this process."""
    run = cob_start(organisation=organisation, through=through, acting_user=acting_user,
                    first=first)
    return cob_execute(run=run, progress=progress)


def default_network() -> Organisation:
    org = Organisation.objects.filter(units__kind=UnitKind.CAISSE).distinct().order_by(
        "code").first()
    if org is None:
        raise _refuse("cob_no_caisses", _("No network with caisses: nothing to close."),
                      "network")
    return org


def connection_vendor() -> str:
    return connection.vendor
