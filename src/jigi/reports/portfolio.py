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

from dataclasses import dataclass, field
from datetime import date

from django.db import connection

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
