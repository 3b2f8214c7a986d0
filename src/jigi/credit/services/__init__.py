"""Credit services (writes). Import from here: `from jigi.credit import services`."""

from jigi.credit.services.applications import (
    Offer,
    approval_role,
    eligibility,
    loan_apply,
    loan_appraise,
    loan_approve,
    loan_reject,
    loan_terms_change,
    offer_for,
    propose_schedules,
    terms_for,
)
from jigi.credit.services.groups import (
    collection_sheet,
    collection_sheet_submit,
    group_create,
    group_member_add,
    group_member_remove,
    next_meeting,
)
from jigi.credit.services.operations import (
    LoanOperation,
    group_disburse,
    loan_cover_from_guarantee,
    loan_disburse,
    loan_recover,
    loan_repay,
    loan_reschedule,
    loan_transaction_reverse,
    loan_write_off,
    payoff_quote,
)
from jigi.credit.services.products import check_usury, product_save

__all__ = [
    "LoanOperation", "Offer", "approval_role", "check_usury", "collection_sheet",
    "collection_sheet_submit", "eligibility", "group_create", "group_disburse",
    "group_member_add", "group_member_remove", "loan_appraise", "loan_apply", "loan_approve",
    "loan_cover_from_guarantee", "loan_disburse", "loan_recover", "loan_reject",
    "loan_repay", "loan_reschedule", "loan_terms_change", "loan_transaction_reverse",
    "loan_write_off", "next_meeting", "offer_for", "payoff_quote", "product_save",
    "propose_schedules", "terms_for",
]
