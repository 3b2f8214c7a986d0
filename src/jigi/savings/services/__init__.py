"""Savings and shares services (writes). Each public function is one durable transaction:
see `_common` for the shared rules, and the modules below for each area."""

from jigi.savings.services._common import (
    COUNTER_ROLES,
    MANAGER_ROLES,
    MAX_OPERATION,
    Operation,
    clean_amount,
    setting,
)
from jigi.savings.services.accounts import (
    accounts_mark_dormant,
    available_balance,
    held_amount,
    hold_place,
    hold_release,
    is_kondo_member,
    product_override_set,
    product_update,
    savings_account_block,
    savings_account_close,
    savings_account_open,
    savings_account_reactivate,
    savings_account_unblock,
)
from jigi.savings.services.cash import (
    caisse_day_close,
    caisse_day_open,
    clean_count,
    drawer_close,
    drawer_difference_acknowledge,
    drawer_open,
)
from jigi.savings.services.counter import (
    guarantee_apply_to_loan,
    guarantee_release,
    savings_deposit,
    savings_transaction_approve,
    savings_transaction_reject,
    savings_transaction_reverse,
    savings_transfer,
    savings_withdraw,
    term_deposits_mature,
)
from jigi.savings.services.interest_run import InterestRun, interest_post_caisse
from jigi.savings.services.shares import (
    ShareOperation,
    share_product_of,
    share_purchase,
    share_redeem,
)

__all__ = [
    "COUNTER_ROLES", "MANAGER_ROLES", "MAX_OPERATION", "InterestRun", "Operation",
    "ShareOperation", "accounts_mark_dormant", "available_balance", "caisse_day_close",
    "caisse_day_open", "clean_amount", "clean_count", "drawer_close",
    "drawer_difference_acknowledge", "drawer_open", "guarantee_apply_to_loan",
    "guarantee_release", "held_amount", "hold_place", "hold_release", "interest_post_caisse",
    "is_kondo_member", "product_override_set", "product_update", "savings_account_block",
    "savings_account_close", "savings_account_open", "savings_account_reactivate",
    "savings_account_unblock", "savings_deposit", "savings_transaction_approve",
    "savings_transaction_reject", "savings_transaction_reverse", "savings_transfer",
    "savings_withdraw", "setting", "share_product_of", "share_purchase", "share_redeem",
    "term_deposits_mature",
]
