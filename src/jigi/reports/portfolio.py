"""The loan portfolio as of any date, in one set-based SQL statement.

Computed from the loans themselves (instalments, transactions, reschedulings), never from
close-of-business results, so every figure can be asked for any past date:

- a loan is in the portfolio at D if disbursed on or before D and neither closed nor written
  off on or before D (figures are end-of-day: a loan written off on D is out at D);
- its outstanding principal at D = principal - principal repaid by D (repayments,
  prepayments, payoffs and guarantee cover with value_date <= D, not reversed);
- the schedule version in force at D is the `to_version` of the latest rescheduling dated on
  or before D, else 1; an instalment of that version is unpaid at D if due before D and not
  fully paid by D (`paid_on` null or after D); days overdue = D - the oldest such due date;
- guarantee deposits held for the loan at D = compulsory savings blocked at disbursement minus
  what guarantee cover took by D, plus guarantors' pledges not released by D.

One statement aggregates per dimension key (caisse, product, officer, sex, ...): the number of
loans and borrowers, the outstanding, the provisioning base, and for each "overdue before"
limit date the same sums over the loans whose oldest unpaid instalment is older. PAR-N,
ageing buckets and provision bands are differences of these columns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

REPAID_KINDS = ("repayment", "prepayment", "payoff", "guarantee")

# Dimension -> SQL expression of the grouping key (l = loan, p = person, u = caisse unit,
# a = appraisal). Region, age band and poverty band are rolled up in Python from these keys.
_KEYS = {
    "none": "0",
    "caisse": "l.caisse_id",
    "region": "u.parent_id",
    "product": "l.product_id",
    "officer": "l.loan_officer_id",
    "sex": "p.sex",
    "activity": "l.activity",
    "crop": None,  # vendor-specific JSON path, below
    "age": "p.birth_year",
    "urban": "u.urban",
    "poverty": "a.poverty_score",
    "person": "l.person_id",
}


def crop_sql() -> str:
    if connection.vendor == "postgresql":
        return "(l.terms -> 'seasonal' ->> 'crop')"
    return "json_extract(l.terms, '$.seasonal.crop')"


def joins_for(by: str) -> str:
    """Only the joins the key needs: person and appraisal rows are wide, reading them for
    every loan would double the cost of a report by caisse."""
    alias = key_sql(by).split(".")[0].lstrip("(")
    return {"u": "\n  JOIN orgs_unit u ON u.id = l.caisse_id",
            "p": "\n  JOIN people_person p ON p.id = l.person_id",
            "a": "\n  LEFT JOIN credit_appraisal a ON a.loan_id = l.id"}.get(alias, "")


def key_sql(by: str) -> str:
    return crop_sql() if by == "crop" else _KEYS[by]


@dataclass
class Over:
    loans: int = 0
    outstanding: int = 0
    base: int = 0


@dataclass
class Agg:
    loans: int = 0
    borrowers: int = 0
    outstanding: int = 0
    base: int = 0
    over: list[Over] = field(default_factory=list)

    def add(self, other: Agg) -> None:
        self.loans += other.loans
        self.borrowers += other.borrowers
        self.outstanding += other.outstanding
        self.base += other.base
        if not self.over:
            self.over = [Over() for _o in other.over]
        for mine, theirs in zip(self.over, other.over, strict=True):
            mine.loans += theirs.loans
            mine.outstanding += theirs.outstanding
            mine.base += theirs.base


def _ids(caisse_ids: list[int] | tuple[int, ...]) -> str:
    return ",".join(str(int(i)) for i in caisse_ids) or "NULL"


def portfolio(caisse_ids, on: date, by: str, limits: list[date]) -> dict:
    """{key: Agg} of the loans of `caisse_ids` in the portfolio at `on`, grouped by `by`;
    `Agg.over[i]` sums the loans whose oldest unpaid instalment is due before `limits[i]`.
    Borrowers are counted distinct within a key (not additive across keys)."""
    over_cols = []
    for i in range(len(limits)):
        cond = f"oldest < %(l{i})s"
        over_cols.append(
            f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {cond} THEN outstanding ELSE 0 END), "
            f"SUM(CASE WHEN {cond} THEN base ELSE 0 END)")
    params = {"d": on, "f": False, **{f"l{i}": v for i, v in enumerate(limits)}}
    kinds = ",".join(f"'{k}'" for k in REPAID_KINDS)
    ids = _ids(caisse_ids)
    # Only fixed expressions and integer ids are formatted in; dates go as parameters.
    sql = f"""
WITH inport AS (
  SELECT l.id, l.person_id, l.principal, l.compulsory_savings, {key_sql(by)} AS k
  FROM credit_loan l{joins_for(by)}
  WHERE l.caisse_id IN ({ids}) AND l.disbursed_on IS NOT NULL AND l.disbursed_on <= %(d)s
    AND (l.closed_on IS NULL OR l.closed_on > %(d)s)
    AND (l.written_off_on IS NULL OR l.written_off_on > %(d)s)
),
ver AS (
  SELECT r.loan_id, MAX(r.to_version) AS v FROM credit_rescheduling r
  JOIN inport ON inport.id = r.loan_id
  WHERE r."on" <= %(d)s GROUP BY r.loan_id
),
repaid AS (
  SELECT t.loan_id, SUM(t.principal) AS p,
         SUM(CASE WHEN t.kind = 'guarantee' THEN t.amount ELSE 0 END) AS g
  FROM credit_loantransaction t JOIN inport ON inport.id = t.loan_id
  WHERE t.value_date <= %(d)s AND t.reversed = %(f)s AND t.kind IN ({kinds})
  GROUP BY t.loan_id
),
pledged AS (
  SELECT g.loan_id, SUM(g.amount) AS amount FROM credit_guarantor g
  JOIN inport ON inport.id = g.loan_id
  WHERE g.released_on IS NULL OR g.released_on > %(d)s GROUP BY g.loan_id
),
late AS (
  SELECT i.loan_id, MIN(i.due_on) AS oldest
  FROM inport JOIN credit_installment i ON i.loan_id = inport.id
  LEFT JOIN ver ON ver.loan_id = inport.id
  WHERE i.version = COALESCE(ver.v, 1) AND i.due_on < %(d)s
    AND (i.paid_on IS NULL OR i.paid_on > %(d)s)
  GROUP BY i.loan_id
),
loans AS (
  SELECT inport.k, inport.person_id,
         inport.principal - COALESCE(repaid.p, 0) AS outstanding,
         CASE WHEN inport.principal - COALESCE(repaid.p, 0)
                   - (inport.compulsory_savings - COALESCE(repaid.g, 0))
                   - COALESCE(pledged.amount, 0) > 0
              THEN inport.principal - COALESCE(repaid.p, 0)
                   - (inport.compulsory_savings - COALESCE(repaid.g, 0))
                   - COALESCE(pledged.amount, 0)
              ELSE 0 END AS base,
         late.oldest
  FROM inport
  LEFT JOIN repaid ON repaid.loan_id = inport.id
  LEFT JOIN pledged ON pledged.loan_id = inport.id
  LEFT JOIN late ON late.loan_id = inport.id
)
SELECT k, COUNT(*), COUNT(DISTINCT person_id), SUM(outstanding), SUM(base)
       {"".join(", " + c for c in over_cols)}
FROM loans WHERE outstanding > 0 GROUP BY k
"""  # noqa: S608
    out: dict = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for row in cur.fetchall():
            agg = Agg(int(row[1]), int(row[2]), int(row[3] or 0), int(row[4] or 0))
            for i in range(len(limits)):
                base_col = 5 + 3 * i
                agg.over.append(Over(int(row[base_col] or 0), int(row[base_col + 1] or 0),
                                     int(row[base_col + 2] or 0)))
            key = row[0]
            if by == "urban":
                key = bool(key)
            out[key] = agg
    return out


def outstanding_at(caisse_ids, dates: list[date], by: str = "none") -> dict[date, dict]:
    """{as_of: {key: outstanding}} for several dates, without the instalments (yields and
    ratios need only the gross portfolio). One statement per date."""
    kinds = ",".join(f"'{k}'" for k in REPAID_KINDS)
    ids = _ids(caisse_ids)
    # Only fixed expressions and integer ids are formatted in; dates go as parameters.
    sql = f"""
SELECT k, SUM(outstanding) FROM (
  SELECT {key_sql(by)} AS k, l.principal - COALESCE((
    SELECT SUM(t.principal) FROM credit_loantransaction t
    WHERE t.loan_id = l.id AND t.value_date <= %(d)s AND t.reversed = %(f)s
      AND t.kind IN ({kinds})), 0) AS outstanding
  FROM credit_loan l{joins_for(by)}
  WHERE l.caisse_id IN ({ids}) AND l.disbursed_on IS NOT NULL AND l.disbursed_on <= %(d)s
    AND (l.closed_on IS NULL OR l.closed_on > %(d)s)
    AND (l.written_off_on IS NULL OR l.written_off_on > %(d)s)
) x WHERE outstanding > 0 GROUP BY k
"""  # noqa: S608
    out = {}
    with connection.cursor() as cur:
        for d in dates:
            cur.execute(sql, {"d": d, "f": False})
            out[d] = {row[0]: int(row[1] or 0) for row in cur.fetchall()}
    return out


def portfolio_series(caisse_ids, points: list[tuple[date, list[date]]]) -> dict[date, Agg]:
    """`portfolio(caisse_ids, on, "none", limits)` for several (on, limits) at once: {on: Agg}
    (an empty Agg where no loan is in the portfolio).

    Same definitions, one statement: each loan's transactions, instalments and reschedulings
    are read once and summed per date with CASE columns, instead of once per date (the
    dashboard's PAR trend asked twelve times for nearly the same rows)."""
    if not points:
        return {}
    kinds = ",".join(f"'{k}'" for k in REPAID_KINDS)
    ids = _ids(caisse_ids)
    params: dict = {"f": False, "dmin": min(on for on, _l in points),
                    "dmax": max(on for on, _l in points)}
    ver, repaid, pledged, late, per_loan, out = [], [], [], [], [], []
    for k, (on, limits) in enumerate(points):
        d = f"%(d{k})s"
        params[f"d{k}"] = on
        ver.append(f"MAX(CASE WHEN r.\"on\" <= {d} THEN r.to_version END) AS v{k}")
        repaid.append(f"SUM(CASE WHEN t.value_date <= {d} THEN t.principal ELSE 0 END) AS p{k}, "
                      f"SUM(CASE WHEN t.value_date <= {d} AND t.kind = 'guarantee' "
                      f"THEN t.amount ELSE 0 END) AS g{k}")
        pledged.append(f"SUM(CASE WHEN g.released_on IS NULL OR g.released_on > {d} "
                       f"THEN g.amount ELSE 0 END) AS a{k}")
        late.append(f"MIN(CASE WHEN i.version = COALESCE(ver.v{k}, 1) AND i.due_on < {d} "
                    f"AND (i.paid_on IS NULL OR i.paid_on > {d}) THEN i.due_on END) AS o{k}")
        outstanding = f"(inport.principal - COALESCE(repaid.p{k}, 0))"
        base = (f"({outstanding} - (inport.compulsory_savings - COALESCE(repaid.g{k}, 0)) "
                f"- COALESCE(pledged.a{k}, 0))")
        # In the portfolio at this date, with something outstanding: portfolio()'s filters.
        counted = (f"inport.disbursed_on <= {d} AND (inport.closed_on IS NULL OR "
                   f"inport.closed_on > {d}) AND (inport.written_off_on IS NULL OR "
                   f"inport.written_off_on > {d}) AND {outstanding} > 0")
        per_loan.append(f"CASE WHEN {counted} THEN 1 ELSE 0 END AS c{k}, "
                        f"{outstanding} AS out{k}, "
                        f"CASE WHEN {base} > 0 THEN {base} ELSE 0 END AS base{k}, late.o{k} AS o{k}")
        cols = [f"SUM(c{k})", f"COUNT(DISTINCT CASE WHEN c{k} = 1 THEN person_id END)",
                f"SUM(CASE WHEN c{k} = 1 THEN out{k} ELSE 0 END)",
                f"SUM(CASE WHEN c{k} = 1 THEN base{k} ELSE 0 END)"]
        for j, limit in enumerate(limits):
            params[f"l{k}_{j}"] = limit
            cond = f"c{k} = 1 AND o{k} < %(l{k}_{j})s"
            cols += [f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)",
                     f"SUM(CASE WHEN {cond} THEN out{k} ELSE 0 END)",
                     f"SUM(CASE WHEN {cond} THEN base{k} ELSE 0 END)"]
        out.append(", ".join(cols))
    # Only fixed expressions and integer ids are formatted in; dates go as parameters.
    sql = f"""
WITH inport AS MATERIALIZED (
  SELECT l.id, l.person_id, l.principal, l.compulsory_savings, l.disbursed_on, l.closed_on,
         l.written_off_on
  FROM credit_loan l
  WHERE l.caisse_id IN ({ids}) AND l.disbursed_on IS NOT NULL AND l.disbursed_on <= %(dmax)s
    AND (l.closed_on IS NULL OR l.closed_on > %(dmin)s)
    AND (l.written_off_on IS NULL OR l.written_off_on > %(dmin)s)
),
ver AS (
  SELECT r.loan_id, {", ".join(ver)} FROM credit_rescheduling r
  JOIN inport ON inport.id = r.loan_id WHERE r."on" <= %(dmax)s GROUP BY r.loan_id
),
repaid AS (
  SELECT t.loan_id, {", ".join(repaid)}
  FROM credit_loantransaction t JOIN inport ON inport.id = t.loan_id
  WHERE t.value_date <= %(dmax)s AND t.reversed = %(f)s AND t.kind IN ({kinds})
  GROUP BY t.loan_id
),
pledged AS (
  SELECT g.loan_id, {", ".join(pledged)} FROM credit_guarantor g
  JOIN inport ON inport.id = g.loan_id GROUP BY g.loan_id
),
late AS (
  SELECT i.loan_id, {", ".join(late)}
  FROM inport JOIN credit_installment i ON i.loan_id = inport.id
  LEFT JOIN ver ON ver.loan_id = inport.id
  WHERE i.due_on < %(dmax)s
  GROUP BY i.loan_id
),
loans AS MATERIALIZED (
  SELECT inport.person_id, {", ".join(per_loan)}
  FROM inport
  LEFT JOIN repaid ON repaid.loan_id = inport.id
  LEFT JOIN pledged ON pledged.loan_id = inport.id
  LEFT JOIN late ON late.loan_id = inport.id
)
SELECT {", ".join(out)} FROM loans
"""  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    result: dict[date, Agg] = {}
    at = 0
    for on, limits in points:
        agg = Agg(int(row[at] or 0), int(row[at + 1] or 0), int(row[at + 2] or 0),
                  int(row[at + 3] or 0))
        at += 4
        for _j in limits:
            agg.over.append(Over(int(row[at] or 0), int(row[at + 1] or 0), int(row[at + 2] or 0)))
            at += 3
        result[on] = agg
    return result


# --- cached points --------------------------------------------------------------------------
#
# A figure "as of" a past date changes only when history before that date changes. In credit
# that history is append-only: a disbursement, repayment, guarantee cover, payoff or write-off
# is a new loan transaction dated on its value date (the instalments' paid_on and the loan's
# closing and write-off dates move with it); a reversal is a new transaction that flags the
# original; a rescheduling and a guarantor are new rows. So a point computed when the newest
# ids were (T, R, G) still holds while no transaction after T is dated on or before it (nor
# reverses one that is), no rescheduling after R is dated on or before it, and no guarantor
# after G is for a loan disbursed by then. That check reads only the rows added since, by
# primary key; the day's repayments, dated today, leave every past month end valid.
#
# On PostgreSQL an id is taken at INSERT and its transaction may commit after a later id was
# read as the mark: the check also rereads the rows of the last _MARGIN ids created within
# _LATE of the mark, in case one committed late.

_CACHE_PREFIX = "jigi:reports:point:"
_MARGIN = 10_000
_LATE = timedelta(minutes=5)

Mark = tuple[int, Any, int, int, datetime]


def _watermark() -> Mark:
    """The newest loan transaction (id and creation time: a database restored or rolled back
    reuses ids), rescheduling and guarantor ids, and when the mark was read."""
    with connection.cursor() as cur:
        cur.execute("SELECT t.id, t.created_at, (SELECT MAX(id) FROM credit_rescheduling), "
                    "(SELECT MAX(id) FROM credit_guarantor) FROM credit_loantransaction t "
                    "WHERE t.id = (SELECT MAX(id) FROM credit_loantransaction)")
        row = cur.fetchone() or (0, None, None, None)
    return int(row[0]), str(row[1]), int(row[2] or 0), int(row[3] or 0), timezone.now()


def _changed_since(mark: Mark) -> date | None:
    """The earliest as-of date that rows added after `mark` can change (None: none; date.min
    when the rows the mark names are gone: another history). A guarantor counts from its
    loan's disbursement (a pledge has no date of its own; a loan disbursed later brings its
    own transaction)."""
    tx, created, resched, guarantor, at = mark
    late = connection.ops.adapt_datetimefield_value(at - _LATE)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT MIN(CASE WHEN o.value_date < t.value_date THEN o.value_date "
            "ELSE t.value_date END) FROM credit_loantransaction t "
            "LEFT JOIN credit_loantransaction o ON o.id = t.reversal_of_id "
            "WHERE t.id > %s AND (t.id > %s OR t.created_at > %s)), "
            "(SELECT MIN(r.\"on\") FROM credit_rescheduling r "
            "WHERE r.id > %s AND (r.id > %s OR r.created_at > %s)), "
            "(SELECT MIN(l.disbursed_on) FROM credit_guarantor g "
            "JOIN credit_loan l ON l.id = g.loan_id WHERE g.id > %s), "
            "(SELECT t.created_at FROM credit_loantransaction t WHERE t.id = %s), "
            "(SELECT MAX(id) FROM credit_rescheduling), (SELECT MAX(id) FROM credit_guarantor)",
            [tx - _MARGIN, tx, late, resched - _MARGIN, resched, late, guarantor - _MARGIN, tx])
        *dates, still, max_resched, max_guarantor = cur.fetchone()
    if (tx and str(still) != created) or (max_resched or 0) < resched \
            or (max_guarantor or 0) < guarantor:
        return date.min
    return min((_as_date(d) for d in dates if d is not None), default=None)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def portfolio_series_cached(caisse_ids, points: list[tuple[date, list[date]]]
                            ) -> dict[date, Agg]:
    """portfolio_series with each point kept in Django's cache while still valid (see above):
    the dashboard's trend recomputes only the points history has moved under, in one
    statement."""
    from django.core.cache import cache

    mark = _watermark()
    caisses = hashlib.sha1(_ids(sorted(caisse_ids)).encode()).hexdigest()  # noqa: S324 (a key)
    keys = {on: f"{_CACHE_PREFIX}{connection.alias}:{caisses}:{on}:"
                f"{','.join(str(x) for x in limits)}" for on, limits in points}
    stored = cache.get_many(list(keys.values()))
    out: dict[date, Agg] = {}
    missing = []
    since: dict[Mark, date | None] = {}
    for on, limits in points:
        hit = stored.get(keys[on])
        if hit is not None:
            hit_mark, agg = hit
            if hit_mark not in since:
                since[hit_mark] = _changed_since(hit_mark)
            first = since[hit_mark]
            if first is None or on < first:
                out[on] = agg
                continue
        missing.append((on, limits))
    out.update(portfolio_series(caisse_ids, missing))
    # Points still valid are stored again under the new mark: the next check starts there.
    cache.set_many({keys[on]: (mark, agg) for on, agg in out.items()}, timeout=None)
    return {on: out[on] for on, _limits in points}
