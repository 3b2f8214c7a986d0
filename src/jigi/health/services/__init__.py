"""Writes of the UTM coverage side (mutuals, packages, enrolment, contributions, providers).

Every public service is keyword-only, takes `acting_user`, checks the user's scope and role,
validates its input (ApplicationError with a stable code and field messages), runs in its own
durable transaction and writes an audit row. The claims side lives in claims.py, batches.py,
reinsurance.py and prevention.py (imported by their own modules).
"""

from jigi.health.services.contributions import (
    ArrearsRun,
    OrderRun,
    Payment,
    arrears_run,
    contribution_pay,
    contribution_reverse,
    contributions_recognise,
    standing_order_create,
    standing_order_stop,
    standing_orders_run,
)
from jigi.health.services.enrolment import (
    Enrolment,
    GroupResult,
    Renewal,
    Skipped,
    beneficiary_add,
    beneficiary_remove,
    coverage_end,
    coverage_enrol,
    coverage_renew,
    group_agreement_create,
    group_enrol,
)
from jigi.health.services.mutuals import (
    mutual_profile_save,
    package_create,
    package_update,
)
from jigi.health.services.providers import (
    convention_create,
    convention_update,
    provider_create,
    provider_staff_link,
    provider_staff_unlink,
    provider_update,
    tariff_item_save,
)

__all__ = [
    "ArrearsRun", "Enrolment", "GroupResult", "OrderRun", "Payment", "Renewal", "Skipped",
    "arrears_run", "beneficiary_add", "beneficiary_remove", "contribution_pay",
    "contribution_reverse", "contributions_recognise", "convention_create", "convention_update",
    "coverage_end", "coverage_enrol", "coverage_renew", "group_agreement_create", "group_enrol",
    "mutual_profile_save", "package_create", "package_update", "provider_create",
    "provider_staff_link", "provider_staff_unlink", "provider_update", "standing_order_create",
    "standing_order_stop", "standing_orders_run", "tariff_item_save",
]
