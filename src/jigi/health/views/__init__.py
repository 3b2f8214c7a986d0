"""UTM health screens (htmx, French first). Thin: read the form, call the service, render.

A refused action (`ApplicationError`) re-renders its form with the messages next to the fields
and the service's status (422 for bad input, 403/409 for a refused decision): nothing is
written. Money-moving forms (a contribution, its reversal, a payment batch's steps) carry an
idempotency key generated when the form is drawn; a claim carries one too (claim_submit keys
the claim by it). Every fetch goes through the scoped selectors: another mutual's data is a
404; a Kondo teller or an MTC organiser gets 403/404 on every /health/ page.
"""

from jigi.health.views.batches import batch_action, batch_detail, batch_list
from jigi.health.views.claims import (
    adjudicate,
    claim_approve,
    claim_detail,
    claim_list,
    claim_new,
    claim_reject,
    claim_review,
    queue,
    tariff_options,
)
from jigi.health.views.coverage import (
    contribution_reverse,
    coverage_detail,
    family_change,
    receipt,
    standing_order,
)
from jigi.health.views.eligibility import eligibility
from jigi.health.views.indicators import indicators, ramu_report
from jigi.health.views.mutuals import enrol, enrol_start, home, mutual_detail
from jigi.health.views.prevention import session_attendance, session_detail, session_list
from jigi.health.views.reinsurance import (
    reinsurance_home,
    simulation,
    statement_detail,
    treaty_detail,
    treaty_new,
    treaty_settle,
)

__all__ = [
    "adjudicate", "batch_action", "batch_detail", "batch_list", "claim_approve",
    "claim_detail", "claim_list", "claim_new", "claim_reject", "claim_review",
    "contribution_reverse", "coverage_detail", "eligibility", "enrol", "enrol_start",
    "family_change", "home", "indicators", "mutual_detail", "queue", "ramu_report", "receipt",
    "reinsurance_home", "session_attendance", "session_detail", "session_list", "simulation",
    "standing_order", "statement_detail", "tariff_options", "treaty_detail", "treaty_new",
    "treaty_settle",
]
